package ledger

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
)

// ExpiringPoints is one lot's points and when they expire.
type ExpiringPoints struct {
	Amount int64
	At     time.Time
}

// PointsSummary is a member's points as they see them.
type PointsSummary struct {
	MemberID bson.ObjectID
	// Balance is the sum of every ledger entry: Available + Pending.
	Balance   int64
	Available int64
	Pending   int64
	// Expiring lists every lot with an expiry, soonest first.
	Expiring []ExpiringPoints
	// AsOf is when the summary was read, by the game's clock.
	AsOf time.Time
}

// ExpiringWithin returns the points expiring within days of the summary's
// time, soonest first; days is 1 to 3650 (field withinDays).
func (sum *PointsSummary) ExpiringWithin(days int) ([]*ExpiringPoints, error) {
	if days < 1 || days > 3650 {
		return nil, input.Errorf("withinDays", "must be between 1 and 3650")
	}
	until := sum.AsOf.AddDate(0, 0, days)
	var out []*ExpiringPoints
	for _, e := range sum.Expiring {
		if e.At.Before(until) {
			out = append(out, &e)
		}
	}
	return out, nil
}

// Current is a member's ledger as a read sees it: the head's state,
// what was due expired first, as of AsOf (the game's clock).
type Current struct {
	MemberID bson.ObjectID
	State    State
	AsOf     time.Time
	// Head is the head entry read (Seq 0: an empty ledger), for an
	// AppendAfter that follows.
	Head *Entry
}

// Current returns the member's ledger now under program p, expiring
// what is due first: one read of the head when nothing is due.
func (l *Ledger) Current(ctx context.Context, p *program.Program, memberID bson.ObjectID) (*Current, error) {
	head, _, err := l.expireDue(ctx, p, memberID)
	if err != nil {
		return nil, err
	}
	return &Current{MemberID: memberID, State: head.State.Clone(), AsOf: l.clock(), Head: head}, nil
}

// Points returns the member's points now under program p, expiring what
// is due first.
func (l *Ledger) Points(ctx context.Context, p *program.Program, memberID bson.ObjectID) (*PointsSummary, error) {
	c, err := l.Current(ctx, p, memberID)
	if err != nil {
		return nil, err
	}
	return c.Points(), nil
}

// Points is the member's points in c.
func (c *Current) Points() *PointsSummary {
	st, now := &c.State, c.AsOf
	sum := &PointsSummary{MemberID: c.MemberID, Balance: st.Balance, Available: st.Available(now), Pending: st.Pending(now), AsOf: now}
	for _, l := range st.Lots {
		if l.ExpiresAt != nil {
			sum.Expiring = append(sum.Expiring, ExpiringPoints{Amount: l.Points, At: *l.ExpiresAt})
		}
	}
	slices.SortFunc(sum.Expiring, func(a, b ExpiringPoints) int { return a.At.Compare(b.At) })
	return sum
}

// Tier is the member's tier status in c under program p.
func (c *Current) Tier(p *program.Program) *TierStatus {
	ts := StatusOf(c.State, p, c.AsOf)
	return &ts
}

// Tier returns the member's tier status now under program p.
func (l *Ledger) Tier(ctx context.Context, p *program.Program, memberID bson.ObjectID) (*TierStatus, error) {
	st, _, err := l.Head(ctx, memberID)
	if err != nil {
		return nil, err
	}
	ts := StatusOf(st, p, l.clock())
	return &ts, nil
}

// Standing returns the member's tier and the points they may spend now
// under program p, expiring what is due first (the till's question).
// One read of the ledger's head serves both.
func (l *Ledger) Standing(ctx context.Context, p *program.Program, memberID bson.ObjectID) (string, int64, error) {
	c, err := l.Current(ctx, p, memberID)
	if err != nil {
		return "", 0, err
	}
	return c.Tier(p).Current.Name, c.State.Available(c.AsOf), nil
}

// expiryOverlap widens each run's look for tier moves back over the last
// one's end, for an entry written by an instance whose clock runs behind.
const expiryOverlap = time.Minute

// jobState remembers how far a periodic job got, so a restart resumes.
type jobState struct {
	ID      string    `bson:"_id"`
	Through time.Time `bson:"through"`
}

// ExpireAll writes EXPIRE entries under program p for every lot that came
// due since the last run, whose watermark it keeps in jobs (document
// "expire-points"), then hands announce every EXPIRE entry written since
// the last run that moved a member's tier (this run's, and those a read
// or a redemption wrote when it expired what was due). Safe on any number
// of instances at once: each lot's entry has its own key, and the
// watermark only moves forward past work done, announcing included, so a
// failed announcement is handed over again at the next run.
func (l *Ledger) ExpireAll(ctx context.Context, p *program.Program, jobs *mongo.Collection, announce func(ctx context.Context, moved []*Entry) error) (int, error) {
	var js jobState
	err := jobs.FindOne(ctx, bson.D{{Key: "_id", Value: "expire-points"}}).Decode(&js)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, err
	}
	now := l.clock().UTC()
	ids, err := l.Expiring(ctx, js.Through, now)
	if err != nil {
		return 0, err
	}
	expired := 0
	for _, id := range ids {
		es, err := l.ExpireDue(ctx, p, id)
		if err != nil {
			return expired, err
		}
		expired += len(es)
	}
	moved, err := l.ExpiryTierMoves(ctx, js.Through.Add(-expiryOverlap), now)
	if err != nil {
		return expired, err
	}
	if err := announce(ctx, moved); err != nil {
		return expired, err
	}
	advance := bson.D{{Key: "$max", Value: bson.D{{Key: "through", Value: now}}}}
	_, err = jobs.UpdateOne(ctx, bson.D{{Key: "_id", Value: "expire-points"}}, advance, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// Two first runs upserted at once; the document exists now.
		_, err = jobs.UpdateOne(ctx, bson.D{{Key: "_id", Value: "expire-points"}}, advance)
	}
	return expired, err
}
