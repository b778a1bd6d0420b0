// Package downloads serves the files members and the brand download
// outside GraphQL: an event's calendar entry and attendee list, analytics
// tables as CSV, and a member's data export. Callers are authenticated by
// gateway.FileCaller first; each route checks who may have the file.
package downloads

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/account"
	"github.com/regulars/regulars/analytics"
	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/attendees"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/server/gateway"
)

// Routes serves the downloads from the domains that hold them.
type Routes struct {
	Events    *events.Service
	RSVPs     *rsvp.Service
	Attendees *attendees.Service
	Members   *member.Service
	Analytics *analytics.Service
	Accounts  *account.Service
	// Ended are the sessions whose tokens are refused (a data export is
	// personal: a logged-out token must not fetch it).
	Ended *gateway.EndedSessions
}

// DataExport serves GET /exports/{id}: a ready data export, to the member
// it is of (Authorization: Bearer), within its 24 hours; 404 to anyone
// else.
func (d *Routes) DataExport(c *fiber.Ctx) error {
	p := gateway.CallerOf(c)
	if p.MemberID.IsZero() {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="regulars"`)
		return fiber.ErrUnauthorized
	}
	if d.Ended.Ended(p) {
		return fiber.ErrUnauthorized
	}
	id, err := bson.ObjectIDFromHex(c.Params("id"))
	if err != nil {
		return fiber.ErrNotFound
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 30*time.Second)
	defer cancel()
	data, err := d.Accounts.Download(ctx, p, id)
	if errors.Is(err, account.ErrExportNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/json; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="my-data.json"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(data)
}
