package activity

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
)

// replayed is what a dry run reads of an activity (the projection).
type replayed struct {
	ID           bson.ObjectID        `bson:"_id"`
	Kind         program.ActivityKind `bson:"kind"`
	ExternalID   string               `bson:"externalId"`
	MemberID     bson.ObjectID        `bson:"memberId"`
	AmountMinor  int64                `bson:"amountMinor"`
	OccurredAt   time.Time            `bson:"occurredAt"`
	Items        []LineItem           `bson:"items"`
	RuleSnapshot *rules.Snapshot      `bson:"ruleSnapshot"`
	Tier         string               `bson:"tier"`
}

// scanBatch is how many activities one round trip of a dry run brings
// (well under the 16 MB a batch may hold: an activity is a few hundred
// bytes).
const scanBatch = 10_000

// MaxScan is how many activities one Scan holds: it orders its range in
// memory, about 150 bytes an activity (some 750 MB at the cap, while the
// range is ordered).
const MaxScan = 5_000_000

// ErrScanTooLarge: a dry run's range holds more than MaxScan activities.
var ErrScanTooLarge = fault.New(fault.Conflict, fmt.Sprintf("the range holds more than %d activities: dry-run a shorter range", MaxScan))

// Scan calls fn with every activity of [from, to) but refunds, ordered by
// (occurredAt, id), for a dry run of earning rules (dryrun.Activities),
// into one reused Recorded. It reads only what the rules see, in one
// unsorted pass along IndexDate, keeps each activity as a compact record
// (scanRecord: about 150 bytes with one line item; tiers, kinds, badge
// sets, SKUs and categories are shared) and orders them in memory before
// the first call of fn. Sorting in the query instead makes a database
// that cannot sort along an index (the embedded one) decode and hold the
// whole range in its own, much larger, form before the first batch.
// While it reads, read (if not nil) is told how many activities it has
// read so far, after every scanBatch; an error from it stops the
// scan. Errors: ErrScanTooLarge past MaxScan activities, and the
// database's.
func (s *Store) Scan(ctx context.Context, from, to time.Time, read func(n int64) error, fn func(*rules.Recorded) error) error {
	rg, err := s.ReadRange(ctx, from, to, read)
	if err != nil {
		return err
	}
	return rg.Each(fn)
}

// Range is a range of activities read for a dry run (ReadRange), held in
// memory and ordered by (occurredAt, id).
type Range struct{ sc *scanned }

// ReadRange reads the range Scan replays and orders it, without calling
// anything for its activities yet: what to read beside them (the members'
// join dates, Unsnapshotted) is known before the first is replayed.
func (s *Store) ReadRange(ctx context.Context, from, to time.Time, read func(n int64) error) (*Range, error) {
	sc, err := s.readRange(ctx, from, to, read)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(sc.recs, func(a, b scanRecord) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
	return &Range{sc: sc}, nil
}

// Unsnapshotted are the members with a purchase in the range recorded
// without a snapshot (each once, in no order): those whose positions the
// replay counts itself.
func (r *Range) Unsnapshotted() []bson.ObjectID {
	ids := make([]bson.ObjectID, 0, len(r.sc.unsnapshotted))
	for id := range r.sc.unsnapshotted {
		ids = append(ids, id)
	}
	return ids
}

// Birthdays are the members whose birthday rewards a replay of the range
// must know: those of its activities without a snapshot (which of them
// paid one), and those whose snapshot found their birthday month
// (rules.Snapshot.BirthdayYear: whether another activity paid it).
func (r *Range) Birthdays() []bson.ObjectID {
	ids := make([]bson.ObjectID, 0, len(r.sc.birthdays))
	for id := range r.sc.birthdays {
		ids = append(ids, id)
	}
	return ids
}

// Each calls fn with the range's activities in order, into one reused
// Recorded; an error from fn stops it.
func (r *Range) Each(fn func(*rules.Recorded) error) error {
	var x rules.Recorded
	var last time.Time
	for i := range r.sc.recs {
		r.sc.fill(&x, &r.sc.recs[i], &last)
		if err := fn(&x); err != nil {
			return err
		}
	}
	return nil
}

// scanRecord is one activity of a scanned range: 96 bytes, plus its
// external id's bytes in scanned.external and its items (24 bytes each)
// in scanned.items. It holds no pointer, so that the garbage collector,
// which runs often while the database decodes the range, does not scan
// the records.
type scanRecord struct {
	id, member   bson.ObjectID
	at           int64 // occurredAt, in milliseconds since the epoch (a BSON date)
	last         int64 // ruleSnapshot.lastPurchaseAt, likewise (scanHasLast)
	amount       int64
	purchase     int64
	external, en uint32 // scanned.external[external : external+en]
	birthday     int32
	kind, tier   uint32 // in scanned.strings: the snapshot's tier, or without one the activity's (Activity.Tier)
	badges       uint32 // in scanned.badgeSets
	items, n     uint32 // scanned.items[items : items+n]
	flags        uint8
}

const (
	scanSnapshotted = 1 << iota
	scanFirst
	scanHasLast
)

type scanItem struct {
	sku, category uint32 // in scanned.strings
	quantity      int64
	priceMinor    int64
}

// scanned is a range read by Scan, its repeated strings held once.
type scanned struct {
	recs      []scanRecord
	items     []scanItem
	external  []byte
	strings   []string
	stringIDs map[string]uint32
	badgeSets [][]string
	badgeIDs  map[string]uint32
	// unsnapshotted are the members of purchases without a snapshot.
	unsnapshotted map[bson.ObjectID]struct{}
	// birthdays are the members whose birthday rewards the replay must
	// know: those of activities without a snapshot, and those whose
	// snapshot found their birthday month.
	birthdays map[bson.ObjectID]struct{}
}

func (s *Store) readRange(ctx context.Context, from, to time.Time, read func(n int64) error) (*scanned, error) {
	filter := bson.D{{Key: "occurredAt", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}},
		{Key: "kind", Value: bson.D{{Key: "$ne", Value: program.ActivityRefund}}}}
	cur, err := s.c.Find(ctx, filter, options.Find().SetHint(IndexDate).
		SetProjection(bson.D{{Key: "kind", Value: 1}, {Key: "externalId", Value: 1}, {Key: "memberId", Value: 1}, {Key: "amountMinor", Value: 1},
			{Key: "occurredAt", Value: 1}, {Key: "items", Value: 1}, {Key: "ruleSnapshot", Value: 1}, {Key: "tier", Value: 1}}).SetBatchSize(scanBatch))
	if err != nil {
		return nil, err
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	sc := &scanned{stringIDs: map[string]uint32{}, badgeSets: [][]string{nil}, badgeIDs: map[string]uint32{}, unsnapshotted: map[bson.ObjectID]struct{}{}, birthdays: map[bson.ObjectID]struct{}{}}
	var a replayed
	for cur.Next(ctx) {
		if len(sc.recs) == s.maxScan {
			return nil, ErrScanTooLarge
		}
		a = replayed{Items: a.Items[:0]}
		if err := cur.Decode(&a); err != nil {
			return nil, err
		}
		sc.add(&a)
		if read != nil && len(sc.recs)%s.readEvery == 0 {
			if err := read(int64(len(sc.recs))); err != nil {
				return nil, err
			}
		}
	}
	return sc, cur.Err()
}

func (sc *scanned) intern(s string) uint32 {
	id, ok := sc.stringIDs[s]
	if !ok {
		id = uint32(len(sc.strings))
		sc.strings = append(sc.strings, s)
		sc.stringIDs[s] = id
	}
	return id
}

func (sc *scanned) add(a *replayed) {
	r := scanRecord{id: a.ID, member: a.MemberID, at: a.OccurredAt.UnixMilli(), amount: a.AmountMinor,
		external: uint32(len(sc.external)), en: uint32(len(a.ExternalID)),
		kind: sc.intern(string(a.Kind)), items: uint32(len(sc.items)), n: uint32(len(a.Items))}
	sc.external = append(sc.external, a.ExternalID...)
	for _, it := range a.Items {
		sc.items = append(sc.items, scanItem{sku: sc.intern(it.SKU), category: sc.intern(it.Category), quantity: it.Quantity, priceMinor: it.PriceMinor})
	}
	if a.RuleSnapshot == nil && a.Kind == program.ActivityPurchase {
		sc.unsnapshotted[a.MemberID] = struct{}{}
	}
	if a.RuleSnapshot == nil {
		r.tier = sc.intern(a.Tier)
		sc.birthdays[a.MemberID] = struct{}{} // which of theirs paid a birthday reward
	}
	if snap := a.RuleSnapshot; snap != nil {
		r.flags |= scanSnapshotted
		r.tier, r.purchase, r.birthday = sc.intern(snap.Tier), snap.Purchase, int32(snap.BirthdayYear)
		if snap.BirthdayYear != 0 {
			sc.birthdays[a.MemberID] = struct{}{}
		}
		if snap.First {
			r.flags |= scanFirst
		}
		if snap.LastPurchaseAt != nil {
			r.flags |= scanHasLast
			r.last = snap.LastPurchaseAt.UnixMilli()
		}
		if len(snap.Badges) > 0 {
			key := strings.Join(snap.Badges, "\x00")
			id, ok := sc.badgeIDs[key]
			if !ok {
				id = uint32(len(sc.badgeSets))
				sc.badgeSets = append(sc.badgeSets, snap.Badges)
				sc.badgeIDs[key] = id
			}
			r.badges = id
		}
	}
	sc.recs = append(sc.recs, r)
}

// fill makes x the activity r, as the driver would have decoded it (times
// in UTC); last holds its snapshot's previous purchase.
func (sc *scanned) fill(x *rules.Recorded, r *scanRecord, last *time.Time) {
	x.Activity = rules.Activity{ID: r.id, ExternalID: string(sc.external[r.external : r.external+r.en]), Kind: program.ActivityKind(sc.strings[r.kind]), AmountMinor: r.amount,
		OccurredAt: time.UnixMilli(r.at).UTC(), Items: x.Activity.Items[:0]}
	for _, it := range sc.items[r.items : r.items+r.n] {
		x.Activity.Items = append(x.Activity.Items, rules.Item{SKU: sc.strings[it.sku], Category: sc.strings[it.category], Quantity: it.quantity, PriceMinor: it.priceMinor})
	}
	x.MemberID, x.Snapshotted, x.JoinedFrom, x.BirthdayPaidElsewhere = r.member, r.flags&scanSnapshotted != 0, time.Time{}, false
	x.CountedBefore, x.LastBefore, x.PaidBirthday = 0, time.Time{}, 0
	x.Snapshot, x.Tier = rules.Snapshot{}, ""
	if !x.Snapshotted {
		x.Tier = sc.strings[r.tier]
		return
	}
	x.Snapshot = rules.Snapshot{Tier: sc.strings[r.tier], Badges: sc.badgeSets[r.badges], Purchase: r.purchase,
		First: r.flags&scanFirst != 0, BirthdayYear: int(r.birthday)}
	if r.flags&scanHasLast != 0 {
		*last = time.UnixMilli(r.last).UTC()
		x.Snapshot.LastPurchaseAt = last
	}
}
