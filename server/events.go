package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
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

// newEvents is the events over db, answered by the game and the inbox;
// live updates travel on this instance's memory broker and Poll.
func (m *Main) newEvents(db *mongo.Database, secret []byte) *events.Service {
	return events.New(db, events.Deps{Standing: eventStanding{m.game}, Activities: m.game, Notify: m.inbox,
		Broker: inbox.NewMemoryBroker(), Audience: m.game.Rooms().Referrals, Payments: eventPayments{m.game}, Secret: eventSecret(secret), Now: m.eventClock})
}

// eventSecret derives the check-in code key from the token secret.
func eventSecret(secret []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("regulars/events/check-in"))
	return h.Sum(nil)
}

// principalLocal holds the caller of a file route (fileCaller).
const principalLocal = "principal"

// fileCaller authenticates a file route's caller as /graphql does (a bad
// token is refused; none is anonymous) and applies the member rate limit.
func (m *Main) fileCaller(c *fiber.Ctx) error {
	// A file is no GraphQL answer: a bad token is 401, whatever the media
	// type, so a download never saves an error as the file.
	p, err := m.principal(c.Get(fiber.HeaderAuthorization))
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="regulars"`)
		return writeErrors(c, fiber.StatusUnauthorized, mediaJSON, gqlErr(err.Error(), graph.CodeUnauthenticated))
	}
	if ok, err := m.rateLimitMember(c, p); !ok {
		return err
	}
	c.Locals(principalLocal, p)
	return c.Next()
}

// eventFile serves GET /events/{id}.ics (a confirmed member's calendar
// entry) and GET /events/{id}/attendees.csv (BRAND: every RSVP).
func (m *Main) eventFile(c *fiber.Ctx) error {
	p, _ := c.Locals(principalLocal).(member.Principal)
	path := c.Params("*")
	ctx, cancel := context.WithTimeout(c.UserContext(), 10*time.Second)
	defer cancel()
	if raw, ok := strings.CutSuffix(path, ".ics"); ok {
		id, err := graph.DecodeID("Event", raw)
		if err != nil || p.MemberID.IsZero() {
			return fiber.ErrNotFound
		}
		e, err := m.events.For(ctx, p.MemberID, id)
		if err != nil {
			return fiber.ErrNotFound
		}
		r, err := m.events.Mine(ctx, p.MemberID, id)
		if err != nil || (r.Status != events.RSVPConfirmed && r.Status != events.RSVPAttended) {
			return fiber.ErrForbidden
		}
		cal := ics.NewCalendar()
		cal.SetMethod(ics.MethodPublish)
		cal.SetProductId("-//Regulars//Events//EN")
		ev := cal.AddEvent(e.ID.Hex() + "@regulars")
		ev.SetSummary(e.Title)
		ev.SetDescription(e.Description)
		loc := e.Location()
		// Local times with the zone's id (RFC 5545 3.3.5 form 3): a time
		// ending in Z would be UTC whatever TZID says.
		const local = "20060102T150405"
		ev.SetProperty(ics.ComponentPropertyDtStart, e.StartsAt.In(loc).Format(local), ics.WithTZID(e.Timezone))
		ev.SetProperty(ics.ComponentPropertyDtEnd, e.EndsAt.In(loc).Format(local), ics.WithTZID(e.Timezone))
		ev.SetDtStampTime(e.UpdatedAt)
		where := strings.TrimSpace(e.Place.Venue + ", " + e.Place.Address)
		if e.Place.OnlineURL != "" {
			where = e.Place.OnlineURL
		}
		ev.SetLocation(strings.Trim(where, ", "))
		c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
		return c.SendString(cal.Serialize())
	}
	if raw, ok := strings.CutSuffix(path, "/attendees.csv"); ok {
		id, err := graph.DecodeID("Event", raw)
		if err != nil {
			return fiber.ErrNotFound
		}
		if !p.Has(member.RoleBrand) {
			return fiber.ErrForbidden
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		w := csv.NewWriter(c)
		if err := w.Write([]string{"member_id", "email", "display_name", "status", "guests", "joined_at", "checked_in_at"}); err != nil {
			return err
		}
		for _, st := range []events.RSVPStatus{events.RSVPConfirmed, events.RSVPOffered, events.RSVPWaitlisted, events.RSVPAttended, events.RSVPNoShow, events.RSVPCancelled} {
			after := ""
			for {
				rs, more, err := m.events.Attendees(ctx, id, st, after, 100)
				if err != nil {
					return err
				}
				for _, r := range rs {
					email, name := "", ""
					if mem, err := m.members.Get(ctx, r.MemberID); err == nil {
						email, name = mem.Email, mem.DisplayName
					} else if !errors.Is(err, member.ErrNotFound) {
						return err
					}
					checked := ""
					if r.CheckedInAt != nil {
						checked = r.CheckedInAt.Format(time.RFC3339)
					}
					if err := w.Write([]string{graph.EncodeID("Member", r.MemberID), email, name, string(r.Status),
						strconv.Itoa(r.Guests), r.JoinedAt.Format(time.RFC3339), checked}); err != nil {
						return err
					}
				}
				if !more {
					break
				}
				after = rs[len(rs)-1].ID
			}
		}
		w.Flush()
		return w.Error()
	}
	return fiber.ErrNotFound
}
