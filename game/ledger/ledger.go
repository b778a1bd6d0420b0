// Package ledger is the points ledger: each member's append-only chain of
// entries (internal/chain), lots with their expiry, pending points, and the
// tier a member qualifies for. It owns the collection ledger. An entry
// stores the member's state after it, so the newest entry is the current
// state; every effect has a key, so it is appended once.
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/internal/byid"
	"github.com/regulars/regulars/internal/chain"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
)

var (
	// ErrInsufficientPoints refuses a debit larger than the member's
	// spendable points (a redemption, a coupon, a streak freeze, an
	// adjustment).
	ErrInsufficientPoints = fault.New(fault.Invalid, "not enough points")
	// ErrBalanceCap refuses a credit that would take a balance past
	// program.MaxBalance.
	ErrBalanceCap = fault.New(fault.Invalid, "the balance would pass its bound")
	// ErrIdempotencyReuse refuses an idempotency key (of an activity, an
	// adjustment, a redemption) sent again with different input: the
	// first request's result stands and nothing is written. Callers wrap
	// it with the field of the key (input.Wrap).
	ErrIdempotencyReuse = fault.New(fault.IdempotencyKeyReused, "idempotency key already used with different input; send a new key for a new request")
	ErrEntryNotFound    = fault.New(fault.NotFound, "ledger entry not found")
)

// Fingerprint digests the meaningful input of a keyed request, so a replay
// of the key can be told from another request under it (ErrIdempotencyReuse):
// SHA-256 of the parts in Go syntax (%#v), which is exact and stable for
// the plain values, slices and structs passed.
func Fingerprint(parts ...any) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%#v", parts)))
	return hex.EncodeToString(sum[:16])
}

// ExpiresAfter is when points credited at now expire, days later; nil (never)
// for 0 days.
func ExpiresAfter(now time.Time, days int) *time.Time {
	if days == 0 {
		return nil
	}
	t := now.AddDate(0, 0, days)
	return &t
}

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

// SourceKind says what caused an entry; Source.ID holds the database id
// (hex) of the object named here, or a key where there is none.
type SourceKind string

const (
	SourceActivity     SourceKind = "ACTIVITY"      // the activity (purchase, refund, check-in, review)
	SourceRedemption   SourceKind = "REDEMPTION"    // the reward redemption, or its cancellation
	SourceReferral     SourceKind = "REFERRAL"      // the referee's qualifying purchase (an activity), both sides
	SourceAdjustment   SourceKind = "ADJUSTMENT"    // no object: the adjustment's idempotency key
	SourceLot          SourceKind = "LOT"           // the crediting entry whose lot expired
	SourceBirthday     SourceKind = "BIRTHDAY"      // the activity that found the birthday, or a campaign key
	SourceBadge        SourceKind = "BADGE"         // the badge whose level paid a bonus
	SourceOffer        SourceKind = "OFFER"         // the offer claimed
	SourceStreakFreeze SourceKind = "STREAK_FREEZE" // no object: the purchase's idempotency key
	SourceEvent        SourceKind = "EVENT"         // a members-only event (attendance)
	SourcePost         SourceKind = "POST"          // a community post
)

// SourceKinds lists every SourceKind; the API maps each to a type.
var SourceKinds = []SourceKind{SourceActivity, SourceRedemption, SourceReferral, SourceAdjustment, SourceLot, SourceBirthday,
	SourceBadge, SourceOffer, SourceStreakFreeze, SourceEvent, SourcePost}

// Source links an entry to what caused it.
type Source struct {
	Kind SourceKind `bson:"kind"`
	ID   string     `bson:"id"`
}

// Line is one rule's part of an entry: the member's answer to "why did I
// get these points?".
type Line struct {
	Rule string `bson:"rule"`
	// RuleVersion is the version of the brand's earning rule (game/rules)
	// that made the line; 0 for the program's built-in earning.
	RuleVersion int64  `bson:"ruleVersion,omitempty"`
	Points      int64  `bson:"points"`
	Reason      string `bson:"reason"`
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
	// Capped holds points earned today under a rule with a daily cap, by
	// "<rule>:<member's local day>" (community posts); only the current
	// day of each rule is kept.
	Capped map[string]int64 `bson:"capped,omitempty"`
}

func (s State) Clone() State {
	c := s
	c.Lots = slices.Clone(s.Lots)
	c.Earned = maps.Clone(s.Earned)
	c.Spend = maps.Clone(s.Spend)
	c.Boards = maps.Clone(s.Boards)
	c.Capped = maps.Clone(s.Capped)
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

func MonthKey(t time.Time) string { return t.UTC().Format("2006-01") }

// spendable reports whether a lot can be spent at now.
func (l Lot) Spendable(now time.Time) bool {
	return !l.AvailableAt.After(now) && (l.ExpiresAt == nil || l.ExpiresAt.After(now))
}

// Available is the points spendable at now.
func (s *State) Available(now time.Time) int64 {
	var n int64
	for _, l := range s.Lots {
		if l.Spendable(now) {
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
func (s *State) Credit(e *Entry, points int64, availableAt time.Time, expiresAt *time.Time) {
	e.Amount += points
	s.Balance += points
	e.AvailableAt, e.ExpiresAt = &availableAt, expiresAt
	s.Lots = append(s.Lots, Lot{ID: e.ID, Points: points, AvailableAt: availableAt, ExpiresAt: expiresAt, Source: e.Source})
}

// debit takes up to points from the lots, soonest to expire first; first
// names a lot to draw from before any other (a refund's own purchase). With
// spendableOnly, pending and expired lots are left alone.
func (s *State) Debit(e *Entry, points int64, now time.Time, spendableOnly bool, first *bson.ObjectID) int64 {
	order := make([]int, 0, len(s.Lots))
	for i, l := range s.Lots {
		if !spendableOnly || l.Spendable(now) || (first != nil && l.ID == *first) {
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
	// clock is now to the nanosecond: the reads' "as of" (points.go).
	clock func() time.Time
}

// New returns the ledger kept in c; now is the clock.
//
// Times are kept to the millisecond, as MongoDB stores them, so an entry
// answered when it is made reads the same as when it is read back (a
// replay answers the stored entry).
func New(c *mongo.Collection, now func() time.Time) *Ledger {
	return &Ledger{store: newLedgerStore(c), now: func() time.Time { return now().Truncate(time.Millisecond) }, clock: now}
}

// Collection is the ledger's collection, for queries across members (the
// expiry job, campaigns).
func (l *Ledger) Collection() *mongo.Collection { return l.store.c }

// EnsureIndexes creates the indexes the ledger's queries rely on; safe to repeat.
func (l *Ledger) EnsureIndexes(ctx context.Context) error {
	return mongoindex.Ensure(ctx, l.store.c, l.store.indexes()...)
}

// EntriesByID returns entries in the order of ids, nil for the missing
// ones: one query on _id, whatever the number of ids (graph's node lookups).
func (l *Ledger) EntriesByID(ctx context.Context, ids []bson.ObjectID) ([]*Entry, error) {
	return byid.Find(ctx, l.store.c, ids, func(e *Entry) bson.ObjectID { return e.ID })
}

// ByKey returns a member's entry with key, or mongo.ErrNoDocuments.
func (l *Ledger) ByKey(ctx context.Context, memberID bson.ObjectID, key string) (*Entry, error) {
	return l.store.seq.ByKey(ctx, memberID, key)
}

// BirthdayKey names a member's birthday reward of one year: the entry
// keyed "birthday:<year>", paid once a year (game's built-in birthday
// rule or its birthday campaign, whichever comes first).
type BirthdayKey struct {
	Member bson.ObjectID
	Year   int
}

// birthdayBatch is how many members one read of BirthdaysPaid asks for.
const birthdayBatch = 10_000

// BirthdaysPaid returns the birthday rewards paid to members, each with the
// source it was paid with (Source.ID: an activity's hex id, or
// "campaign:<year>"). One read per 10,000 members, each a range of the
// member_key index.
func (l *Ledger) BirthdaysPaid(ctx context.Context, members []bson.ObjectID) (map[BirthdayKey]string, error) {
	out := map[BirthdayKey]string{}
	for batch := range slices.Chunk(members, birthdayBatch) {
		cur, err := l.store.c.Find(ctx, bson.D{{Key: "memberId", Value: bson.D{{Key: "$in", Value: batch}}},
			{Key: "key", Value: bson.D{{Key: "$gte", Value: "birthday:"}, {Key: "$lt", Value: "birthday;"}}}},
			options.Find().SetHint(IndexKey).SetProjection(bson.D{{Key: "memberId", Value: 1}, {Key: "key", Value: 1}, {Key: "source", Value: 1}}))
		if err != nil {
			return nil, err
		}
		var es []Entry
		if err := cur.All(ctx, &es); err != nil {
			return nil, err
		}
		for _, e := range es {
			if y, err := strconv.Atoi(strings.TrimPrefix(e.Key, "birthday:")); err == nil {
				out[BirthdayKey{e.MemberID, y}] = e.Source.ID
			}
		}
	}
	return out, nil
}

// BySource returns a member's entries caused by the source id, oldest first.
func (l *Ledger) BySource(ctx context.Context, memberID bson.ObjectID, sourceID string) ([]*Entry, error) {
	return l.store.bySource(ctx, memberID, sourceID)
}

// RefundsOf returns a member's refund entries of one purchase.
func (l *Ledger) RefundsOf(ctx context.Context, memberID bson.ObjectID, purchaseID string) ([]*Entry, error) {
	return l.store.refundsOf(ctx, memberID, purchaseID)
}

// change computes the entry to append from the head's state, which it may
// change; a nil entry means there is nothing to append.
type Change func(st *State, e *Entry, now time.Time) (bool, error)

// append adds the entry that ch makes to a member's chain under key, exactly
// once: if key is already in the chain, that entry is returned and created
// is false. With a program, the member's tier is re-evaluated after the change.
func (l *Ledger) Append(ctx context.Context, p *program.Program, memberID bson.ObjectID, key string, typ EntryType, src Source, ch Change) (*Entry, bool, error) {
	return l.store.seq.Append(ctx, memberID, key, l.next(p, memberID, key, typ, src, ch))
}

// AppendNew is Append for a key that is most likely new (its cause was
// just recorded): it reads the head and inserts, reading the key only
// when the insert collides (chain.AppendNew): one read fewer than Append.
func (l *Ledger) AppendNew(ctx context.Context, p *program.Program, memberID bson.ObjectID, key string, typ EntryType, src Source, ch Change) (*Entry, bool, error) {
	return l.store.seq.AppendNew(ctx, memberID, key, l.next(p, memberID, key, typ, src, ch))
}

// AppendAfter is Append on the member's head entry as the caller read it
// a moment ago (Newest; nil: read it): a new key costs one insert, and a
// head another writer moved meanwhile is read again (chain.AppendAfter).
// ch must write nothing: it may run for a key already in the ledger, or on
// a stale head whose result is then discarded.
func (l *Ledger) AppendAfter(ctx context.Context, p *program.Program, memberID bson.ObjectID, head *Entry, key string, typ EntryType, src Source, ch Change) (*Entry, bool, error) {
	return l.store.seq.AppendAfter(ctx, memberID, key, head, l.next(p, memberID, key, typ, src, ch))
}

// Newest returns the member's head entry (a zero entry, Seq 0, for an
// empty ledger), for AppendAfter.
func (l *Ledger) Newest(ctx context.Context, memberID bson.ObjectID) (*Entry, error) {
	return l.store.seq.Head(ctx, memberID)
}

// next builds the entry ch makes on a head.
func (l *Ledger) next(p *program.Program, memberID bson.ObjectID, key string, typ EntryType, src Source, ch Change) func(head *Entry) (*Entry, error) {
	return func(head *Entry) (*Entry, error) {
		now := l.now().UTC()
		st := head.State.Clone()
		e := &Entry{ID: bson.NewObjectID(), MemberID: memberID, Seq: head.Seq + 1, Key: key, Type: typ, Source: src, CreatedAt: now}
		ok, err := ch(&st, e, now)
		if err != nil || !ok {
			return nil, err
		}
		if e.Amount > 0 && st.Balance > program.MaxBalance {
			return nil, ErrBalanceCap
		}
		if p != nil {
			e.TierChange = EvaluateTier(&st, p, now)
		}
		e.State = st
		return e, nil
	}
}

// Head returns a member's current ledger state and its sequence number.
func (l *Ledger) Head(ctx context.Context, memberID bson.ObjectID) (State, int64, error) {
	h, err := l.store.seq.Head(ctx, memberID)
	if err != nil {
		return State{}, 0, err
	}
	return h.State.Clone(), h.Seq, nil
}

// Entries lists a member's entries newest first, older than before (0: newest).
func (l *Ledger) Entries(ctx context.Context, memberID bson.ObjectID, before int64, limit int) ([]*Entry, bool, error) {
	es, err := l.store.seq.Page(ctx, memberID, before, limit+1)
	if err != nil {
		return nil, false, err
	}
	es, more := page.Cut(es, limit)
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

// Expiring returns the members holding a lot that expires after after and
// by until, in the order first seen (the expiry job, the expiry warning);
// backed by IndexExpiry.
func (l *Ledger) Expiring(ctx context.Context, after, until time.Time) ([]bson.ObjectID, error) {
	cur, err := l.store.c.Find(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: after}, {Key: "$lte", Value: until}}}},
		options.Find().SetProjection(bson.D{{Key: "memberId", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		MemberID bson.ObjectID `bson:"memberId"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	seen := map[bson.ObjectID]bool{}
	var ids []bson.ObjectID
	for _, d := range docs {
		if !seen[d.MemberID] {
			seen[d.MemberID] = true
			ids = append(ids, d.MemberID)
		}
	}
	return ids, nil
}

// ExpiryTierMoves returns the EXPIRE entries written after after and by
// until that moved a member's tier (the expiry job announces them); backed
// by IndexExpiryMoves.
func (l *Ledger) ExpiryTierMoves(ctx context.Context, after, until time.Time) ([]*Entry, error) {
	cur, err := l.store.c.Find(ctx, bson.D{{Key: "type", Value: EntryExpire}, {Key: "tierChange", Value: bson.D{{Key: "$exists", Value: true}}},
		{Key: "createdAt", Value: bson.D{{Key: "$gt", Value: after}, {Key: "$lte", Value: until}}}})
	if err != nil {
		return nil, err
	}
	var es []*Entry
	return es, cur.All(ctx, &es)
}

// Total adds up a member's entries of one type (their referral rewards,
// net of reversals); backed by IndexReferee.
func (l *Ledger) Total(ctx context.Context, memberID bson.ObjectID, typ EntryType) (int64, error) {
	cur, err := l.store.c.Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "type", Value: typ}},
		options.Find().SetProjection(bson.D{{Key: "amount", Value: 1}}))
	if err != nil {
		return 0, err
	}
	var es []struct {
		Amount int64 `bson:"amount"`
	}
	if err := cur.All(ctx, &es); err != nil {
		return 0, err
	}
	var sum int64
	for _, e := range es {
		sum += e.Amount
	}
	return sum, nil
}

// errLedgerBroken is a breach of the invariant: a bug, never the caller's doing.
var errLedgerBroken = errors.New("ledger invariant broken")

// Verify checks a member's ledger against its invariant: the balance kept
// on the newest entry equals the sum of every entry and the points of the
// open lots, no open lot is empty, and the balance is not negative. It
// returns an error saying what disagrees on a breach.
func (l *Ledger) Verify(ctx context.Context, memberID bson.ObjectID) error {
	st, _, err := l.Head(ctx, memberID)
	if err != nil {
		return err
	}
	sum, err := l.Sum(ctx, memberID)
	if err != nil {
		return err
	}
	var lots int64
	for _, lot := range st.Lots {
		if lot.Points <= 0 {
			return fmt.Errorf("%w: lot %s holds %d points", errLedgerBroken, lot.ID.Hex(), lot.Points)
		}
		lots += lot.Points
	}
	if st.Balance != sum || st.Balance != lots || st.Balance < 0 {
		return fmt.Errorf("%w: balance %d, ledger sum %d, lots %d: they must agree and not be negative", errLedgerBroken, st.Balance, sum, lots)
	}
	return nil
}

// ExpireDue writes an EXPIRE entry for every lot past its expiry. Each
// lot's key makes it safe for any number of instances to run at once.
func (l *Ledger) ExpireDue(ctx context.Context, p *program.Program, memberID bson.ObjectID) ([]*Entry, error) {
	_, out, err := l.expireDue(ctx, p, memberID)
	return out, err
}

// expireDue is ExpireDue, answering the head entry after it too: the
// one it read when nothing was due, else the head read again.
func (l *Ledger) expireDue(ctx context.Context, p *program.Program, memberID bson.ObjectID) (*Entry, []*Entry, error) {
	head, err := l.Newest(ctx, memberID)
	if err != nil {
		return nil, nil, err
	}
	st := head.State
	now := l.now()
	var out []*Entry
	due := false
	for _, lot := range st.Lots {
		if lot.ExpiresAt == nil || lot.ExpiresAt.After(now) {
			continue
		}
		due = true
		lotID := lot.ID
		e, created, err := l.Append(ctx, p, memberID, "expire:"+lotID.Hex(), EntryExpire, Source{Kind: SourceLot, ID: lotID.Hex()},
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
			return nil, out, err
		}
		if created {
			out = append(out, e)
		}
	}
	if due {
		if head, err = l.Newest(ctx, memberID); err != nil {
			return nil, out, err
		}
	}
	return head, out, nil
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
	IndexSeq     = chain.IndexSeq
	IndexKey     = chain.IndexKey
	IndexExpiry  = "expiresAt"
	IndexReferee = "member_type"
	IndexSource  = "member_source"
	// IndexExpiryMoves finds the expiries that moved a tier, by when.
	IndexExpiryMoves = "type_createdAt"
)

func (s ledgerStore) indexes() []mongo.IndexModel {
	return append(s.seq.Indexes(),
		// The expiry job finds lots coming due.
		mongo.IndexModel{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: options.Index().SetName(IndexExpiry)},
		// An activity's effects, for replays.
		mongo.IndexModel{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "source.id", Value: 1}}, Options: options.Index().SetName(IndexSource)},
		// Refunds of a purchase and referral totals per member.
		mongo.IndexModel{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "type", Value: 1}}, Options: options.Index().SetName(IndexReferee)},
		// The expiry job's tier moves to announce.
		mongo.IndexModel{Keys: bson.D{{Key: "type", Value: 1}, {Key: "createdAt", Value: 1}}, Options: options.Index().SetName(IndexExpiryMoves)},
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

// boardGrace keeps a period's standings open after it ends.
func boardGrace(p *program.Program) time.Duration {
	return time.Duration(p.LeaderboardGraceHours) * time.Hour
}

// BoardKey names the board of period holding the instant at.
func BoardKey(p *program.Program, period leaderboard.Period, at time.Time) string {
	return leaderboard.Key(p.Location(), period, at)
}

// BoardFinal reports whether a board's standings can no longer change.
func BoardFinal(p *program.Program, key string, now time.Time) bool {
	return leaderboard.Final(p.Location(), boardGrace(p), key, now)
}

// earn counts points a member earned at `at` (negative for a clawback):
// toward tiers and toward the leaderboards of at's periods that are still open.
func (s *State) Earn(p *program.Program, e *Entry, points int64, at time.Time) {
	s.Earned[MonthKey(at)] += points
	for _, period := range leaderboard.Periods {
		key := BoardKey(p, period, at)
		if BoardFinal(p, key, e.CreatedAt) {
			continue
		}
		s.Boards[key] = min(max(s.Boards[key]+points, 0), leaderboard.MaxScore)
		if !slices.Contains(e.Boards, key) {
			e.Boards = append(e.Boards, key)
		}
	}
	// Forget the scores of final periods; the boards keep them.
	for key := range s.Boards {
		if BoardFinal(p, key, e.CreatedAt) {
			delete(s.Boards, key)
		}
	}
}

// TierState is where a member stands in the tiers.
type TierState struct {
	Name string `bson:"name"`
	// Since the last upgrade or re-qualification.
	Since time.Time `bson:"since"`
	// QualifiedUntil ends the qualification period; a member keeps the tier
	// at least until then plus the grace period.
	QualifiedUntil time.Time `bson:"qualifiedUntil"`
}

// TierChange is a move between tiers that an entry caused.
type TierChange struct {
	From string `bson:"from"`
	To   string `bson:"to"`
}

// qualifyingMetric is what tiers are measured on over the program's window:
// points earned (never the balance, which spending lowers) or money spent.
func qualifyingMetric(st *State, p *program.Program, now time.Time) int64 {
	byMonth := st.Earned
	if p.TierBasis == program.TierBasisSpend {
		byMonth = st.Spend
	}
	var sum int64
	first := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(p.TierWindowMonths - 1), 0)
	for m := first; !m.After(now); m = m.AddDate(0, 1, 0) {
		sum += byMonth[MonthKey(m)]
	}
	return sum
}

// qualifiedTier is the highest tier the metric reaches.
func qualifiedTier(p *program.Program, metric int64) int {
	best := 0
	for i, t := range p.Tiers {
		if metric >= t.Threshold {
			best = i
		}
	}
	return best
}

// evaluateTier moves the member's tier as the rules say: up at once, down
// only after the qualification period and its grace have passed.
func EvaluateTier(st *State, p *program.Program, now time.Time) *TierChange {
	if len(p.Tiers) == 0 {
		return nil
	}
	metric := qualifyingMetric(st, p, now)
	want := qualifiedTier(p, metric)
	cur := p.TierRank(st.Tier.Name)
	window := func() time.Time { return now.AddDate(0, p.TierWindowMonths, 0) }
	switch {
	case cur < 0: // new member, or the brand renamed the tier
		st.Tier = TierState{Name: p.Tiers[want].Name, Since: now, QualifiedUntil: window()}
		if st.Tier.Name == "" || want == 0 {
			return nil
		}
		return &TierChange{To: st.Tier.Name}
	case want > cur:
		from := st.Tier.Name
		st.Tier = TierState{Name: p.Tiers[want].Name, Since: now, QualifiedUntil: window()}
		return &TierChange{From: from, To: st.Tier.Name}
	case now.After(st.Tier.QualifiedUntil.AddDate(0, 0, p.TierGraceDays)):
		// The period is over: re-qualify at whatever the window supports.
		from := st.Tier.Name
		st.Tier = TierState{Name: p.Tiers[want].Name, Since: now, QualifiedUntil: window()}
		if want == cur {
			return nil
		}
		return &TierChange{From: from, To: st.Tier.Name}
	}
	return nil
}

// TierStatus is a member's tier, the next one and how far they are.
type TierStatus struct {
	Current        program.Tier
	Next           *program.Tier
	Metric         int64 // points earned or spend in the window
	Basis          program.TierBasis
	ToNext         int64 // what is missing for Next
	QualifiedUntil time.Time
}

// tierStatus evaluates st at now without writing anything.
func StatusOf(st State, p *program.Program, now time.Time) TierStatus {
	st = st.Clone()
	EvaluateTier(&st, p, now)
	cur := max(p.TierRank(st.Tier.Name), 0)
	ts := TierStatus{Current: p.Tiers[cur], Metric: qualifyingMetric(&st, p, now), Basis: p.TierBasis, QualifiedUntil: st.Tier.QualifiedUntil}
	if cur+1 < len(p.Tiers) {
		next := p.Tiers[cur+1]
		ts.Next = &next
		ts.ToNext = max(next.Threshold-ts.Metric, 0)
	}
	return ts
}
