// Package campaigns keeps the campaign rollups the brand's analytics
// answer "how did this campaign do against its holdout" from: per
// campaign, group and day of send, the members sent to and their purchases
// in the window after. They are written as a part of the rollup job
// (Rollups.Run, called by rollup.Job.Run after the purchase rollups) from
// the campaign assignments of game/holdout and the members' purchase days
// of package rollup, and read by the figures (package analytics) at most
// two documents per day of sends.
//
// Days are those of the program's timezone, numbered as package rollup
// numbers them.
package campaigns

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/analytics/rollup/internal/rollupdb"
	"github.com/regulars/regulars/game/holdout"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/internal/mongoindex"
)

// collCampaigns is owned by this package: per campaign, group and day of
// send, members and their purchases after it.
const collCampaigns = "analytics_campaigns"

// Index names, checked by the tests.
const (
	IndexCampaignDay       = "analytics_campaign_day"
	IndexAssignmentsMark   = "analytics_assignments_at"
	IndexAssignmentsMember = "analytics_assignments_member"
)

// Rollups keeps the campaign rollups: Run writes them, the figures read
// them (CampaignDays).
type Rollups struct {
	state, dirty, campaigns *mongo.Collection
	// assignments is game/holdout's collection, read only by Run.
	assignments *mongo.Collection
	// facts are the members' purchase days (rollup.Store.PurchaseDays).
	facts *rollup.Store
}

// New returns the campaign rollups kept in db, counting the purchases of
// facts.
func New(db *mongo.Database, facts *rollup.Store) *Rollups {
	return &Rollups{state: db.Collection(rollupdb.CollState), dirty: db.Collection(rollupdb.CollDirty),
		campaigns: db.Collection(collCampaigns), assignments: db.Collection(holdout.Collection), facts: facts}
}

// EnsureIndexes creates the indexes of Run's queries: the campaign days by
// campaign and day, and the assignments by time (its watermark) and by
// member and campaign. Safe to repeat.
func (r *Rollups) EnsureIndexes(ctx context.Context) error {
	idx := func(name string, keys ...string) mongo.IndexModel {
		d := bson.D{}
		for _, k := range keys {
			d = append(d, bson.E{Key: k, Value: 1})
		}
		return mongo.IndexModel{Keys: d, Options: options.Index().SetName(name)}
	}
	if err := mongoindex.Ensure(ctx, r.campaigns, idx(IndexCampaignDay, "campaign", "day")); err != nil {
		return err
	}
	return mongoindex.Ensure(ctx, r.assignments, idx(IndexAssignmentsMark, "at", "_id"), idx(IndexAssignmentsMember, "memberId", "campaign", "at"))
}

// state is what Run has read of the assignments (rollupdb.CollState, _id
// stateID): the newest at, or the run's start − overlap if later
// (rollupdb.Advance). The next run reads from mark − overlap again.
type state struct {
	ID          string    `bson:"_id"`
	Assignments time.Time `bson:"assignments"`
}

const stateID = "campaigns"

// prefix is the campaign days' dirty marks' (rollupdb.CollDirty):
// "campaign:<day>:<campaign>".
const prefix = "campaign:"

// Run brings the campaign rollups up to date: the campaign days with new
// assignments (and every later day of the same members, whose previous
// assignment may have changed), and those PurchasesChanged marked. Safe
// to run again at any point (rollup.Job.Run runs it under the jobs'
// lease); a run cut short leaves its marks for the next.
func (r *Rollups) Run(ctx context.Context, p program.Program, start time.Time) error {
	loc := p.Location()
	st := state{ID: stateID}
	if err := rollupdb.LoadState(ctx, r.state, stateID, &st); err != nil {
		return err
	}
	dirty, err := r.loadDirty(ctx)
	if err != nil {
		return err
	}
	next := st
	if next.Assignments, err = r.markAssignments(ctx, st.Assignments, loc, dirty); err != nil {
		return err
	}
	if err := r.saveDirty(ctx, dirty); err != nil {
		return err
	}
	if err := r.refreshCampaigns(ctx, dirty, loc); err != nil {
		return err
	}
	if err := rollupdb.ClearMarks(ctx, r.dirty, ids(dirty)); err != nil {
		return err
	}
	next.Assignments = rollupdb.Advance(next.Assignments, start)
	return rollupdb.SaveState(ctx, r.state, stateID, next)
}

// PurchasesChanged marks dirty, and records before they are written
// (rollup.Job calls it before writing the facts), the campaign days whose
// window holds one of the purchase days changed of each member (changed:
// member → days), for the next Run.
func (r *Rollups) PurchasesChanged(ctx context.Context, changed map[bson.ObjectID][]int, loc *time.Location) error {
	dirty := map[campaignDay]bool{}
	if err := r.markPurchases(ctx, changed, loc, dirty); err != nil {
		return err
	}
	return r.saveDirty(ctx, dirty)
}

// Reset drops the campaign rollups and Run's marks, for a change of the
// program's timezone (rollup.Job.Run calls it): every day is another one.
func (r *Rollups) Reset(ctx context.Context) error {
	if _, err := r.campaigns.DeleteMany(ctx, bson.D{}); err != nil {
		return fmt.Errorf("analytics reset %s: %w", r.campaigns.Name(), err)
	}
	dirty, err := r.loadDirty(ctx)
	if err != nil {
		return err
	}
	if err := rollupdb.ClearMarks(ctx, r.dirty, ids(dirty)); err != nil {
		return err
	}
	return rollupdb.SaveState(ctx, r.state, stateID, state{ID: stateID})
}

func ids(dirty map[campaignDay]bool) []string {
	out := make([]string, 0, len(dirty))
	for k := range dirty {
		out = append(out, prefix+strconv.Itoa(k.day)+":"+k.campaign)
	}
	return out
}

func (r *Rollups) saveDirty(ctx context.Context, dirty map[campaignDay]bool) error {
	return rollupdb.SaveMarks(ctx, r.dirty, ids(dirty))
}

func (r *Rollups) loadDirty(ctx context.Context) (map[campaignDay]bool, error) {
	marks, err := rollupdb.LoadMarks(ctx, r.dirty, prefix)
	if err != nil {
		return nil, err
	}
	dirty := map[campaignDay]bool{}
	for _, id := range marks {
		dayS, name, ok := strings.Cut(strings.TrimPrefix(id, prefix), ":")
		if n, err := strconv.Atoi(dayS); err == nil && ok {
			dirty[campaignDay{campaign: name, day: n}] = true
		}
	}
	return dirty, nil
}
