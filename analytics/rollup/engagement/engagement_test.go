package engagement

import (
	"testing"

	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func TestIndexesExist(t *testing.T) {
	db := testkit.Database(t)
	r := New(db)
	testkit.EnsureIndexes(t, r.EnsureIndexes)
	testkit.RequireIndexes(t, db.Collection(collTrails), IndexTrailActive, IndexTrailPosted)
	testkit.RequireIndexes(t, db.Collection(collStreaks), IndexStreakKey)
	testkit.RequireIndexes(t, db.Collection(collStreakCounts), IndexStreakLapse)
	testkit.RequireIndexes(t, db.Collection(collEvents), IndexEventStarts)
	testkit.RequireIndexes(t, db.Collection("community_posts"), IndexPostsMark)
	testkit.RequireIndexes(t, db.Collection("leaderboard_scores"), IndexScoresMark)
	testkit.RequireIndexes(t, db.Collection("event_rsvps"), IndexRSVPsMark)
	testkit.RequireIndexes(t, db.Collection("events"), IndexEventsMark)
	testkit.RequireIndexes(t, db.Collection("members"), IndexMembersMark)
}
