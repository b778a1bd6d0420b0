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
	testkit.RequireIndexes(t, db.Collection("members"), IndexMembersMark)
	testkit.RequireIndexes(t, db.Collection("accounts"), IndexAccountsMark)
	testkit.RequireIndexes(t, db.Collection("referral_conversions"), IndexConvertedMark)
}
