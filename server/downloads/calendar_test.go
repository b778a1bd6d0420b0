package downloads

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/internal/testkit"
)

// observed is one STANDARD or DAYLIGHT of a parsed VTIMEZONE.
type observed struct {
	kind, onset, from, to, name string
}

func (o observed) String() string {
	return fmt.Sprintf("%s %s %s>%s %s", o.kind, o.onset, o.from, o.to, o.name)
}

// parse reads a calendar back with the library: its one event's start
// and end, and its one VTIMEZONE's id and observances.
func parse(t *testing.T, file string) (time.Time, time.Time, string, []observed) {
	t.Helper()
	cal, err := ics.ParseCalendar(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(cal.Events()) != 1 || len(cal.Timezones()) != 1 {
		t.Fatalf("%d events, %d timezones:\n%s", len(cal.Events()), len(cal.Timezones()), file)
	}
	ev := cal.Events()[0]
	start, err := ev.GetStartAt()
	if err != nil {
		t.Fatal(err)
	}
	end, err := ev.GetEndAt()
	if err != nil {
		t.Fatal(err)
	}
	tz := cal.Timezones()[0]
	var obs []observed
	for _, c := range tz.Components {
		var kind string
		var base *ics.ComponentBase
		switch c := c.(type) {
		case *ics.Standard:
			kind, base = "STANDARD", &c.ComponentBase
		case *ics.Daylight:
			kind, base = "DAYLIGHT", &c.ComponentBase
		default:
			t.Fatalf("unexpected component %T", c)
		}
		get := func(p ics.Property) string {
			if v := base.GetProperty(ics.ComponentProperty(p)); v != nil {
				return v.Value
			}
			return ""
		}
		obs = append(obs, observed{kind, get(ics.PropertyDtstart), get(ics.PropertyTzoffsetfrom), get(ics.PropertyTzoffsetto), get(ics.PropertyTzname)})
	}
	return start, end, tz.GetProperty(ics.ComponentPropertyTzid).Value, obs
}

// offsetAt is the UTC offset (seconds) the observances give a local
// time: the TZOFFSETTO of the latest onset at or before it, as a calendar
// without a time zone database reads the file.
func offsetAt(t *testing.T, obs []observed, local string) int {
	t.Helper()
	best, off := "", 0
	for _, o := range obs {
		if o.onset <= local && o.onset >= best {
			best, off = o.onset, parseOffset(t, o.to)
		}
	}
	if best == "" {
		t.Fatalf("no observance covers %s", local)
	}
	return off
}

func parseOffset(t *testing.T, s string) int {
	t.Helper()
	h, err1 := strconv.Atoi(s[1:3])
	m, err2 := strconv.Atoi(s[3:5])
	if err1 != nil || err2 != nil {
		t.Fatalf("bad offset %q", s)
	}
	sec := h*3600 + m*60
	if s[0] == '-' {
		sec = -sec
	}
	return sec
}

// The calendar file of an event across a DST change carries the zone's
// transitions of that year, right to the minute, and reads back (with the
// library) to the event's instants; a calendar app that knows only the
// file's VTIMEZONE puts start and end at the right UTC offsets.
func TestCalendarTimezoneAcrossDST(t *testing.T) {
	for _, c := range []struct {
		zone, start, end string
		want             []string
		startOff, endOff string
	}{
		{"Europe/Paris", "2026-03-28T20:00:00", "2026-03-29T10:00:00", []string{
			"STANDARD 20260101T000000 +0100>+0100 CET",
			"DAYLIGHT 20260329T020000 +0100>+0200 CEST",
			"STANDARD 20261025T030000 +0200>+0100 CET",
		}, "+0100", "+0200"},
		{"America/New_York", "2026-10-31T22:00:00", "2026-11-01T09:00:00", []string{
			"STANDARD 20260101T000000 -0500>-0500 EST",
			"DAYLIGHT 20260308T020000 -0500>-0400 EDT",
			"STANDARD 20261101T020000 -0400>-0500 EST",
		}, "-0400", "-0500"},
		{"Asia/Tokyo", "2026-07-01T18:00:00", "2026-07-01T21:00:00", []string{
			"STANDARD 20260101T000000 +0900>+0900 JST",
		}, "+0900", "+0900"},
		// Over the new year: both years' transitions.
		{"Europe/Paris", "2026-12-31T22:00:00", "2027-01-01T02:00:00", []string{
			"STANDARD 20260101T000000 +0100>+0100 CET",
			"DAYLIGHT 20260329T020000 +0100>+0200 CEST",
			"STANDARD 20261025T030000 +0200>+0100 CET",
			"DAYLIGHT 20270328T020000 +0100>+0200 CEST",
			"STANDARD 20271031T030000 +0200>+0100 CET",
		}, "+0100", "+0100"},
	} {
		t.Run(c.zone+" "+c.start, func(t *testing.T) {
			loc, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			start := testkit.Must(time.ParseInLocation("2006-01-02T15:04:05", c.start, loc))(t)
			end := testkit.Must(time.ParseInLocation("2006-01-02T15:04:05", c.end, loc))(t)
			e := &events.Event{ID: bson.NewObjectID(), Title: "Spring ride", Place: events.Place{Venue: "HOG Club", Address: "1 Main St"},
				StartsAt: start.UTC(), EndsAt: end.UTC(), Timezone: c.zone, UpdatedAt: start.UTC()}
			file := EventCalendar(e)
			gotStart, gotEnd, tzid, obs := parse(t, file)
			if !gotStart.Equal(e.StartsAt) || !gotEnd.Equal(e.EndsAt) || tzid != c.zone {
				t.Fatalf("read back %s - %s in %s, want %s - %s in %s\n%s", gotStart, gotEnd, tzid, e.StartsAt, e.EndsAt, c.zone, file)
			}
			if got := fmt.Sprint(obs); got != fmt.Sprint(c.want) {
				t.Fatalf("observances\n got %s\nwant %s", got, c.want)
			}
			for _, p := range []struct {
				at   time.Time
				want string
			}{{start, c.startOff}, {end, c.endOff}} {
				local := p.at.Format(icsLocal)
				if got := offsetAt(t, obs, local); got != parseOffset(t, p.want) {
					t.Fatalf("at %s the file says %d s, want %s", local, got, p.want)
				}
				if _, off := p.at.Zone(); off != parseOffset(t, p.want) {
					t.Fatalf("the test's own expectation is wrong at %s", local)
				}
			}
		})
	}
}
