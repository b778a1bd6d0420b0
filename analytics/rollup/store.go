package rollup

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/analytics/rollup/internal/rollupdb"
	"github.com/regulars/regulars/internal/mongoindex"
)

// Rollup collections, owned by this package. Each is written only by the
// job (Run) and read through Store by the figures.
const (
	collMembers  = "analytics_members"   // per member: purchase days net of refunds (the job's working set)
	collDays     = "analytics_days"      // per day: purchases, revenue per currency, members by previous purchase day
	collCohorts  = "analytics_cohorts"   // per cohort month (first purchase or sign-up): size, active members per month, revenue by day offset
	collPoints   = "analytics_points"    // per day and per month: points issued, reversed, redeemed, expired, tier moves
	collReferral = "analytics_referrals" // per day: sign-ups with a code, conversions, reversals
	collDirty    = rollupdb.CollDirty    // days and cohorts to recompute, kept until recomputed
	collState    = rollupdb.CollState    // one document ("rollup"): the watermarks and asOf
	// per month: the sums of collPoints' days, so a balance at any day reads
	// one document per month of history before it
	collPointsMonthly = "analytics_points_monthly"
)

// Index names, checked by the tests.
const (
	IndexMemberDays    = "analytics_member_days"
	IndexMemberFirst   = "analytics_member_first"
	IndexMemberSignup  = "analytics_member_signup"
	IndexActivityMark  = "analytics_activity_created"
	IndexLedgerMark    = "analytics_ledger_created"
	IndexMembersMark   = "analytics_members_created"
	IndexAccountsMark  = "analytics_accounts_created"
	IndexConvertedMark = "analytics_conversions_at"
)

// Store keeps the rollups: the job writes them, the figures read them
// (Days, Cohorts, Points, Referrals, Facts, AsOf), by _id or by the
// indexes of EnsureIndexes.
type Store struct {
	state, members, days, cohorts, points, monthly, referrals, dirty *mongo.Collection
	// Raw collections of other rooms, read only by the job.
	activities, ledger, people, accounts, conversions *mongo.Collection
}

// NewStore returns the rollups kept in db.
func NewStore(db *mongo.Database) *Store {
	return &Store{
		state: db.Collection(collState), members: db.Collection(collMembers), days: db.Collection(collDays),
		cohorts: db.Collection(collCohorts), points: db.Collection(collPoints), monthly: db.Collection(collPointsMonthly),
		referrals: db.Collection(collReferral), dirty: db.Collection(collDirty),
		activities: db.Collection("activities"), ledger: db.Collection("ledger"), people: db.Collection("members"),
		accounts: db.Collection("accounts"), conversions: db.Collection("referral_conversions"),
	}
}

// EnsureIndexes creates the indexes of the job's queries: the per-member
// facts by day, first-purchase and sign-up month (recomputing a day or a
// cohort), and the creation times it keeps watermarks on in the raw
// collections it reads (the ledger, activities, members, referral
// accounts and conversions; their owners' queries do not need them).
// Dashboard reads go by _id. Safe to repeat.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	idx := func(name string, keys ...string) mongo.IndexModel {
		d := bson.D{}
		for _, k := range keys {
			d = append(d, bson.E{Key: k, Value: 1})
		}
		return mongo.IndexModel{Keys: d, Options: options.Index().SetName(name)}
	}
	for _, e := range []struct {
		c *mongo.Collection
		m []mongo.IndexModel
	}{
		{s.members, []mongo.IndexModel{idx(IndexMemberDays, "days.d"), idx(IndexMemberFirst, "firstMonth"), idx(IndexMemberSignup, "signupMonth")}},
		{s.activities, []mongo.IndexModel{idx(IndexActivityMark, "createdAt", "_id")}},
		{s.ledger, []mongo.IndexModel{idx(IndexLedgerMark, "createdAt", "_id")}},
		{s.people, []mongo.IndexModel{idx(IndexMembersMark, "createdAt", "_id")}},
		{s.accounts, []mongo.IndexModel{idx(IndexAccountsMark, "createdAt", "_id")}},
		{s.conversions, []mongo.IndexModel{idx(IndexConvertedMark, "at", "_id")}},
	} {
		if err := mongoindex.Ensure(ctx, e.c, e.m...); err != nil {
			return err
		}
	}
	return nil
}

// state is the job's progress: what it has read of each raw collection.
type state struct {
	ID       string `bson:"_id"`
	Timezone string `bson:"timezone"`
	// Marks are the newest createdAt (at, for conversions) read of each raw
	// collection, or the run's start − overlap if later (rollupdb.Advance);
	// the next run reads from mark − overlap again, so a write that
	// committed after a later one is still seen.
	Activities  time.Time `bson:"activities"`
	Members     time.Time `bson:"members"`
	Ledger      time.Time `bson:"ledger"`
	Accounts    time.Time `bson:"accounts"`
	Conversions time.Time `bson:"conversions"`
	// AsOf is when the last complete run started: every activity recorded
	// before it is in the rollups.
	AsOf time.Time `bson:"asOf"`
}

const stateID = "rollup"

func (s *Store) loadState(ctx context.Context) (state, error) {
	st := state{ID: stateID}
	err := rollupdb.LoadState(ctx, s.state, stateID, &st)
	return st, err
}

func (s *Store) saveState(ctx context.Context, st state) error {
	return rollupdb.SaveState(ctx, s.state, stateID, st)
}

// reset drops every rollup, for a change of the program's timezone: every
// day and month is another one.
func (s *Store) reset(ctx context.Context) error {
	for _, c := range []*mongo.Collection{s.members, s.days, s.cohorts, s.points, s.referrals, s.dirty} {
		if _, err := c.DeleteMany(ctx, bson.D{}); err != nil {
			return fmt.Errorf("analytics reset %s: %w", c.Name(), err)
		}
	}
	return nil
}
