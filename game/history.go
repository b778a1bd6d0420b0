package game

import (
	"context"
	"errors"
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

// Scan streams a range's activities for a dry run (activity.Store.Scan).
func (h ruleHistory) Scan(ctx context.Context, from, to time.Time, read func(n int64) error, fn func(*rules.Recorded) error) error {
	return h.s.acts.Scan(ctx, from, to, read, fn)
}

// Explained is activity id with the snapshot recorded for it, or, for an
// activity recorded while no brand rule of its kind was active, the
// member as they are now (tier, badges) with what the activity's own
// records say: a purchase's position by date and previous purchase as
// counted now, and whether its entry paid the first-purchase bonus.
// Errors: activity.ErrNotFound.
func (h ruleHistory) Explained(ctx context.Context, id bson.ObjectID) (*rules.Recorded, error) {
	a, err := h.s.acts.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	x := &rules.Recorded{Activity: a.ForRules(), MemberID: a.MemberID, Snapshotted: a.RuleSnapshot != nil}
	if a.RuleSnapshot != nil {
		x.Snapshot = *a.RuleSnapshot
		return x, nil
	}
	st, _, err := h.s.ledger.Head(ctx, a.MemberID)
	if err != nil {
		return nil, err
	}
	x.Snapshot.Tier = st.Tier.Name
	if x.Snapshot.Badges, err = h.s.engagement.HeldBadges(ctx, a.MemberID); err != nil {
		return nil, err
	}
	if a.Kind != program.ActivityPurchase {
		return x, nil
	}
	m, err := h.s.members.Get(ctx, a.MemberID)
	if err != nil {
		return nil, err
	}
	if !a.OccurredAt.Before(joinedFrom(m)) {
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
