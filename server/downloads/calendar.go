package downloads

import (
	"fmt"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/regulars/regulars/community/events"
)

// icsLocal is a local date-time of iCalendar (RFC 5545 3.3.5 form 3 with
// a TZID): a time ending in Z would be UTC whatever TZID says.
const icsLocal = "20060102T150405"

// EventCalendar is the iCalendar file of an event: a VTIMEZONE for its
// IANA zone (see addTimezone) and a VEVENT whose start and end are local
// times of that zone.
func EventCalendar(e *events.Event) string {
	cal := ics.NewCalendar()
	cal.SetMethod(ics.MethodPublish)
	cal.SetProductId("-//Regulars//Events//EN")
	loc := e.Location()
	zone := loc.String()
	addTimezone(cal, loc, e.StartsAt, e.EndsAt)
	ev := cal.AddEvent(e.ID.Hex() + "@regulars")
	ev.SetSummary(e.Title)
	ev.SetDescription(e.Description)
	ev.SetProperty(ics.ComponentPropertyDtStart, e.StartsAt.In(loc).Format(icsLocal), ics.WithTZID(zone))
	ev.SetProperty(ics.ComponentPropertyDtEnd, e.EndsAt.In(loc).Format(icsLocal), ics.WithTZID(zone))
	ev.SetDtStampTime(e.UpdatedAt)
	where := strings.TrimSpace(e.Place.Venue + ", " + e.Place.Address)
	if e.Place.OnlineURL != "" {
		where = e.Place.OnlineURL
	}
	ev.SetLocation(strings.Trim(where, ", "))
	return cal.Serialize()
}

// addTimezone adds the VTIMEZONE of loc (RFC 5545 3.6.5) that covers the
// years from start to end: the observance in force on 1 January of
// start's year (from and to offsets equal), then every transition of the
// zone until the end of end's year, each a STANDARD or DAYLIGHT with its
// onset in the local time before it (TZOFFSETFROM). The transitions are
// Go's time zone database's (time.Time.ZoneBounds), so they are right
// for those years even where a zone's rules changed, which one RRULE
// could not say.
func addTimezone(cal *ics.Calendar, loc *time.Location, start, end time.Time) {
	tz := cal.AddTimezone(loc.String())
	from := time.Date(start.In(loc).Year(), time.January, 1, 0, 0, 0, 0, loc)
	until := time.Date(end.In(loc).Year()+1, time.January, 1, 0, 0, 0, 0, loc)
	name, offset := from.Zone()
	observance(tz, from.IsDST(), from.Format(icsLocal), offset, offset, name)
	for t := from; ; {
		_, next := t.ZoneBounds()
		if next.IsZero() || !next.Before(until) {
			return
		}
		after := next.In(loc)
		name, to := after.Zone()
		if to != offset || after.IsDST() != t.IsDST() {
			onset := next.In(time.FixedZone("", offset)).Format(icsLocal)
			observance(tz, after.IsDST(), onset, offset, to, name)
		}
		t, offset = after, to
	}
}

// observance adds one STANDARD or DAYLIGHT sub-component to tz.
func observance(tz *ics.VTimezone, dst bool, onset string, from, to int, name string) {
	var c *ics.ComponentBase
	if dst {
		d := &ics.Daylight{}
		tz.Components = append(tz.Components, d)
		c = &d.ComponentBase
	} else {
		c = &tz.AddStandard().ComponentBase
	}
	c.SetProperty(ics.ComponentPropertyDtStart, onset)
	c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), utcOffset(from))
	c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), utcOffset(to))
	c.SetProperty(ics.ComponentProperty(ics.PropertyTzname), name)
}

// utcOffset writes seconds east of UTC as iCalendar's UTC-OFFSET: +hhmm,
// or +hhmmss when the zone has seconds (old local mean times).
func utcOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	if sec%60 != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec/60%60)
}
