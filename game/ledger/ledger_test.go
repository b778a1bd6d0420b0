package ledger

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/program"
)

func TestDebitTakesSoonestExpiringSpendableFirst(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(days int) *time.Time { x := now.AddDate(0, 0, days); return &x }
	st := State{}
	for _, l := range []struct {
		pts       int64
		expires   *time.Time
		available time.Time
	}{
		{100, nil, now},                    // never expires: last
		{50, at(30), now},                  // second
		{20, at(10), now},                  // first
		{500, at(5), now.AddDate(0, 0, 3)}, // pending: untouchable
	} {
		e := &Entry{ID: bson.NewObjectID()}
		st.Credit(e, l.pts, l.available, l.expires)
	}
	e := &Entry{}
	if got := st.Debit(e, 60, now, true, nil); got != 60 {
		t.Fatalf("took %d", got)
	}
	if len(e.Draws) != 2 || e.Draws[0].Points != 20 || e.Draws[1].Points != 40 {
		t.Fatalf("draws %+v, want 20 from the 10-day lot then 40 from the 30-day lot", e.Draws)
	}
	if st.Balance != 670-60 || st.Available(now) != 110 || st.Pending(now) != 500 {
		t.Fatalf("balance %d available %d pending %d", st.Balance, st.Available(now), st.Pending(now))
	}
	// Asking for more than is spendable takes what there is: a clawback's shortfall.
	e = &Entry{}
	if got := st.Debit(e, 1000, now, true, nil); got != 110 || st.Available(now) != 0 {
		t.Fatalf("over-debit took %d", got)
	}
}

func TestEvaluateTier(t *testing.T) {
	p := program.Default()
	now := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	st := State{Earned: map[string]int64{}, Spend: map[string]int64{}}
	EvaluateTier(&st, &p, now)
	if st.Tier.Name != "Member" {
		t.Fatalf("new member in %q", st.Tier.Name)
	}
	st.Earned[MonthKey(now)] = 6000
	if tc := EvaluateTier(&st, &p, now); tc == nil || tc.To != "Gold" || tc.From != "Member" {
		t.Fatalf("upgrade: %+v", tc)
	}
	// Earned points age out of the window, but the tier holds until the
	// period plus grace is over.
	later := now.AddDate(1, 0, 10)
	if tc := EvaluateTier(&st, &p, later); tc != nil || st.Tier.Name != "Gold" {
		t.Fatalf("inside grace: %+v %s", tc, st.Tier.Name)
	}
	if tc := EvaluateTier(&st, &p, now.AddDate(1, 1, 5)); tc == nil || tc.To != "Member" {
		t.Fatalf("after grace: %+v", tc)
	}
}
