package game

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
)

// ruleHistory is the recorded activities as the earning rules read them
// (ruleset.History): explanations and the dry run.
type ruleHistory struct{ s *Service }

// Scan streams a range's activities for a dry run (activity.Store.Scan),
// each purchase without a snapshot with when its member's purchases count
// from (Recorded.JoinedFrom: joinedFrom, as the live path reads it) and
// their purchases before the range (Recorded.CountedBefore, LastBefore),
// those read in batches before the first is replayed. Errors: the
// database's.
func (h ruleHistory) Scan(ctx context.Context, from, to time.Time, read func(n int64) error, fn func(*rules.Recorded) error) error {
	rg, err := h.s.acts.ReadRange(ctx, from, to, read)
	if err != nil {
		return err
	}
	joined, err := h.joinedFrom(ctx, rg.Unsnapshotted())
	if err != nil {
		return err
	}
	before, err := h.s.acts.PurchasesBeforeRange(ctx, joined, from)
	if err != nil {
		return err
	}
	paid, err := h.s.ledger.BirthdaysPaid(ctx, rg.Birthdays())
	if err != nil {
		return err
	}
	paidWith := make(map[string]int, len(paid)) // an activity's hex id → the year it paid
	for k, src := range paid {
		paidWith[src] = k.Year
	}
	return rg.Each(func(x *rules.Recorded) error {
		if !x.Snapshotted {
			x.JoinedFrom = joined[x.MemberID]
			b := before[x.MemberID]
			x.CountedBefore, x.LastBefore = b.Counted, b.Last
			x.PaidBirthday = paidWith[x.Activity.ID.Hex()]
		} else if y := x.Snapshot.BirthdayYear; y != 0 {
			src, ok := paid[ledger.BirthdayKey{Member: x.MemberID, Year: y}]
			x.BirthdayPaidElsewhere = ok && src != x.Activity.ID.Hex()
		}
		return fn(x)
	})
}

// joinBatch is how many members one read of join dates asks for (well
// under the 16 MB a command may hold: an id is 12 bytes).
const joinBatch = 10_000

// joinedFrom is joinedFrom of each of members, one read per joinBatch of
// them; a member no longer found is left out (their purchases count from
// any date).
func (h ruleHistory) joinedFrom(ctx context.Context, members []bson.ObjectID) (map[bson.ObjectID]time.Time, error) {
	out := make(map[bson.ObjectID]time.Time, len(members))
	for batch := range slices.Chunk(members, joinBatch) {
		ms, err := h.s.members.GetMany(ctx, batch)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m != nil {
				out[m.ID] = joinedFrom(m)
			}
		}
	}
	return out, nil
}

// Explained is activity id with the snapshot recorded for it, or, for an
// activity recorded while no brand rule of its kind was active, the
// member as they are now (badges; tier, unless the purchase recorded the
// one it was made in: activity.Activity.Tier) with what the activity's own
// records say: a purchase's position by date and previous purchase as
// counted now, whether its entry paid the first-purchase bonus, and the
// birthday month it was dated and recorded in. Either way, a birthday
// reward the ledger paid with something else is BirthdayPaidElsewhere.
// Errors: activity.ErrNotFound.
func (h ruleHistory) Explained(ctx context.Context, id bson.ObjectID) (*rules.Recorded, error) {
	a, err := h.s.acts.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	x := &rules.Recorded{Activity: a.ForRules(), MemberID: a.MemberID, Snapshotted: a.RuleSnapshot != nil}
	// paidElsewhere tells whether the birthday reward of year y was paid
	// with something else than a (another activity, the campaign).
	paidElsewhere := func(y int) (bool, error) {
		e, err := h.s.ledger.ByKey(ctx, a.MemberID, "birthday:"+strconv.Itoa(y))
		if errors.Is(err, mongo.ErrNoDocuments) {
			return false, nil
		}
		return err == nil && e.Source.ID != a.ID.Hex(), err
	}
	if a.RuleSnapshot != nil {
		x.Snapshot = *a.RuleSnapshot
		if y := x.Snapshot.BirthdayYear; y != 0 {
			if x.BirthdayPaidElsewhere, err = paidElsewhere(y); err != nil {
				return nil, err
			}
		}
		return x, nil
	}
	m, err := h.s.members.Get(ctx, a.MemberID)
	if err != nil {
		return nil, err
	}
	if y := birthdayYear(m, a); y != 0 {
		x.Snapshot.BirthdayYear = y
		if x.BirthdayPaidElsewhere, err = paidElsewhere(y); err != nil {
			return nil, err
		}
	}
	x.Snapshot.Tier, x.Tier = a.Tier, a.Tier // the tier the purchase was made in
	if a.Tier == "" {
		// Recorded before activities kept it: the member's tier now.
		st, _, err := h.s.ledger.Head(ctx, a.MemberID)
		if err != nil {
			return nil, err
		}
		x.Snapshot.Tier = st.Tier.Name
	}
	if x.Snapshot.Badges, err = h.s.engagement.HeldBadges(ctx, a.MemberID); err != nil {
		return nil, err
	}
	if a.Kind != program.ActivityPurchase {
		return x, nil
	}
	if rules.Counted(a.OccurredAt, joinedFrom(m)) {
		n, err := h.s.acts.PurchasesBefore(ctx, a, joinedFrom(m))
		if err != nil {
			return nil, err
		}
		x.Snapshot.Purchase = n + 1
	}
	prev, err := h.s.acts.PreviousPurchase(ctx, a)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		x.Snapshot.LastPurchaseAt = &prev.OccurredAt
	}
	e, err := h.s.ledger.ByKey(ctx, a.MemberID, "act:"+a.ID.Hex())
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	for _, l := range entryLines(e) {
		x.Snapshot.First = x.Snapshot.First || l.Rule == rules.RuleFirstPurchase
	}
	return x, nil
}

// entryLines are e's lines; none without an entry.
func entryLines(e *ledger.Entry) []ledger.Line {
	if e == nil {
		return nil
	}
	return e.Lines
}
