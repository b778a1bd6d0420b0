// Package engagement keeps the engagement rollups the brand's analytics
// answer from (what members do beyond purchases): active members and
// posters per day, badge unlocks per day, streaks by bucket and lapse,
// participation per leaderboard, RSVPs per event. They are written as a
// part of the rollup job (Rollups.Run, called by rollup.Job.Run after the
// purchase rollups) from the raw collections of game/engagement,
// game/leaderboard, community/forum and community/events, and read by the
// figures (package analytics) a bounded number of documents at a time,
// whatever the number of members.
//
// Days are those of the program's timezone, numbered as package rollup
// numbers them.
package engagement

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/analytics/rollup/internal/rollupdb"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/internal/mongoindex"
)

// Engagement rollup collections, owned by this package: written only by
// Run, read through Rollups by the figures.
const (
	collTrails       = "analytics_trails"        // per member: days with an activity, days with a forum post
	collEngagement   = "analytics_engagement"    // per day: active members and posters by their previous such day
	collBadges       = "analytics_badges"        // per day: badge levels unlocked
	collStreaks      = "analytics_streaks"       // per member with a streak: its bucket and when it lapses
	collStreakCounts = "analytics_streak_counts" // per bucket and lapse instant: members
	collBoards       = "analytics_boards"        // per leaderboard: members with a score
	collEvents       = "analytics_events"        // per event: RSVPs by status
)

// Index names, checked by the tests.
const (
	IndexTrailActive = "analytics_trail_active"
	IndexTrailPosted = "analytics_trail_posted"
	IndexStreakKey   = "analytics_streak_key"
	IndexStreakLapse = "analytics_streak_lapse"
	IndexEventStarts = "analytics_event_starts"
	IndexPostsMark   = "analytics_posts_created"
	IndexScoresMark  = "analytics_scores_at"
	IndexRSVPsMark   = "analytics_rsvps_updated"
	IndexEventsMark  = "analytics_events_updated"
	IndexMembersMark = "analytics_members_updated"
)

// Rollups keeps the engagement rollups: Run writes them, the figures read
// them (EngagementDays, BadgeDays, StreakCounts, Boards, Events), by _id
// or by the indexes of EnsureIndexes.
type Rollups struct {
	state, dirty                                                              *mongo.Collection
	trails, engagement, badgeDays, streaks, streakCounts, boards, eventCounts *mongo.Collection
	// Raw collections of other rooms, read only by Run.
	activities, people, posts, engaged, scores, rsvps, events, badges *mongo.Collection
}

// New returns the engagement rollups kept in db.
func New(db *mongo.Database) *Rollups {
	return &Rollups{
		state: db.Collection(rollupdb.CollState), dirty: db.Collection(rollupdb.CollDirty),
		trails: db.Collection(collTrails), engagement: db.Collection(collEngagement), badgeDays: db.Collection(collBadges),
		streaks: db.Collection(collStreaks), streakCounts: db.Collection(collStreakCounts), boards: db.Collection(collBoards),
		eventCounts: db.Collection(collEvents),
		activities:  db.Collection("activities"), people: db.Collection("members"),
		posts: db.Collection("community_posts"), engaged: db.Collection("engagement"), scores: db.Collection("leaderboard_scores"),
		rsvps: db.Collection("event_rsvps"), events: db.Collection("events"), badges: db.Collection("badges"),
	}
}

// EnsureIndexes creates the indexes of Run's queries: trails by day,
// streaks by bucket and lapse, events by start, and the creation or update
// times it keeps watermarks on in the raw collections it reads (forum
// posts, leaderboard scores, RSVPs, events; their owners' queries do not
// need them). Safe to repeat.
func (r *Rollups) EnsureIndexes(ctx context.Context) error {
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
		{r.trails, []mongo.IndexModel{idx(IndexTrailActive, "active"), idx(IndexTrailPosted, "posted")}},
		{r.streaks, []mongo.IndexModel{idx(IndexStreakKey, "b", "lapse")}},
		{r.streakCounts, []mongo.IndexModel{idx(IndexStreakLapse, "lapse")}},
		{r.eventCounts, []mongo.IndexModel{idx(IndexEventStarts, "startsAt")}},
		{r.posts, []mongo.IndexModel{idx(IndexPostsMark, "createdAt", "_id")}},
		{r.scores, []mongo.IndexModel{idx(IndexScoresMark, "at", "_id")}},
		{r.rsvps, []mongo.IndexModel{idx(IndexRSVPsMark, "updatedAt", "_id")}},
		{r.events, []mongo.IndexModel{idx(IndexEventsMark, "updatedAt", "_id")}},
		{r.people, []mongo.IndexModel{idx(IndexMembersMark, "updatedAt", "_id")}},
	} {
		if err := mongoindex.Ensure(ctx, e.c, e.m...); err != nil {
			return err
		}
	}
	return nil
}

// state is what Run has read of each raw collection (rollupdb.CollState,
// _id stateID): createdAt of activities of every kind (trails) and of
// forum posts, at of engagement entries and of leaderboard scores,
// updatedAt of RSVPs, events and members: the newest read, or the run's
// start − overlap if later (rollupdb.Advance). The next run reads from
// mark − overlap again.
type state struct {
	ID            string    `bson:"_id"`
	AllActivities time.Time `bson:"allActivities"`
	Posts         time.Time `bson:"posts"`
	Engagement    time.Time `bson:"engagement"`
	Scores        time.Time `bson:"scores"`
	RSVPs         time.Time `bson:"rsvps"`
	Events        time.Time `bson:"events"`
	Members       time.Time `bson:"members"`
}

const stateID = "engagement"

// Run brings the engagement rollups up to date with everything recorded
// since the last run: the trails of members with an activity or a forum
// post since, and the days those change; the badge unlocks and streaks of
// members with an engagement entry since, and the streak counts they move;
// the participation of every leaderboard with a score since; the RSVP
// counts of every event with an RSVP or a change since. Safe to run again
// at any point (rollup.Job.Run runs it under the jobs' lease); a run cut
// short leaves its marks for the next.
func (r *Rollups) Run(ctx context.Context, p program.Program, start time.Time) error {
	loc := p.Location()
	st := state{ID: stateID}
	if err := rollupdb.LoadState(ctx, r.state, stateID, &st); err != nil {
		return err
	}
	dirty := newDirty()
	ids, err := rollupdb.LoadMarks(ctx, r.dirty, prefixDay, prefixStreak)
	if err != nil {
		return err
	}
	for _, id := range ids {
		dirty.add(id)
	}
	next := st
	if next.AllActivities, next.Posts, err = r.refreshTrails(ctx, st, loc, dirty); err != nil {
		return err
	}
	if err := r.refreshEngagementDays(ctx, dirty.edays); err != nil {
		return err
	}
	if next.Engagement, err = r.refreshStreaksAndBadges(ctx, st.Engagement, p.Streak, loc, dirty); err != nil {
		return err
	}
	if next.Members, err = r.refreshMovedStreaks(ctx, st.Members, p.Streak, dirty); err != nil {
		return err
	}
	if err := r.refreshStreakCounts(ctx, dirty.streaks); err != nil {
		return err
	}
	if next.Scores, err = r.refreshBoards(ctx, st.Scores); err != nil {
		return err
	}
	if next.RSVPs, next.Events, err = r.refreshEvents(ctx, st); err != nil {
		return err
	}
	if err := rollupdb.ClearMarks(ctx, r.dirty, dirty.ids()); err != nil {
		return err
	}
	for _, m := range []*time.Time{&next.AllActivities, &next.Posts, &next.Engagement, &next.Scores, &next.RSVPs, &next.Events, &next.Members} {
		*m = rollupdb.Advance(*m, start)
	}
	return rollupdb.SaveState(ctx, r.state, stateID, next)
}

// Reset drops the engagement rollups and Run's marks, for a change of the
// program's timezone (rollup.Job.Run calls it): every day is another one.
func (r *Rollups) Reset(ctx context.Context) error {
	for _, c := range []*mongo.Collection{r.trails, r.engagement, r.badgeDays, r.streaks, r.streakCounts, r.boards, r.eventCounts} {
		if _, err := c.DeleteMany(ctx, bson.D{}); err != nil {
			return fmt.Errorf("analytics reset %s: %w", c.Name(), err)
		}
	}
	ids, err := rollupdb.LoadMarks(ctx, r.dirty, prefixDay, prefixStreak)
	if err != nil {
		return err
	}
	if err := rollupdb.ClearMarks(ctx, r.dirty, ids); err != nil {
		return err
	}
	return rollupdb.SaveState(ctx, r.state, stateID, state{ID: stateID})
}

// Dirty mark prefixes (rollupdb.CollDirty).
const (
	prefixDay    = "eday:"   // analytics_engagement, by day
	prefixStreak = "streak:" // analytics_streak_counts, by id
)

// dirtySet is what a run must recompute, also stored (rollupdb.SaveMarks)
// so a run cut short is finished by the next.
type dirtySet struct {
	edays   map[int]bool    // analytics_engagement
	streaks map[string]bool // analytics_streak_counts, by id
}

func newDirty() *dirtySet { return &dirtySet{edays: map[int]bool{}, streaks: map[string]bool{}} }

func (d *dirtySet) ids() []string {
	var ids []string
	for k := range d.edays {
		ids = append(ids, prefixDay+strconv.Itoa(k))
	}
	for k := range d.streaks {
		ids = append(ids, prefixStreak+k)
	}
	return ids
}

func (d *dirtySet) add(id string) {
	switch {
	case strings.HasPrefix(id, prefixDay):
		if n, err := strconv.Atoi(id[len(prefixDay):]); err == nil {
			d.edays[n] = true
		}
	case strings.HasPrefix(id, prefixStreak):
		d.streaks[id[len(prefixStreak):]] = true
	}
}

func (r *Rollups) saveDirty(ctx context.Context, d *dirtySet) error {
	return rollupdb.SaveMarks(ctx, r.dirty, d.ids())
}
