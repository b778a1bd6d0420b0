package campaigns

import (
	"testing"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func TestIndexesExist(t *testing.T) {
	db := testkit.Database(t)
	r := New(db, rollup.NewStore(db))
	testkit.EnsureIndexes(t, r.EnsureIndexes)
	testkit.RequireIndexes(t, db.Collection(collCampaigns), IndexCampaignDay)
	testkit.RequireIndexes(t, db.Collection("campaign_assignments"), IndexAssignmentsMark, IndexAssignmentsMember)
}
