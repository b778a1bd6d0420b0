package game

import (
	"context"
	"maps"
	"slices"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/chain"
)

// EntryType says what a ledger entry did.
type EntryType string

const (
	EntryEarn     EntryType = "EARN"
	EntryRedeem   EntryType = "REDEEM"
	EntryExpire   EntryType = "EXPIRE"
	EntryAdjust   EntryType = "ADJUST"
	EntryRefund   EntryType = "REFUND"
	EntryReferral EntryType = "REFERRAL"
)

// SourceKind says what caused an entry.
type SourceKind string

const (
	SourceActivity   SourceKind = "ACTIVITY"
	SourceRedemption SourceKind = "REDEMPTION"
	SourceReferral   SourceKind = "REFERRAL"
	SourceAdjustment SourceKind = "ADJUSTMENT"
	SourceLot        SourceKind = "LOT"
	SourceBirthday   SourceKind = "BIRTHDAY"
	SourceBadge      SourceKind = "BADGE"
)

// Source links an entry to what caused it.
type Source struct {
	Kind SourceKind `bson:"kind"`
	ID   string     `bson:"id"`
}

// Line is one rule's part of an entry: the member's answer to "why did I
// get these points?".
type Line struct {
	Rule   string `bson:"rule"`
	Points int64  `bson:"points"`
	Reason string `bson:"reason"`
}

// Entry is one append-only ledger entry. Amount is its signed effect on the
// balance; a credit opens a lot that spending and expiry draw from.
type Entry struct {
	ID       bson.ObjectID `bson:"_id"`
	MemberID bson.ObjectID `bson:"memberId"`
	Seq      int64         `bson:"seq"`
	Key      string        `bson:"key"`
	Type     EntryType     `bson:"type"`
	Amount   int64         `bson:"amount"`
	Reason   string        `bson:"reason"`
	Lines    []Line        `bson:"lines,omitempty"`
	Source   Source        `bson:"source"`
	// For credits: when the points become spendable and when they expire.
	AvailableAt *time.Time `bson:"availableAt,omitempty"`
	ExpiresAt   *time.Time `bson:"expiresAt,omitempty"`
	// For debits: the points that could not be taken (a clawback never
	// takes the balance below zero).
	Shortfall int64  `bson:"shortfall,omitempty"`
	Draws     []Draw `bson:"draws,omitempty"`
	Note      string `bson:"note,omitempty"`
	// For refunds: the money refunded and the purchase it belongs to.
	RefundMinor int64  `bson:"refundMinor,omitempty"`
	RefundOf    string `bson:"refundOf,omitempty"`
	// Boards lists the leaderboard periods whose score this entry changed.
	Boards []string `bson:"boards,omitempty"`
	// TierChange is the tier move this entry caused.
	TierChange *TierChange `bson:"tierChange,omitempty"`
	CreatedAt  time.Time   `bson:"createdAt"`
	// State is the member's ledger after this entry; the newest entry's is current.
	State State `bson:"state"`
}

// Draw is what a debit took from one lot.
type Draw struct {
	Lot    bson.ObjectID `bson:"lot"`
	Points int64         `bson:"points"`
}

// Lot is points from one credit, spendable from AvailableAt until ExpiresAt.
type Lot struct {
	ID          bson.ObjectID `bson:"id"` // the crediting entry
	Points      int64         `bson:"points"`
	AvailableAt time.Time     `bson:"availableAt"`
	ExpiresAt   *time.Time    `bson:"expiresAt,omitempty"`
	Source      Source        `bson:"source"`
}

// State is a member's ledger at one point of its chain.
type State struct {
	Balance   int64            `bson:"balance"` // always the sum of all entries' amounts
	Lots      []Lot            `bson:"lots"`
	Purchases int64            `bson:"purchases"`
	Earned    map[string]int64 `bson:"earned"` // points earned by UTC month "2006-01", net of clawbacks
	Spend     map[string]int64 `bson:"spend"`  // purchases by month, minor units, net of refunds
	Tier      TierState        `bson:"tier"`
	// Boards holds the member's leaderboard scores of open periods.
	Boards map[string]int64 `bson:"boards"`
}

func (s State) clone() State {
	c := s
	c.Lots = slices.Clone(s.Lots)
	c.Earned = maps.Clone(s.Earned)
	c.Spend = maps.Clone(s.Spend)
	c.Boards = maps.Clone(s.Boards)
	if c.Boards == nil {
		c.Boards = map[string]int64{}
	}
	if c.Earned == nil {
		c.Earned = map[string]int64{}
	}
	if c.Spend == nil {
		c.Spend = map[string]int64{}
	}
	return c
}

func monthKey(t time.Time) string { return t.UTC().Format("2006-01") }

// spendable reports whether a lot can be spent at now.
func (l Lot) spendable(now time.Time) bool {
	return !l.AvailableAt.After(now) && (l.ExpiresAt == nil || l.ExpiresAt.After(now))
}

// Available is the points spendable at now.
func (s *State) Available(now time.Time) int64 {
	var n int64
	for _, l := range s.Lots {
		if l.spendable(now) {
			n += l.Points
		}
	}
	return n
}

// Pending is the points still inside a return window at now.
func (s *State) Pending(now time.Time) int64 {
	var n int64
	for _, l := range s.Lots {
		if l.AvailableAt.After(now) {
			n += l.Points
		}
	}
	return n
}

// credit opens a lot for e.
func (s *State) credit(e *Entry, points int64, availableAt time.Time, expiresAt *time.Time) {
	e.Amount += points
	s.Balance += points
	e.AvailableAt, e.ExpiresAt = &availableAt, expiresAt
	s.Lots = append(s.Lots, Lot{ID: e.ID, Points: points, AvailableAt: availableAt, ExpiresAt: expiresAt, Source: e.Source})
}

// debit takes up to points from the lots, soonest to expire first; first
// names a lot to draw from before any other (a refund's own purchase). With
// spendableOnly, pending and expired lots are left alone.
func (s *State) debit(e *Entry, points int64, now time.Time, spendableOnly bool, first *bson.ObjectID) int64 {
	order := make([]int, 0, len(s.Lots))
	for i, l := range s.Lots {
		if !spendableOnly || l.spendable(now) || (first != nil && l.ID == *first) {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		la, lb := s.Lots[order[a]], s.Lots[order[b]]
		if first != nil && (la.ID == *first) != (lb.ID == *first) {
			return la.ID == *first
		}
		switch {
		case la.ExpiresAt == nil:
			return false
		case lb.ExpiresAt == nil:
			return true
		}
		return la.ExpiresAt.Before(*lb.ExpiresAt)
	})
	var taken int64
	for _, i := range order {
		if taken == points {
			break
		}
		n := min(points-taken, s.Lots[i].Points)
		s.Lots[i].Points -= n
		taken += n
		e.Draws = append(e.Draws, Draw{Lot: s.Lots[i].ID, Points: n})
	}
	s.Lots = slices.DeleteFunc(s.Lots, func(l Lot) bool { return l.Points == 0 })
	e.Amount -= taken
	s.Balance -= taken
	return taken
}

// Ledger appends entries to members' chains.
type Ledger struct {
	store ledgerStore
	now   func() time.Time
}

// change computes the entry to append from the head's state, which it may
// change; a nil entry means there is nothing to append.
type change func(st *State, e *Entry, now time.Time) (bool, error)

// append adds the entry that ch makes to a member's chain under key, exactly
// once: if key is already in the chain, that entry is returned and created
// is false. With a program, the member's tier is re-evaluated after the change.
func (l *Ledger) append(ctx context.Context, p *Program, memberID bson.ObjectID, key string, typ EntryType, src Source, ch change) (*Entry, bool, error) {
	return l.store.seq.Append(ctx, memberID, key, func(head *Entry) (*Entry, error) {
		now := l.now().UTC()
		st := head.State.clone()
		e := &Entry{ID: bson.NewObjectID(), MemberID: memberID, Seq: head.Seq + 1, Key: key, Type: typ, Source: src, CreatedAt: now}
		ok, err := ch(&st, e, now)
		if err != nil || !ok {
			return nil, err
		}
		if p != nil {
			e.TierChange = evaluateTier(&st, p, now)
		}
		e.State = st
		return e, nil
	})
}

// Head returns a member's current ledger state and its sequence number.
func (l *Ledger) Head(ctx context.Context, memberID bson.ObjectID) (State, int64, error) {
	h, err := l.store.seq.Head(ctx, memberID)
	if err != nil {
		return State{}, 0, err
	}
	return h.State.clone(), h.Seq, nil
}

// Entries lists a member's entries newest first, older than before (0: newest).
func (l *Ledger) Entries(ctx context.Context, memberID bson.ObjectID, before int64, limit int) ([]*Entry, bool, error) {
	es, err := l.store.seq.Page(ctx, memberID, before, limit+1)
	if err != nil {
		return nil, false, err
	}
	es, more := page(es, limit)
	return es, more, nil
}

// Sum adds up every entry of a member: the balance, recomputed from scratch.
func (l *Ledger) Sum(ctx context.Context, memberID bson.ObjectID) (int64, error) {
	var sum int64
	for before := int64(0); ; {
		es, more, err := l.Entries(ctx, memberID, before, 500)
		if err != nil {
			return 0, err
		}
		for _, e := range es {
			sum += e.Amount
			before = e.Seq
		}
		if !more {
			return sum, nil
		}
	}
}

// ExpireDue writes an EXPIRE entry for every lot past its expiry. Each
// lot's key makes it safe for any number of instances to run at once.
func (l *Ledger) ExpireDue(ctx context.Context, p *Program, memberID bson.ObjectID) ([]*Entry, error) {
	st, _, err := l.Head(ctx, memberID)
	if err != nil {
		return nil, err
	}
	now := l.now()
	var out []*Entry
	for _, lot := range st.Lots {
		if lot.ExpiresAt == nil || lot.ExpiresAt.After(now) {
			continue
		}
		lotID := lot.ID
		e, created, err := l.append(ctx, p, memberID, "expire:"+lotID.Hex(), EntryExpire, Source{Kind: SourceLot, ID: lotID.Hex()},
			func(st *State, e *Entry, now time.Time) (bool, error) {
				i := slices.IndexFunc(st.Lots, func(l Lot) bool { return l.ID == lotID })
				if i < 0 || st.Lots[i].Points == 0 {
					return false, nil // spent or refunded meanwhile
				}
				points := st.Lots[i].Points
				e.Draws = []Draw{{Lot: lotID, Points: points}}
				e.Amount, st.Balance = -points, st.Balance-points
				st.Lots = slices.Delete(st.Lots, i, i+1)
				e.Reason = "Points expired"
				e.Lines = []Line{{Rule: "expiry", Points: -points, Reason: "unspent points reached their expiry date"}}
				return true, nil
			})
		if err != nil {
			return out, err
		}
		if created {
			out = append(out, e)
		}
	}
	return out, nil
}

// ledgerStore keeps every member's chain of entries in one collection.
type ledgerStore struct {
	c   *mongo.Collection
	seq chain.Chain[Entry]
}

func newLedgerStore(c *mongo.Collection) ledgerStore {
	return ledgerStore{c: c, seq: chain.Chain[Entry]{C: c}}
}

const (
	indexLedgerSeq     = indexChainSeq
	indexLedgerKey     = indexChainKey
	indexLedgerExpiry  = "expiresAt"
	indexLedgerReferee = "member_type"
	indexLedgerSource  = "member_source"
)

func (s ledgerStore) indexes() []mongo.IndexModel {
	return append(s.seq.Indexes(),
		// The expiry job finds lots coming due.
		mongo.IndexModel{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: options.Index().SetName(indexLedgerExpiry)},
		// An activity's effects, for replays.
		mongo.IndexModel{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "source.id", Value: 1}}, Options: options.Index().SetName(indexLedgerSource)},
		// Refunds of a purchase and referral totals per member.
		mongo.IndexModel{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "type", Value: 1}}, Options: options.Index().SetName(indexLedgerReferee)},
	)
}

// refundsOf returns a member's refund entries of one purchase.
func (s ledgerStore) refundsOf(ctx context.Context, memberID bson.ObjectID, purchaseID string) ([]*Entry, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "type", Value: EntryRefund}, {Key: "refundOf", Value: purchaseID}})
	if err != nil {
		return nil, err
	}
	var es []*Entry
	return es, cur.All(ctx, &es)
}

// bySource returns a member's entries caused by the source id, oldest first.
func (s ledgerStore) bySource(ctx context.Context, memberID bson.ObjectID, sourceID string) ([]*Entry, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "source.id", Value: sourceID}},
		options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var es []*Entry
	return es, cur.All(ctx, &es)
}

// appendEntry appends to the ledger and records the entry, new or found
// again, in fx; the caller carries out its other effects (see effects).
func (s *Service) appendEntry(ctx context.Context, fx *effects, p *Program, memberID bson.ObjectID, key string, typ EntryType, src Source, ch change) (*Entry, bool, error) {
	e, created, err := s.ledger.append(ctx, p, memberID, key, typ, src, ch)
	if err == nil {
		fx.entry(e)
	}
	return e, created, err
}
