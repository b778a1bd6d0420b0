// Package holdout draws the members a campaign or offer leaves out (its
// holdout group) and records, per member and send, which group each was
// in, so that analytics can compare those messaged with those held out.
// It owns the collection campaign_assignments.
package holdout

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/mongoindex"
)

// MaxPercent bounds a holdout: at most half the members are left out.
const MaxPercent = 50

// Draw reports whether memberID falls in campaign's holdout at percent
// (0 to MaxPercent). It is a pure function of the member and the campaign
// key (the first 8 bytes of SHA-256 of "campaign\x00memberHex", modulo
// 10,000, below percent × 100), so every instance and every restart
// draws the same, and a member is held out of a campaign each time it runs.
func Draw(memberID bson.ObjectID, campaign string, percent int) bool {
	if percent <= 0 {
		return false
	}
	h := sha256.Sum256([]byte(campaign + "\x00" + memberID.Hex()))
	return binary.BigEndian.Uint64(h[:8])%10_000 < uint64(min(percent, MaxPercent))*100
}

// Group is the side of the comparison a member was on for one send.
type Group string

const (
	// Treated members were sent the message (or, if they muted its
	// category, would have been: the comparison is by intent to treat).
	Treated Group = "TREATED"
	// Held members were held out: sent nothing.
	Held Group = "HOLDOUT"
)

// Assignment is one member's group for one send of a campaign.
type Assignment struct {
	// ID is the send's key and the member: "key|memberHex".
	ID       string        `bson:"_id"`
	Campaign string        `bson:"campaign"`
	Key      string        `bson:"key"` // the send's key: campaign and period
	MemberID bson.ObjectID `bson:"memberId"`
	Group    Group         `bson:"group"`
	At       time.Time     `bson:"at"`
}

// Collection and index names (analytics reads the collection by the index).
const (
	Collection      = "campaign_assignments"
	IndexCampaignAt = "campaign_at"
)

// Store records assignments.
type Store struct{ c *mongo.Collection }

// New returns the assignments of db.
func New(db *mongo.Database) *Store { return &Store{c: db.Collection(Collection)} }

// EnsureIndexes creates the index analytics reads a campaign's
// assignments by; safe to repeat.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	return mongoindex.Ensure(ctx, s.c, mongo.IndexModel{
		Keys:    bson.D{{Key: "campaign", Value: 1}, {Key: "at", Value: 1}, {Key: "_id", Value: 1}},
		Options: options.Index().SetName(IndexCampaignAt),
	})
}

// Assign records memberID's group for the send keyed key of campaign and
// returns it: drawn at percent the first time (one keyed insert), and the
// recorded group ever after, so a change of percent or a rerun never
// messages a member already held out of that send.
func (s *Store) Assign(ctx context.Context, campaign, key string, memberID bson.ObjectID, percent int, at time.Time) (Group, error) {
	a := Assignment{ID: key + "|" + memberID.Hex(), Campaign: campaign, Key: key, MemberID: memberID, Group: Treated, At: at.UTC().Truncate(time.Millisecond)}
	if Draw(memberID, campaign, percent) {
		a.Group = Held
	}
	_, err := s.c.InsertOne(ctx, a)
	if err == nil {
		return a.Group, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return "", fmt.Errorf("holdout: %w", err)
	}
	var prior Assignment
	if err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: a.ID}}).Decode(&prior); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return "", fmt.Errorf("holdout: assignment %s vanished", a.ID)
		}
		return "", fmt.Errorf("holdout: %w", err)
	}
	return prior.Group, nil
}

// AssignAll records the group of each of memberIDs for the send keyed key
// of campaign, as AssignEach does.
func (s *Store) AssignAll(ctx context.Context, campaign, key string, memberIDs []bson.ObjectID, percent int, at time.Time) (map[bson.ObjectID]Group, error) {
	sends := make([]Send, len(memberIDs))
	for i, id := range memberIDs {
		sends[i] = Send{Key: key, MemberID: id}
	}
	gs, err := s.AssignEach(ctx, campaign, sends, percent, at)
	if err != nil {
		return nil, err
	}
	groups := make(map[bson.ObjectID]Group, len(memberIDs))
	for i, id := range memberIDs {
		groups[id] = gs[i]
	}
	return groups, nil
}

// Send is one member's send of a campaign: its key (the campaign and
// period) and the member.
type Send struct {
	Key      string
	MemberID bson.ObjectID
}

// AssignEach records the group of each of sends of campaign, as Assign does
// for one, in two round trips for the batch: one unordered insert of the
// draws, and one read of the sends whose group was recorded before (their
// recorded group stands). groups[i] is sends[i]'s.
func (s *Store) AssignEach(ctx context.Context, campaign string, sends []Send, percent int, at time.Time) ([]Group, error) {
	groups := make([]Group, len(sends))
	if len(sends) == 0 {
		return groups, nil
	}
	docs := make([]any, len(sends))
	for i, x := range sends {
		a := Assignment{ID: x.Key + "|" + x.MemberID.Hex(), Campaign: campaign, Key: x.Key, MemberID: x.MemberID, Group: Treated, At: at.UTC().Truncate(time.Millisecond)}
		if Draw(x.MemberID, campaign, percent) {
			a.Group = Held
		}
		docs[i], groups[i] = a, a.Group
	}
	_, err := s.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	if err == nil {
		return groups, nil
	}
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return nil, fmt.Errorf("holdout: %w", err)
	}
	prior := map[string][]int{} // an assignment id recorded before → its sends
	var ids []string
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we.WriteError) {
			return nil, fmt.Errorf("holdout: %w", err)
		}
		id := docs[we.Index].(Assignment).ID
		if prior[id] == nil {
			ids = append(ids, id)
		}
		prior[id] = append(prior[id], we.Index)
	}
	cur, err := s.c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("holdout: %w", err)
	}
	var recorded []Assignment
	if err := cur.All(ctx, &recorded); err != nil {
		return nil, fmt.Errorf("holdout: %w", err)
	}
	if len(recorded) != len(ids) {
		return nil, fmt.Errorf("holdout: %d of %d recorded assignments vanished", len(ids)-len(recorded), len(ids))
	}
	for _, a := range recorded {
		for _, i := range prior[a.ID] {
			groups[i] = a.Group
		}
	}
	return groups, nil
}

// Each streams campaign's assignments made in [from, to), oldest first.
func (s *Store) Each(ctx context.Context, campaign string, from, to time.Time, fn func(*Assignment) error) (err error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "campaign", Value: campaign}, {Key: "at", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}}},
		options.Find().SetSort(bson.D{{Key: "campaign", Value: 1}, {Key: "at", Value: 1}, {Key: "_id", Value: 1}}).SetBatchSize(2000))
	if err != nil {
		return fmt.Errorf("holdout: %w", err)
	}
	defer func() { err = errors.Join(err, cur.Close(ctx)) }()
	for cur.Next(ctx) {
		var a Assignment
		if err := cur.Decode(&a); err != nil {
			return fmt.Errorf("holdout: %w", err)
		}
		if err := fn(&a); err != nil {
			return err
		}
	}
	return cur.Err()
}
