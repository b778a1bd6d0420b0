package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/inbox"
)

// eventStanding answers community/events' questions from the game.
type eventStanding struct{ g *game.Service }

func (x eventStanding) Tier(ctx context.Context, memberID bson.ObjectID) (string, int, error) {
	p, err := x.g.Rooms().Program.Get(ctx)
	if err != nil {
		return "", 0, err
	}
	st, err := x.g.Rooms().Ledger.Tier(ctx, &p, memberID)
	if err != nil {
		return "", 0, err
	}
	return st.Current.Name, p.TierRank(st.Current.Name), nil
}

func (x eventStanding) TierExists(ctx context.Context, name string) (bool, error) {
	p, err := x.g.Rooms().Program.Get(ctx)
	if err != nil {
		return false, err
	}
	_, ok := p.TierNamed(name)
	return ok, nil
}

func (x eventStanding) HasBadge(ctx context.Context, memberID, badgeID bson.ObjectID) (bool, error) {
	return x.g.Engagement().HasBadge(ctx, memberID, badgeID)
}

func (x eventStanding) BadgeExists(ctx context.Context, badgeID bson.ObjectID) (bool, error) {
	return x.g.Engagement().BadgeExists(ctx, badgeID)
}

// eventPayments takes event prices through the game's ledger: a debit
// keyed by the RSVP's key, its source the event, and a refund under the
// same key with ":refund".
type eventPayments struct{ g *game.Service }

func (x eventPayments) Available(ctx context.Context, memberID bson.ObjectID) (int64, error) {
	st, _, err := x.g.Rooms().Ledger.Head(ctx, memberID)
	if err != nil {
		return 0, err
	}
	return st.Available(time.Now()), nil
}

func (x eventPayments) Charge(ctx context.Context, memberID bson.ObjectID, key string, eventID bson.ObjectID, points int64, title string) error {
	p, err := x.g.Rooms().Program.Get(ctx)
	if err != nil {
		return err
	}
	_, _, err = x.g.Rooms().Ledger.Append(ctx, &p, memberID, key, ledger.EntryRedeem, ledger.Source{Kind: ledger.SourceEvent, ID: eventID.Hex()},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			if st.Available(now) < points {
				return false, fmt.Errorf("%w: this event costs %d points", ledger.ErrInsufficientPoints, points)
			}
			st.Debit(e, points, now, true, nil)
			e.Reason = "Event: " + title
			e.Lines = []ledger.Line{{Rule: "event-price", Points: -points, Reason: title}}
			return true, nil
		})
	return err
}

func (x eventPayments) Refund(ctx context.Context, memberID bson.ObjectID, key string, eventID bson.ObjectID, points int64, title string) error {
	if _, err := x.g.Rooms().Ledger.ByKey(ctx, memberID, key); errors.Is(err, mongo.ErrNoDocuments) {
		return nil // never charged
	} else if err != nil {
		return err
	}
	p, err := x.g.Rooms().Program.Get(ctx)
	if err != nil {
		return err
	}
	_, _, err = x.g.Rooms().Ledger.Append(ctx, &p, memberID, key+":refund", ledger.EntryRefund, ledger.Source{Kind: ledger.SourceEvent, ID: eventID.Hex()},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			e.Reason = "Event refund: " + title
			e.Lines = []ledger.Line{{Rule: "event-refund", Points: points, Reason: title}}
			st.Credit(e, points, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
			return true, nil
		})
	return err
}

// newEvents is the events over db and the answers to them, answered by
// the game and the inbox; live updates travel on this instance's memory
// broker and Poll.
func (m *Main) newEvents(db *mongo.Database, secret []byte) (*events.Service, *rsvp.Service) {
	catalog := events.New(db, events.Deps{Standing: eventStanding{m.game}, Notify: m.inbox,
		Broker: inbox.NewMemoryBroker(), Audience: m.game.Rooms().Referrals, Now: m.eventClock})
	rsvps := rsvp.New(db, catalog, rsvp.Deps{Activities: m.game.Economy(), Notify: m.inbox, Payments: eventPayments{m.game}, Penalty: eventStanding{m.game}, Secret: eventSecret(secret), Now: m.eventClock})
	catalog.Seating = rsvps
	return catalog, rsvps
}

// eventSecret derives the check-in code key from the token secret.
func eventSecret(secret []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("regulars/events/check-in"))
	return h.Sum(nil)
}
