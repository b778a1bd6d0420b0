package downloads

import (
	"context"
	"encoding/csv"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/regulars/regulars/graph/relay"

	"github.com/gofiber/fiber/v2"

	"github.com/regulars/regulars/community/events/attendees"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/server/gateway"
)

// EventFile serves GET /events/{id}.ics (a confirmed member's calendar
// entry) and GET /events/{id}/attendees.csv (BRAND: every RSVP).
func (d *Routes) EventFile(c *fiber.Ctx) error {
	p := gateway.CallerOf(c)
	path := c.Params("*")
	ctx, cancel := context.WithTimeout(c.UserContext(), 10*time.Second)
	defer cancel()
	if raw, ok := strings.CutSuffix(path, ".ics"); ok {
		id, err := relay.DecodeID("Event", "id", raw)
		if err != nil || p.MemberID.IsZero() {
			return fiber.ErrNotFound
		}
		e, err := d.Events.For(ctx, p.MemberID, id)
		if err != nil {
			return fiber.ErrNotFound
		}
		if ok, err := d.RSVPs.MayDownloadCalendar(ctx, p, id); err != nil || !ok {
			return fiber.ErrForbidden
		}
		c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
		return c.SendString(EventCalendar(e))
	}
	if raw, ok := strings.CutSuffix(path, "/attendees.csv"); ok {
		id, err := relay.DecodeID("Event", "id", raw)
		if err != nil {
			return fiber.ErrNotFound
		}
		if !attendees.MayListAttendees(p) {
			return fiber.ErrForbidden
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		w := csv.NewWriter(c)
		if err := w.Write([]string{"member_id", "email", "display_name", "status", "guests", "joined_at", "checked_in_at"}); err != nil {
			return err
		}
		for _, st := range []rsvp.Status{rsvp.Confirmed, rsvp.Offered, rsvp.Waitlisted, rsvp.Attended, rsvp.NoShow, rsvp.Cancelled} {
			after := ""
			for {
				rs, more, err := d.Attendees.Attendees(ctx, id, st, after, 100)
				if err != nil {
					return err
				}
				for _, r := range rs {
					email, name := "", ""
					if mem, err := d.Members.Get(ctx, r.MemberID); err == nil {
						email, name = mem.Email, mem.DisplayName
					} else if !errors.Is(err, member.ErrNotFound) {
						return err
					}
					checked := ""
					if r.CheckedInAt != nil {
						checked = r.CheckedInAt.Format(time.RFC3339)
					}
					if err := w.Write([]string{relay.EncodeID("Member", r.MemberID), email, name, string(r.Status),
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
