package moderation

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/page"
)

// LogEntry is one moderator or brand action, as it happened: who, what, on
// what, why, and the target's state before and after. Entries are only
// ever inserted; no API edits or deletes them.
type LogEntry struct {
	ID         bson.ObjectID `bson:"_id"`
	ActorID    bson.ObjectID `bson:"actorId"` // zero: the brand's backend
	Action     string        `bson:"action"`
	TargetKind string        `bson:"targetKind"` // one of TargetKinds
	TargetID   string        `bson:"targetId"`
	SpaceID    bson.ObjectID `bson:"spaceId,omitempty"`
	Reason     string        `bson:"reason,omitempty"`
	Before     string        `bson:"before,omitempty"`
	After      string        `bson:"after,omitempty"`
	At         time.Time     `bson:"at"`
}

// What an audit log entry is about.
const (
	TargetPost        = "POST"
	TargetThread      = "THREAD"
	TargetMember      = "MEMBER"
	TargetSpace       = "SPACE"
	TargetWatchedWord = "WATCHED_WORD"
)

// TargetKinds lists every LogEntry.TargetKind; the API maps each to a type.
var TargetKinds = []string{TargetPost, TargetThread, TargetMember, TargetSpace, TargetWatchedWord}

// Log appends e to the audit log.
func (s *Store) Log(ctx context.Context, e *LogEntry) error {
	if e.ID.IsZero() {
		e.ID = bson.NewObjectID()
	}
	_, err := s.log.InsertOne(ctx, e)
	return err
}

// LogPage pages the log newest first, before id before (zero: the newest),
// of one space when spaceID is set.
func (s *Store) LogPage(ctx context.Context, spaceID, before bson.ObjectID, limit int) ([]*LogEntry, bool, error) {
	filter := bson.D{}
	sort := bson.D{{Key: "_id", Value: -1}}
	if !spaceID.IsZero() {
		filter = bson.D{{Key: "spaceId", Value: spaceID}}
		sort = bson.D{{Key: "spaceId", Value: 1}, {Key: "_id", Value: -1}}
	}
	if !before.IsZero() {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	return page.Find[*LogEntry](ctx, s.log, filter, options.Find().SetSort(sort), limit)
}

// SanctionKind is what a member may no longer do.
type SanctionKind string

const (
	Silence SanctionKind = "SILENCE" // no posting, reading still works
	Suspend SanctionKind = "SUSPEND" // no posting, no reading of members-only spaces
)

// Sanction keeps a member from the community until Until; in one space, or
// everywhere when SpaceID is zero. One per (member, space, kind).
type Sanction struct {
	ID       bson.ObjectID `bson:"_id"`
	MemberID bson.ObjectID `bson:"memberId"`
	SpaceID  bson.ObjectID `bson:"spaceId"`
	Kind     SanctionKind  `bson:"kind"`
	Until    time.Time     `bson:"until"`
	Reason   string        `bson:"reason"`
	By       bson.ObjectID `bson:"by"`
	At       time.Time     `bson:"at"`
}

// Sanctioned refuses a member what a sanction forbids: FORBIDDEN, saying
// until when; the API sends Until as extensions.until.
type Sanctioned struct {
	Kind   SanctionKind
	Until  time.Time
	Reason string
}

func (e *Sanctioned) Error() string {
	what := "silenced"
	if e.Kind == Suspend {
		what = "suspended from the community"
	}
	msg := fmt.Sprintf("you are %s until %s", what, e.Until.UTC().Format(time.RFC3339))
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// ErrorCode is FORBIDDEN.
func (e *Sanctioned) ErrorCode() fault.Code { return fault.Forbidden }

// Extensions are what the API adds to the error: until when.
func (e *Sanctioned) Extensions() map[string]any {
	return map[string]any{"until": e.Until.UTC().Format(time.RFC3339), "sanction": string(e.Kind)}
}

// Sanction sets a member's sanction of kind in a space (zero: everywhere)
// until until, replacing an earlier one.
func (s *Store) Sanction(ctx context.Context, sn *Sanction) error {
	sn.ID = bson.NewObjectID()
	_, err := s.sanctions.UpdateOne(ctx, bson.D{{Key: "memberId", Value: sn.MemberID}, {Key: "spaceId", Value: sn.SpaceID}, {Key: "kind", Value: sn.Kind}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: sn.Until}, {Key: "reason", Value: sn.Reason}, {Key: "by", Value: sn.By}, {Key: "at", Value: sn.At}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "_id", Value: sn.ID}}}}, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return s.Sanction(ctx, sn)
	}
	return err
}

// maxInForce bounds what InForce lists: one per kind and space.
const maxInForce = 100

// InForce returns every sanction of the member in force at now, in any
// space or everywhere, the one lasting longest first (at most 100).
func (s *Store) InForce(ctx context.Context, memberID bson.ObjectID, now time.Time) ([]*Sanction, error) {
	cur, err := s.sanctions.Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "until", Value: bson.D{{Key: "$gt", Value: now}}}},
		options.Find().SetSort(bson.D{{Key: "until", Value: -1}}).SetLimit(maxInForce))
	if err != nil {
		return nil, err
	}
	var out []*Sanction
	return out, cur.All(ctx, &out)
}

// Active returns the member's sanctions in force at now in spaceID or
// everywhere, the one lasting longest first.
func (s *Store) Active(ctx context.Context, memberID, spaceID bson.ObjectID, now time.Time) ([]*Sanction, error) {
	spaces := bson.A{bson.ObjectID{}}
	if !spaceID.IsZero() {
		spaces = append(spaces, spaceID)
	}
	cur, err := s.sanctions.Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "spaceId", Value: bson.D{{Key: "$in", Value: spaces}}},
		{Key: "until", Value: bson.D{{Key: "$gt", Value: now}}}}, options.Find().SetSort(bson.D{{Key: "until", Value: -1}}))
	if err != nil {
		return nil, err
	}
	var out []*Sanction
	return out, cur.All(ctx, &out)
}

// WordAction is what a watched word does to a post that contains it.
type WordAction string

const (
	WordBlock           WordAction = "BLOCK"            // refused, saying which word
	WordFlag            WordAction = "FLAG"             // posted, and put in the review queue
	WordRequireApproval WordAction = "REQUIRE_APPROVAL" // held until a moderator approves
)

// WatchedWord is a word or phrase the brand watches for.
type WatchedWord struct {
	ID     bson.ObjectID `bson:"_id"`
	Word   string        `bson:"word"` // lower case
	Action WordAction    `bson:"action"`
}

// MaxWords bounds the list, which every post is checked against.
const MaxWords = 500

// ErrTooManyWords: the list is full.
var ErrTooManyWords = fault.New(fault.Conflict, "the watched word list is full (500)")

// MaxWord bounds a watched word or phrase, in characters.
const MaxWord = 60

// AddWord adds or changes a watched word: one line of the human text
// policy (input.Text), 1 to MaxWord characters, stored in lower case.
func (s *Store) AddWord(ctx context.Context, word string, action WordAction) (*WatchedWord, error) {
	word, err := input.Line("word", word, MaxWord)
	if err != nil {
		return nil, err
	}
	word = strings.ToLower(word)
	if action != WordBlock && action != WordFlag && action != WordRequireApproval {
		return nil, input.Errorf("action", "must be BLOCK, FLAG or REQUIRE_APPROVAL")
	}
	n, err := s.words.CountDocuments(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	if n >= MaxWords {
		return nil, ErrTooManyWords
	}
	var w WatchedWord
	err = s.words.FindOneAndUpdate(ctx, bson.D{{Key: "word", Value: word}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "action", Value: action}}}, {Key: "$setOnInsert", Value: bson.D{{Key: "_id", Value: bson.NewObjectID()}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&w)
	return &w, err
}

// RemoveWord removes a watched word.
func (s *Store) RemoveWord(ctx context.Context, id bson.ObjectID) (*WatchedWord, error) {
	var w WatchedWord
	err := s.words.FindOneAndDelete(ctx, byID(id)).Decode(&w)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrWordNotFound
	}
	return &w, err
}

// Word returns one watched word, ErrWordNotFound when there is none.
func (s *Store) Word(ctx context.Context, id bson.ObjectID) (*WatchedWord, error) {
	var w WatchedWord
	err := s.words.FindOne(ctx, byID(id)).Decode(&w)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrWordNotFound
	}
	return &w, err
}

// Words lists the watched words (at most MaxWords).
func (s *Store) Words(ctx context.Context) ([]*WatchedWord, error) {
	cur, err := s.words.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "word", Value: 1}}).SetLimit(MaxWords))
	if err != nil {
		return nil, err
	}
	var out []*WatchedWord
	return out, cur.All(ctx, &out)
}

// Match returns the strongest watched word in text (BLOCK over
// REQUIRE_APPROVAL over FLAG), nil for none. Words match whole words,
// case-insensitively.
func Match(words []*WatchedWord, text string) *WatchedWord {
	lower := strings.ToLower(text)
	rank := map[WordAction]int{WordFlag: 1, WordRequireApproval: 2, WordBlock: 3}
	var best *WatchedWord
	for _, w := range words {
		if !strings.Contains(lower, w.Word) {
			continue
		}
		if ok, _ := regexp.MatchString(`(^|[^\p{L}\p{N}])`+regexp.QuoteMeta(w.Word)+`($|[^\p{L}\p{N}])`, lower); ok && (best == nil || rank[w.Action] > rank[best.Action]) {
			best = w
		}
	}
	return best
}

// Lift ends the member's sanction of kind in spaceID (zero: everywhere) at
// now if it is in force, in one conditional update; it returns the sanction
// as it was (Until its old end), or nil when none was in force.
func (s *Store) Lift(ctx context.Context, memberID, spaceID bson.ObjectID, kind SanctionKind, now time.Time) (*Sanction, error) {
	var was Sanction
	err := s.sanctions.FindOneAndUpdate(ctx,
		bson.D{{Key: "memberId", Value: memberID}, {Key: "spaceId", Value: spaceID}, {Key: "kind", Value: kind}, {Key: "until", Value: bson.D{{Key: "$gt", Value: now}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: now}}}}).Decode(&was)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &was, nil
}
