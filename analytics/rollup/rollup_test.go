package rollup

import (
	"testing"

	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func TestIndexesExist(t *testing.T) {
	db := testkit.Database(t)
	s := NewStore(db)
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	testkit.RequireIndexes(t, db.Collection(collMembers), IndexMemberDays, IndexMemberFirst, IndexMemberSignup)
	testkit.RequireIndexes(t, db.Collection("activities"), IndexActivityMark)
	testkit.RequireIndexes(t, db.Collection("ledger"), IndexLedgerMark)
	testkit.RequireIndexes(t, db.Collection(collTrails), IndexTrailActive, IndexTrailPosted)
	testkit.RequireIndexes(t, db.Collection(collStreaks), IndexStreakKey)
	testkit.RequireIndexes(t, db.Collection(collStreakCounts), IndexStreakLapse)
	testkit.RequireIndexes(t, db.Collection(collEvents), IndexEventStarts)
	testkit.RequireIndexes(t, db.Collection(collCampaigns), IndexCampaignDay)
	testkit.RequireIndexes(t, db.Collection("community_posts"), IndexPostsMark)
	testkit.RequireIndexes(t, db.Collection("leaderboard_scores"), IndexScoresMark)
	testkit.RequireIndexes(t, db.Collection("event_rsvps"), IndexRSVPsMark)
	testkit.RequireIndexes(t, db.Collection("events"), IndexEventsMark)
	testkit.RequireIndexes(t, db.Collection("campaign_assignments"), IndexAssignmentsMark, IndexAssignmentsMember)
}
