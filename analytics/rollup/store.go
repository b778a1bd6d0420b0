package rollup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/holdout"
	"github.com/regulars/regulars/internal/mongoindex"
)

// Rollup collections, owned by this package. Each is written only by the
// job (Run) and read through Store by the figures.
const (
	collState    = "analytics_state"     // one document: the watermarks and asOf
	collMembers  = "analytics_members"   // per member: purchase days net of refunds (the job's working set)
	collDays     = "analytics_days"      // per day: purchases, revenue per currency, members by previous purchase day
	collCohorts  = "analytics_cohorts"   // per cohort month (first purchase or sign-up): size, active members per month, revenue by day offset
	collPoints   = "analytics_points"    // per day and per month: points issued, reversed, redeemed, expired, tier moves
	collReferral = "analytics_referrals" // per day: sign-ups with a code, conversions, reversals
	collDirty    = "analytics_dirty"     // days and cohorts to recompute, kept until recomputed

	collTrails       = "analytics_trails"        // per member: days with an activity, days with a forum post
	collEngagement   = "analytics_engagement"    // per day: active members and posters by their previous such day
	collBadges       = "analytics_badges"        // per day: badge levels unlocked
	collStreaks      = "analytics_streaks"       // per member with a streak: its bucket and when it lapses
	collStreakCounts = "analytics_streak_counts" // per bucket and lapse instant: members
	collBoards       = "analytics_boards"        // per leaderboard: members with a score
	collEvents       = "analytics_events"        // per event: RSVPs by status
	collCampaigns    = "analytics_campaigns"     // per campaign, group and day of send: members and their purchases after it
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

	IndexTrailActive       = "analytics_trail_active"
	IndexTrailPosted       = "analytics_trail_posted"
	IndexStreakKey         = "analytics_streak_key"
	IndexStreakLapse       = "analytics_streak_lapse"
	IndexEventStarts       = "analytics_event_starts"
	IndexCampaignDay       = "analytics_campaign_day"
	IndexPostsMark         = "analytics_posts_created"
	IndexScoresMark        = "analytics_scores_at"
	IndexRSVPsMark         = "analytics_rsvps_updated"
	IndexEventsMark        = "analytics_events_updated"
	IndexAssignmentsMark   = "analytics_assignments_at"
	IndexAssignmentsMember = "analytics_assignments_member"
)

// Store keeps the rollups: the job writes them, the figures read them
// (Days, Cohorts, Points, Referrals, Facts, AsOf), by _id or by the
// indexes of EnsureIndexes.
type Store struct {
	state, members, days, cohorts, points, monthly, referrals, dirty *mongo.Collection
	// Engagement and campaign rollups (engagement.go, campaigns.go).
	trails, engagement, badgeDays, streaks, streakCounts, boards, eventCounts, campaigns *mongo.Collection
	// Raw collections of other rooms, read only by the job.
	activities, ledger, people, accounts, conversions          *mongo.Collection
	posts, engaged, scores, rsvps, events, assignments, badges *mongo.Collection
}

// NewStore returns the rollups kept in db.
func NewStore(db *mongo.Database) *Store {
	return &Store{
		state: db.Collection(collState), members: db.Collection(collMembers), days: db.Collection(collDays),
		cohorts: db.Collection(collCohorts), points: db.Collection(collPoints), monthly: db.Collection(collPointsMonthly),
		referrals: db.Collection(collReferral), dirty: db.Collection(collDirty),
		activities: db.Collection("activities"), ledger: db.Collection("ledger"), people: db.Collection("members"),
		accounts: db.Collection("accounts"), conversions: db.Collection("referral_conversions"),
		trails: db.Collection(collTrails), engagement: db.Collection(collEngagement), badgeDays: db.Collection(collBadges),
		streaks: db.Collection(collStreaks), streakCounts: db.Collection(collStreakCounts), boards: db.Collection(collBoards),
		eventCounts: db.Collection(collEvents), campaigns: db.Collection(collCampaigns),
		posts: db.Collection("community_posts"), engaged: db.Collection("engagement"), scores: db.Collection("leaderboard_scores"),
		rsvps: db.Collection("event_rsvps"), events: db.Collection("events"), assignments: db.Collection(holdout.Collection),
		badges: db.Collection("badges"),
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
		{s.trails, []mongo.IndexModel{idx(IndexTrailActive, "active"), idx(IndexTrailPosted, "posted")}},
		{s.streaks, []mongo.IndexModel{idx(IndexStreakKey, "b", "lapse")}},
		{s.streakCounts, []mongo.IndexModel{idx(IndexStreakLapse, "lapse")}},
		{s.eventCounts, []mongo.IndexModel{idx(IndexEventStarts, "startsAt")}},
		{s.campaigns, []mongo.IndexModel{idx(IndexCampaignDay, "campaign", "day")}},
		{s.posts, []mongo.IndexModel{idx(IndexPostsMark, "createdAt", "_id")}},
		{s.scores, []mongo.IndexModel{idx(IndexScoresMark, "at", "_id")}},
		{s.rsvps, []mongo.IndexModel{idx(IndexRSVPsMark, "updatedAt", "_id")}},
		{s.events, []mongo.IndexModel{idx(IndexEventsMark, "updatedAt", "_id")}},
		{s.assignments, []mongo.IndexModel{idx(IndexAssignmentsMark, "at", "_id"), idx(IndexAssignmentsMember, "memberId", "campaign", "at")}},
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
	// collection; the next run reads from mark − overlap again, so a write
	// that committed after a later one is still seen.
	Activities  time.Time `bson:"activities"`
	Members     time.Time `bson:"members"`
	Ledger      time.Time `bson:"ledger"`
	Accounts    time.Time `bson:"accounts"`
	Conversions time.Time `bson:"conversions"`
	// Engagement marks: createdAt of activities of every kind (trails) and
	// of forum posts, at of engagement entries, of leaderboard scores and
	// of campaign assignments, updatedAt of RSVPs and events.
	AllActivities time.Time `bson:"allActivities"`
	Posts         time.Time `bson:"posts"`
	Engagement    time.Time `bson:"engagement"`
	Scores        time.Time `bson:"scores"`
	Assignments   time.Time `bson:"assignments"`
	RSVPs         time.Time `bson:"rsvps"`
	Events        time.Time `bson:"events"`
	// AsOf is when the last complete run started: every activity recorded
	// before it is in the rollups.
	AsOf time.Time `bson:"asOf"`
}

const stateID = "rollup"

func (s *Store) loadState(ctx context.Context) (state, error) {
	var st state
	err := s.state.FindOne(ctx, bson.D{{Key: "_id", Value: stateID}}).Decode(&st)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return state{ID: stateID}, nil
	}
	if err != nil {
		return st, fmt.Errorf("analytics state: %w", err)
	}
	return st, nil
}

func (s *Store) saveState(ctx context.Context, st state) error {
	_, err := s.state.ReplaceOne(ctx, bson.D{{Key: "_id", Value: stateID}}, st, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("analytics state: %w", err)
	}
	return nil
}

// reset drops every rollup, for a change of the program's timezone: every
// day and month is another one.
func (s *Store) reset(ctx context.Context) error {
	for _, c := range []*mongo.Collection{s.members, s.days, s.cohorts, s.points, s.referrals, s.dirty,
		s.trails, s.engagement, s.badgeDays, s.streaks, s.streakCounts, s.boards, s.eventCounts, s.campaigns} {
		if _, err := c.DeleteMany(ctx, bson.D{}); err != nil {
			return fmt.Errorf("analytics reset %s: %w", c.Name(), err)
		}
	}
	return nil
}

// bulkReplace is the most documents replaced one by one; more (a first
// run, a change of timezone) are deleted and inserted again, two commands
// instead of one update per document, which the embedded database runs
// each as a scan of the collection. Meanwhile a dashboard may miss those
// documents for a moment.
const bulkReplace = 50

// replaceAll upserts docs by _id, one command each (each within the
// client's deadline).
func replaceAll[T any](ctx context.Context, c *mongo.Collection, ids []any, docs []T) error {
	if len(docs) == 0 {
		return nil
	}
	if len(docs) > bulkReplace {
		for i := 0; i < len(ids); i += 1000 {
			if _, err := c.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids[i:min(i+1000, len(ids))]}}}}); err != nil {
				return fmt.Errorf("%s: %w", c.Name(), err)
			}
		}
		for i := 0; i < len(docs); i += 1000 {
			if _, err := c.InsertMany(ctx, docs[i:min(i+1000, len(docs))], options.InsertMany().SetOrdered(false)); err != nil {
				return fmt.Errorf("%s: %w", c.Name(), err)
			}
		}
		return nil
	}
	for i := range docs {
		if _, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: ids[i]}}, docs[i], options.Replace().SetUpsert(true)); err != nil {
			return fmt.Errorf("%s: %w", c.Name(), err)
		}
	}
	return nil
}
