package ruleset

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
)

var (
	ErrRuleNotFound = fault.New(fault.NotFound, "earning rule not found")
	// ErrRuleChanged is an update made on a version that is no longer the
	// rule's current one: read it again.
	ErrRuleChanged = fault.New(fault.Conflict, "the rule changed since the version this update was made on; read it again")
	// ErrArchived refuses a change to an archived rule.
	ErrArchived = fault.New(fault.Conflict, "the rule is archived; write a new one")
)

// Store keeps the rules (the current version of each), every version they
// had, the rule set's version counter and the limits' claims.
type Store struct {
	rules, versions, set *mongo.Collection
	claims, slots, spent *mongo.Collection
	now                  func() time.Time
}

// NewStore returns the rules kept in db; now is the clock.
func NewStore(db *mongo.Database, now func() time.Time) *Store {
	return &Store{rules: db.Collection("earning_rules"), versions: db.Collection("earning_rule_versions"), set: db.Collection("earning_rule_set"),
		claims: db.Collection("earning_rule_claims"), slots: db.Collection("earning_rule_slots"), spent: db.Collection("earning_rule_budgets"), now: func() time.Time { return now().UTC().Truncate(time.Millisecond) }}
}

const (
	IndexExclusive = "exclusiveSlot_unique"
	IndexStatus    = "status"
	IndexVersions  = "rule_version"
	IndexSlotScope = "rule_scope"
	IndexSlotOwner = "rule_activity"
)

// EnsureIndexes creates the indexes the rules' queries rely on; safe to repeat.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	return mongoindex.EnsureAll(ctx,
		mongoindex.Set{C: s.rules, Models: []mongo.IndexModel{
			// Two active exclusive rules never share a priority.
			{Keys: bson.D{{Key: "exclusiveSlot", Value: 1}}, Options: options.Index().SetName(IndexExclusive).SetUnique(true).SetSparse(true)},
			// The active set, read for every activity.
			{Keys: bson.D{{Key: "status", Value: 1}}, Options: options.Index().SetName(IndexStatus)},
		}},
		// A rule's history, newest first.
		mongoindex.Set{C: s.versions, Models: []mongo.IndexModel{{Keys: bson.D{{Key: "ruleId", Value: 1}, {Key: "version", Value: -1}}, Options: options.Index().SetName(IndexVersions).SetUnique(true)}}},
		mongoindex.Set{C: s.slots, Models: []mongo.IndexModel{
			// Slots taken in one scope (a member's day…), counted.
			{Keys: bson.D{{Key: "scope", Value: 1}}, Options: options.Index().SetName(IndexSlotScope)},
			// An activity's own slots, found again on a replay.
			{Keys: bson.D{{Key: "rule", Value: 1}, {Key: "activity", Value: 1}}, Options: options.Index().SetName(IndexSlotOwner)},
		}},
	)
}

// version is one saved version of a rule.
type version struct {
	Key  string        `bson:"_id"` // "<rule id>:<version>"
	Rule bson.ObjectID `bson:"ruleId"`
	V    int64         `bson:"version"`
	Body rules.Rule    `bson:"rule"`
}

// nextSetVersion numbers a change of the rule set (one document's $inc).
func (s *Store) nextSetVersion(ctx context.Context) (int64, error) {
	var doc struct {
		V int64 `bson:"version"`
	}
	err := s.set.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "current"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	return doc.V, err
}

// SetVersion is the rule set's current version (0: no rule ever written).
func (s *Store) SetVersion(ctx context.Context) (int64, error) {
	var doc struct {
		V int64 `bson:"version"`
	}
	err := s.set.FindOne(ctx, bson.D{{Key: "_id", Value: "current"}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return doc.V, err
}

// exclusiveTaken refuses an active exclusive rule at a priority another
// active exclusive rule holds (the unique index is the backstop under races).
func (s *Store) exclusiveTaken(ctx context.Context, r *rules.Rule) error {
	if r.ExclusiveSlot == nil {
		return nil
	}
	var other rules.Rule
	err := s.rules.FindOne(ctx, bson.D{{Key: "exclusiveSlot", Value: *r.ExclusiveSlot}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: r.ID}}}}).Decode(&other)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return err
	}
	return input.Errorf("priority", "the exclusive rule %q already has priority %d; two exclusive rules cannot share one", other.Name, r.Priority)
}

func exclusiveClash(r *rules.Rule) error {
	return input.Errorf("priority", "another exclusive rule has priority %d; two exclusive rules cannot share one", r.Priority)
}

// Create validates in and saves it as a new active rule, version 1, made by
// `by`. Errors: input errors naming the field.
func (s *Store) Create(ctx context.Context, by string, in rules.Input, cat rules.Catalog) (*rules.Rule, error) {
	if err := in.Validate(cat); err != nil {
		return nil, err
	}
	n, err := s.rules.CountDocuments(ctx, bson.D{{Key: "status", Value: rules.StatusActive}})
	if err != nil {
		return nil, err
	}
	if n >= rules.MaxActiveRules {
		return nil, input.Errorf("name", "at most %d active rules; pause or archive one first", rules.MaxActiveRules)
	}
	now := s.now()
	r := &rules.Rule{ID: bson.NewObjectID(), Version: 1, Status: rules.StatusActive, UpdatedBy: by, UpdatedAt: now, CreatedAt: now}
	r.Apply(in)
	r.Slot()
	if err := s.exclusiveTaken(ctx, r); err != nil {
		return nil, err
	}
	if r.SetVersion, err = s.nextSetVersion(ctx); err != nil {
		return nil, err
	}
	if _, err := s.rules.InsertOne(ctx, r); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return nil, exclusiveClash(r)
		}
		return nil, err
	}
	return r, s.keep(ctx, r)
}

// keep records a rule version in the history (keyed: once per version).
func (s *Store) keep(ctx context.Context, r *rules.Rule) error {
	_, err := s.versions.InsertOne(ctx, version{Key: r.ID.Hex() + ":" + strconv.FormatInt(r.Version, 10), Rule: r.ID, V: r.Version, Body: *r})
	if mongo.IsDuplicateKeyError(err) {
		return nil
	}
	return err
}

// Get returns a rule's current version.
func (s *Store) Get(ctx context.Context, id bson.ObjectID) (*rules.Rule, error) {
	var r rules.Rule
	err := s.rules.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrRuleNotFound
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// Update replaces rule id with in, as the next version, made by `by`. With
// expectedVersion the change is made only on that version
// (ErrRuleChanged otherwise). Archived rules are not changed (ErrArchived).
func (s *Store) Update(ctx context.Context, by string, id bson.ObjectID, expectedVersion *int64, in rules.Input, cat rules.Catalog) (*rules.Rule, error) {
	if err := in.Validate(cat); err != nil {
		return nil, err
	}
	return s.change(ctx, by, id, expectedVersion, func(r *rules.Rule) error {
		r.Apply(in)
		return nil
	})
}

// SetStatus pauses (StatusPaused), resumes (StatusActive) or archives
// (StatusArchived, for good) rule id, as the next version.
func (s *Store) SetStatus(ctx context.Context, by string, id bson.ObjectID, st rules.Status) (*rules.Rule, error) {
	return s.change(ctx, by, id, nil, func(r *rules.Rule) error {
		r.Status = st
		return nil
	})
}

func (s *Store) change(ctx context.Context, by string, id bson.ObjectID, expectedVersion *int64, edit func(*rules.Rule) error) (*rules.Rule, error) {
	if expectedVersion != nil && (*expectedVersion < 1 || *expectedVersion > 1_000_000_000) {
		return nil, input.Errorf("expectedVersion", "must be a version number, 1 to 1000000000")
	}
	for {
		cur, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if expectedVersion != nil && cur.Version != *expectedVersion {
			return nil, fmt.Errorf("at version %d, not %d: %w", cur.Version, *expectedVersion, ErrRuleChanged)
		}
		if cur.Status == rules.StatusArchived {
			return nil, ErrArchived
		}
		r := *cur
		if err := edit(&r); err != nil {
			return nil, err
		}
		r.Slot()
		if err := s.exclusiveTaken(ctx, &r); err != nil {
			return nil, err
		}
		r.Version, r.UpdatedBy, r.UpdatedAt = cur.Version+1, by, s.now()
		if r.SetVersion, err = s.nextSetVersion(ctx); err != nil {
			return nil, err
		}
		res, err := s.rules.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: cur.Version}}, &r)
		if mongo.IsDuplicateKeyError(err) {
			return nil, exclusiveClash(&r)
		}
		if err != nil {
			return nil, err
		}
		if res.MatchedCount == 0 {
			if expectedVersion != nil {
				return nil, ErrRuleChanged
			}
			continue // another change landed first: apply this one on it
		}
		return &r, s.keep(ctx, &r)
	}
}

// List pages the rules by id (oldest first): at most limit after the id
// after (zero: from the start), and whether more follow. Archived rules
// are listed too.
func (s *Store) List(ctx context.Context, after bson.ObjectID, limit int) ([]*rules.Rule, bool, error) {
	filter := bson.D{}
	if !after.IsZero() {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	}
	return page.Find[*rules.Rule](ctx, s.rules, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), limit)
}

// History pages a rule's versions newest first: at most limit numbered
// below before (0: from the newest), and whether more follow.
func (s *Store) History(ctx context.Context, id bson.ObjectID, before int64, limit int) ([]*rules.Rule, bool, error) {
	filter := bson.D{{Key: "ruleId", Value: id}}
	if before > 0 {
		filter = append(filter, bson.E{Key: "version", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	vs, more, err := page.Find[version](ctx, s.versions, filter, options.Find().SetSort(bson.D{{Key: "ruleId", Value: 1}, {Key: "version", Value: -1}}), limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]*rules.Rule, len(vs))
	for i := range vs {
		out[i] = &vs[i].Body
	}
	return out, more, nil
}

// Active returns the active rules as a Set over basis.
func (s *Store) Active(ctx context.Context, basis rules.Basis) (*rules.Set, error) {
	v, err := s.SetVersion(ctx)
	if err != nil {
		return nil, err
	}
	if v == 0 {
		return rules.NewSet(0, basis, nil), nil // no rule ever written: spare the query
	}
	cur, err := s.rules.Find(ctx, bson.D{{Key: "status", Value: rules.StatusActive}})
	if err != nil {
		return nil, err
	}
	var rs []*rules.Rule
	if err := cur.All(ctx, &rs); err != nil {
		return nil, err
	}
	return rules.NewSet(v, basis, rs), nil
}

// ActiveRules lists the active rules (a dry run's starting point).
func (s *Store) ActiveRules(ctx context.Context) ([]*rules.Rule, int64, error) {
	v, err := s.SetVersion(ctx)
	if err != nil {
		return nil, 0, err
	}
	cur, err := s.rules.Find(ctx, bson.D{{Key: "status", Value: rules.StatusActive}})
	if err != nil {
		return nil, 0, err
	}
	var rs []*rules.Rule
	return rs, v, cur.All(ctx, &rs)
}
