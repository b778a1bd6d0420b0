package offer

import (
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// The offers' own indexes; targeting and claiming are tested through the
// game (package game), which answers Audience and Facts.
func TestOfferIndexesExist(t *testing.T) {
	db := testkit.Database(t)
	s := New(db, Deps{Now: time.Now})
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	testkit.RequireIndexes(t, s.offers.offers, indexOfferStatus, indexOfferStatusID)
	testkit.RequireIndexes(t, s.offers.claims, indexClaimMember, indexClaimExpiry, indexClaimCode, indexClaimOrder, indexClaimUsed)
}
