package account

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/texts"
)

// ExportTTL is how long a ready export can be downloaded.
const ExportTTL = 24 * time.Hour

// MaxExportBytes bounds an export's JSON (it is kept in one document).
const MaxExportBytes = 12 << 20

// ExportStatus is where an export is.
type ExportStatus string

const (
	ExportPending ExportStatus = "PENDING"
	ExportReady   ExportStatus = "READY"
	ExportFailed  ExportStatus = "FAILED"
)

// Export is one data export of a member, kept in "data_exports" until it
// expires.
type Export struct {
	ID          bson.ObjectID `bson:"_id"`
	MemberID    bson.ObjectID `bson:"memberId"`
	Status      ExportStatus  `bson:"status"`
	RequestedAt time.Time     `bson:"requestedAt"`
	ReadyAt     *time.Time    `bson:"readyAt,omitempty"`
	// ExpiresAt: after it the export is deleted; set once ready.
	ExpiresAt *time.Time `bson:"expiresAt,omitempty"`
	// DownloadURL is where the member downloads it (with their access token).
	DownloadURL string `bson:"downloadUrl,omitempty"`
	Data        []byte `bson:"data,omitempty"`
	Error       string `bson:"error,omitempty"`
}

// Section is one part of an export: a name and what to read for it.
type Section struct {
	Name string
	Read func(ctx context.Context, memberID bson.ObjectID) (json.RawMessage, error)
}

// CollectionSection reads a member's documents in a collection, by the
// field holding their id, as relaxed extended JSON (ids as {"$oid"},
// times as {"$date"}), leaving out the fields in omit (a password hash).
func CollectionSection(name string, c *mongo.Collection, field string, omit ...string) Section {
	return Section{Name: name, Read: func(ctx context.Context, memberID bson.ObjectID) (json.RawMessage, error) {
		opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
		if len(omit) > 0 {
			proj := bson.D{}
			for _, f := range omit {
				proj = append(proj, bson.E{Key: f, Value: 0})
			}
			opts.SetProjection(proj)
		}
		cur, err := c.Find(ctx, bson.D{{Key: field, Value: memberID}}, opts)
		if err != nil {
			return nil, err
		}
		defer func() { _ = cur.Close(ctx) }()
		var buf bytes.Buffer
		buf.WriteByte('[')
		for n := 0; cur.Next(ctx); n++ {
			doc, err := bson.MarshalExtJSON(cur.Current, false, false)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				buf.WriteByte(',')
			}
			buf.Write(doc)
			if buf.Len() > MaxExportBytes {
				return nil, fmt.Errorf("%s: the export is larger than %d bytes", name, MaxExportBytes)
			}
		}
		if err := cur.Err(); err != nil {
			return nil, err
		}
		buf.WriteByte(']')
		return buf.Bytes(), nil
	}}
}

type exportStore struct{ c *mongo.Collection }

const (
	indexExportMember = "member"
	indexExportStatus = "status"
)

func (s exportStore) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "status", Value: 1}}, Options: options.Index().SetName(indexExportMember)},
		// The job's reads: pending ones to build, expired ones to delete.
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "expiresAt", Value: 1}}, Options: options.Index().SetName(indexExportStatus)},
	}
}

// RequestMyData starts an export of everything kept about the member; it
// is built in the background and the member is notified
// (DATA_EXPORT_READY) with a link to download it, valid ExportTTL, for
// them only. While one is pending, asking again returns it.
func (s *Service) RequestMyData(ctx context.Context, memberID bson.ObjectID) (*Export, error) {
	var pending Export
	err := s.exports.c.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "status", Value: ExportPending}},
		options.FindOne().SetProjection(bson.D{{Key: "data", Value: 0}})).Decode(&pending)
	if err == nil {
		return &pending, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	if err := s.quotas.take(ctx, exportPerUser, memberID.Hex(), s.now()); err != nil {
		return nil, err
	}
	e := &Export{ID: bson.NewObjectID(), MemberID: memberID, Status: ExportPending, RequestedAt: s.now()}
	if _, err := s.exports.c.InsertOne(ctx, e); err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
	s.background.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if err := s.build(ctx, e); err != nil {
			// The job picks it up again.
			slog.ErrorContext(ctx, "account: data export", "export", e.ID.Hex(), "err", err)
		}
	})
	return e, nil
}

// build gathers the sections, stores the JSON and notifies the member.
func (s *Service) build(ctx context.Context, e *Export) error {
	out := map[string]json.RawMessage{}
	for _, sec := range s.reads {
		raw, err := sec.Read(ctx, e.MemberID)
		if err != nil {
			return err
		}
		out[sec.Name] = raw
	}
	data, err := json.MarshalIndent(struct {
		MemberID   string                     `json:"memberId"`
		ExportedAt time.Time                  `json:"exportedAt"`
		Sections   map[string]json.RawMessage `json:"sections"`
	}{e.MemberID.Hex(), s.now(), out}, "", "  ")
	if err != nil {
		return err
	}
	now := s.now()
	expires := now.Add(ExportTTL)
	url := s.cfg.DownloadBase + "/exports/" + e.ID.Hex()
	status, errText := ExportReady, ""
	if len(data) > MaxExportBytes {
		status, errText, data = ExportFailed, fmt.Sprintf("larger than %d bytes", MaxExportBytes), nil
	}
	r, err := s.exports.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: e.ID}, {Key: "status", Value: ExportPending}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: status}, {Key: "readyAt", Value: now}, {Key: "expiresAt", Value: expires},
			{Key: "downloadUrl", Value: url}, {Key: "data", Value: data}, {Key: "error", Value: errText}}}})
	if err != nil {
		return err
	}
	if r.ModifiedCount == 0 || status != ExportReady {
		return nil // built by another instance first, or too large
	}
	m, err := s.members.Get(ctx, e.MemberID)
	if err != nil {
		return err
	}
	_, err = s.notify.Send(ctx, inbox.Message{
		MemberID: e.MemberID, Kind: inbox.KindDataExport, Template: texts.DataExportReady, Locale: s.locale(ctx, m),
		Data:     map[string]any{"brand": s.cfg.Brand, "hours": int(ExportTTL.Hours())},
		DeepLink: url, ExpiresAt: &expires, Key: "export:" + e.ID.Hex(),
	})
	return err
}

// BuildPending builds the exports still pending a minute after they were
// asked for (their builder died); it returns how many it built.
func (s *Service) BuildPending(ctx context.Context) (int, error) {
	cur, err := s.exports.c.Find(ctx, bson.D{{Key: "status", Value: ExportPending}, {Key: "requestedAt", Value: bson.D{{Key: "$lt", Value: s.now().Add(-time.Minute)}}}},
		options.Find().SetLimit(20))
	if err != nil {
		return 0, err
	}
	var es []*Export
	if err := cur.All(ctx, &es); err != nil {
		return 0, err
	}
	for i, e := range es {
		if err := s.build(ctx, e); err != nil {
			return i, err
		}
	}
	return len(es), nil
}

// Download returns a ready, unexpired export of the member p, as JSON;
// anyone else's, or one gone, is ErrExportNotFound.
func (s *Service) Download(ctx context.Context, p member.Principal, id bson.ObjectID) ([]byte, error) {
	if p.MemberID.IsZero() {
		return nil, ErrExportNotFound
	}
	var e Export
	err := s.exports.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "memberId", Value: p.MemberID}, {Key: "status", Value: ExportReady}}).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && (e.ExpiresAt == nil || !s.now().Before(*e.ExpiresAt))) {
		return nil, ErrExportNotFound
	}
	if err != nil {
		return nil, err
	}
	return e.Data, nil
}

// Cleanup deletes expired exports and spent quota windows; it returns how
// many exports went.
func (s *Service) Cleanup(ctx context.Context) (int64, error) {
	now := s.now()
	r, err := s.exports.c.DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: now}}}})
	if err != nil {
		return 0, err
	}
	if _, err := s.quotas.prune(ctx, now); err != nil {
		return r.DeletedCount, err
	}
	return r.DeletedCount, nil
}

// EraseMember deletes the member's exports (an eraser of its own data).
func (s *Service) EraseMember(ctx context.Context, memberID bson.ObjectID) error {
	_, err := s.exports.c.DeleteMany(ctx, bson.D{{Key: "memberId", Value: memberID}})
	return err
}

// MaxListedExports bounds Exports: at most exportPerUser.limit a day are made.
const MaxListedExports = 10

// Exports lists the member's exports not yet expired, newest first, at
// most MaxListedExports, without their data.
func (s *Service) Exports(ctx context.Context, memberID bson.ObjectID) ([]*Export, error) {
	cur, err := s.exports.c.Find(ctx, bson.D{{Key: "memberId", Value: memberID}},
		options.Find().SetProjection(bson.D{{Key: "data", Value: 0}}).SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(MaxListedExports))
	if err != nil {
		return nil, err
	}
	var es []*Export
	if err := cur.All(ctx, &es); err != nil {
		return nil, err
	}
	now := s.now()
	live := es[:0]
	for _, e := range es {
		if e.ExpiresAt == nil || now.Before(*e.ExpiresAt) {
			live = append(live, e)
		}
	}
	return live, nil
}
