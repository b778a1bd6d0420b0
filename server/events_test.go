package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/regulars/regulars/internal/testkit"
)

// eventInput is a valid event (a venue, three days ahead, 50 seats, one
// guest each); change edits it.
func eventInput(change func(in map[string]any)) map[string]any {
	start := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Minute)
	in := map[string]any{"title": "Spring ride", "place": map[string]any{"venue": "HOG Club", "address": "1 Main St"},
		"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(3 * time.Hour).Format(time.RFC3339),
		"timezone": "Europe/Paris", "capacity": 50, "guestsPerMember": 1}
	if change != nil {
		change(in)
	}
	return in
}

const createEventMutation = `mutation($in: EventInput!) { createEvent(input: $in) { id } }`

// soon moves the event to start in an hour (three hours long), so its
// door is open for check-in (rsvp.CheckInOpens).
func (a *app) soon(t testing.TB, eventID string) {
	t.Helper()
	start := time.Now().UTC().Add(time.Hour).Truncate(time.Minute)
	a.service(t, `mutation($id: ID!, $in: EventInput!) { updateEvent(id: $id, input: $in) { id } }`, map[string]any{"id": eventID,
		"in": map[string]any{"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(3 * time.Hour).Format(time.RFC3339), "rsvpClosesAt": start.Format(time.RFC3339)}}).decode(t, "updateEvent", &struct{}{})
}

// publishedEvent creates and publishes an event as the brand; its id.
func (a *app) publishedEvent(t testing.TB, change func(in map[string]any)) string {
	t.Helper()
	var e struct{ ID, Status string }
	a.service(t, createEventMutation, map[string]any{"in": eventInput(change)}).decode(t, "createEvent", &e)
	a.service(t, `mutation($id: ID!) { publishEvent(id: $id) { status } }`, map[string]any{"id": e.ID}).decode(t, "publishEvent", &e)
	if e.Status != "PUBLISHED" {
		t.Fatalf("publish: %+v", e)
	}
	return e.ID
}

// sendEvent creates an event with one field changed (the probes of the
// text and bounds tables).
func sendEvent(change func(in map[string]any, v any)) func(a *app, t testing.TB, v any) *gqlResponse {
	return func(a *app, t testing.TB, v any) *gqlResponse {
		return a.service(t, createEventMutation, map[string]any{"in": eventInput(func(in map[string]any) { change(in, v) })})
	}
}

func sendPlace(field string) func(a *app, t testing.TB, v any) *gqlResponse {
	return sendEvent(func(in map[string]any, v any) { in["place"].(map[string]any)[field] = v })
}

const rsvpMutation = `mutation($id: ID!, $g: Int, $k: String!) { rsvp(eventId: $id, guests: $g, idempotencyKey: $k) { status guests position checkInCode } }`

// eventSocket subscribes s to eventUpdates of the event and returns the
// socket once its first update (the state at once) arrived.
func (a *app) eventSocket(t testing.TB, s session, eventID string) *testkit.WSClient {
	t.Helper()
	c := a.dialWith(t, websocket.Dialer{})
	c.Init(s.bearer())
	c.Send("subscribe", "e", map[string]any{"query": `subscription($id: ID!) { eventUpdates(eventId: $id) { cursor seatsLeft myRsvp { status position } } }`,
		"variables": map[string]any{"id": eventID}})
	c.Expect("next")
	return c
}

// expectOn reads c until a message containing marker, failing t after 10 s.
func expectOn(t testing.TB, c *testkit.WSClient, marker string) []byte {
	t.Helper()
	m, err := c.NextContaining([]byte(marker), 10*time.Second)
	if err != nil {
		t.Fatalf("waiting for %s: %v", marker, err)
	}
	return m.Payload
}

type rsvpView struct {
	Status       string
	Guests       int
	Position     *int
	OfferedUntil *string
	CheckInCode  *string
}

func (a *app) rsvp(t testing.TB, s session, eventID string, guests int, key string) rsvpView {
	t.Helper()
	var r rsvpView
	a.do(t, s.bearer(), rsvpMutation, map[string]any{"id": eventID, "g": guests, "k": key}).decode(t, "rsvp", &r)
	return r
}

func (a *app) myRsvp(t testing.TB, s session, eventID string) rsvpView {
	t.Helper()
	var e struct{ MyRsvp *rsvpView }
	a.do(t, s.bearer(), `query($id: ID!) { event(id: $id) { myRsvp { status position checkInCode } } }`, map[string]any{"id": eventID}).decode(t, "event", &e)
	if e.MyRsvp == nil {
		t.Fatal("no RSVP")
	}
	return *e.MyRsvp
}

// getFile GETs a file route with an Authorization header ("": none).
func (a *app) getFile(t testing.TB, path, auth string) (int, string, string) {
	t.Helper()
	req := newRequest(t, http.MethodGet, "http://"+a.Addr()+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := readBody(res)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), string(body)
}

// A brand launches an event and members go through it as in the app:
// RSVPs (confirmed, waitlisted with positions), a cancellation offering
// the seat live over the socket, a claim, a late claim refused while the
// seat moves on, check-in by door staff once, attendance points and the
// EVENTS_ATTENDED counter read back, live seats, the calendar file and
// the brand's CSV; an ineligible member is told why and a member-list
// event stays invisible to others.
func TestEventEndToEnd(t *testing.T) {
	clock := testkit.NewClock(time.Now().UTC())
	a := startApp(t, nil, func(m *Main) { m.eventClock = clock.Now })
	a.setProgram(t)
	var badge struct{ ID string }
	a.service(t, `mutation { createBadge(input: {name: "Rider", counter: EVENTS_ATTENDED, levels: [{name: "FIRST", threshold: 1}, {name: "SECOND", threshold: 2}]}) { id } }`, nil).
		decode(t, "createBadge", &badge)
	var prog struct{ EventAttendancePoints int }
	a.service(t, `{ program { eventAttendancePoints } }`, nil).decode(t, "program", &prog)
	ann, bob, cat, dan := a.signUp(t, "ann@example.com"), a.signUp(t, "bob@example.com"), a.signUp(t, "cat@example.com"), a.signUp(t, "dan@example.com")

	id := a.publishedEvent(t, func(in map[string]any) { in["capacity"], in["claimWindowMinutes"], in["openCallMinutes"] = 2, 10, 0 })
	bobLive := a.eventSocket(t, bob, id)
	bobInbox := a.subscribed(t, bob, `subscription { notifications { kind title related { kind id } } }`)

	// Ann and her guest take both seats; the others wait in line.
	if r := a.rsvp(t, ann, id, 1, "ann-1"); r.Status != "CONFIRMED" || r.Guests != 1 || r.CheckInCode == nil {
		t.Fatalf("ann: %+v", r)
	}
	expectOn(t, bobLive, `"seatsLeft":0`)
	for i, s := range []session{bob, cat, dan} {
		if r := a.rsvp(t, s, id, 0, "k"); r.Status != "WAITLISTED" || r.Position == nil || *r.Position != i+1 || r.CheckInCode != nil {
			t.Fatalf("%s: %+v, want WAITLISTED at %d", s.Member.Email, r, i+1)
		}
	}
	expectOn(t, bobLive, `"status":"WAITLISTED","position":1`)

	// Ann cancels: her two seats are offered to Bob and Cat, Bob hears it at once.
	var cancelled rsvpView
	a.do(t, ann.bearer(), `mutation($id: ID!) { cancelRsvp(eventId: $id) { status } }`, map[string]any{"id": id}).decode(t, "cancelRsvp", &cancelled)
	if cancelled.Status != "CANCELLED" {
		t.Fatalf("cancel: %+v", cancelled)
	}
	if p := expectOn(t, bobInbox, "EVENT_SEAT_OFFERED"); !strings.Contains(string(p), id) {
		t.Fatalf("the offer does not point at the event: %s", p)
	}
	expectOn(t, bobLive, `"status":"OFFERED"`)
	var claimed rsvpView
	a.do(t, bob.bearer(), `mutation($id: ID!) { claimSeat(eventId: $id) { status checkInCode } }`, map[string]any{"id": id}).decode(t, "claimSeat", &claimed)
	if claimed.Status != "CONFIRMED" || claimed.CheckInCode == nil {
		t.Fatalf("bob's claim: %+v", claimed)
	}
	expectOn(t, bobLive, `"status":"CONFIRMED"`)

	// Cat lets her offer lapse: her claim is refused, and once the job ran
	// the seat is Dan's and Cat is last in line.
	if r := a.myRsvp(t, cat, id); r.Status != "OFFERED" {
		t.Fatalf("cat: %+v", r)
	}
	clock.Add(11 * time.Minute)
	if r := a.do(t, cat.bearer(), `mutation($id: ID!) { claimSeat(eventId: $id) { status } }`, map[string]any{"id": id}); r.code() != "CONFLICT" {
		t.Fatalf("a late claim: %q %+v", r.code(), r.Errors)
	}
	if n, err := a.rsvps.Jobs().ExpireOffers(context.Background()); err != nil || n != 1 {
		t.Fatalf("expire offers: %d %v", n, err)
	}
	if r := a.myRsvp(t, dan, id); r.Status != "OFFERED" {
		t.Fatalf("dan after cat's lapse: %+v", r)
	}
	if r := a.myRsvp(t, cat, id); r.Status != "WAITLISTED" || *r.Position != 1 {
		t.Fatalf("cat after her lapse: %+v", r)
	}
	clock.Set(time.Now().UTC())

	// Door staff: STAFF granted with the API key, in the token once refreshed.
	sam := a.signUp(t, "sam@example.com")
	var roles struct{ Roles []string }
	a.service(t, `mutation($id: ID!) { grantRole(memberId: $id, role: STAFF) { roles } }`, map[string]any{"id": sam.Member.ID}).decode(t, "grantRole", &roles)
	a.do(t, "", `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`, map[string]any{"t": sam.RefreshToken}).decode(t, "refreshToken", &sam)
	const checkIn = `mutation($id: ID!, $c: String!) { checkInAttendee(eventId: $id, code: $c) { status checkedInAt attendeeName member { email } } }`
	if r := a.do(t, bob.bearer(), checkIn, map[string]any{"id": id, "c": *claimed.CheckInCode}); r.code() != "FORBIDDEN" {
		t.Fatalf("a member checking in: %q", r.code())
	}
	var in struct {
		Status       string
		AttendeeName string
		Member       *struct{ Email string }
	}
	// Three days early the door is closed: nothing written, no points.
	if r := a.do(t, sam.bearer(), checkIn, map[string]any{"id": id, "c": *claimed.CheckInCode}); r.code() != "CONFLICT" || !strings.Contains(r.Errors[0].Message, "check-in opens at") || !strings.Contains(r.Errors[0].Message, "(Europe/Paris)") {
		t.Fatalf("a check-in three days early: %q %+v", r.code(), r.Errors)
	}
	if r := a.myRsvp(t, bob, id); r.Status != "CONFIRMED" {
		t.Fatalf("bob after a refused check-in: %+v", r)
	}
	a.soon(t, id) // the door opens two hours before the start
	a.do(t, sam.bearer(), checkIn, map[string]any{"id": id, "c": *claimed.CheckInCode}).decode(t, "checkInAttendee", &in)
	// The door greets the member by name and sees nothing else of them.
	if in.Status != "ATTENDED" || in.AttendeeName != "Member bob@example.com" || in.Member != nil {
		t.Fatalf("check-in by door staff: %+v, want ATTENDED, bob's name and no member", in)
	}
	if r := a.do(t, sam.bearer(), checkIn, map[string]any{"id": id, "c": *claimed.CheckInCode}); r.code() != "CONFLICT" || !strings.HasPrefix(r.Errors[0].Message, "Member bob@example.com: already checked in at") ||
		r.Errors[0].Extensions["attendeeName"] != "Member bob@example.com" {
		t.Fatalf("second scan: %q %+v, want CONFLICT naming bob", r.code(), r.Errors)
	}
	var me struct {
		Points struct{ Balance int }
		Badges struct {
			Earned     []struct{ Level string }
			InProgress []struct{ Current, Target int }
		}
	}
	a.do(t, bob.bearer(), `{ me { points { balance } badges { earned { level } inProgress { current target } } } }`, nil).decode(t, "me", &me)
	if me.Points.Balance != prog.EventAttendancePoints || prog.EventAttendancePoints == 0 {
		t.Fatalf("bob has %d points, want eventAttendancePoints %d once", me.Points.Balance, prog.EventAttendancePoints)
	}
	if len(me.Badges.Earned) != 1 || me.Badges.Earned[0].Level != "FIRST" || len(me.Badges.InProgress) != 1 || me.Badges.InProgress[0].Current != 1 {
		t.Fatalf("EVENTS_ATTENDED: %+v, want 1", me.Badges)
	}

	// The calendar file: for Bob (attended), the start in Paris time; not
	// for Cat (waitlisted) or anyone unknown.
	var ev struct{ StartsAt time.Time }
	a.do(t, bob.bearer(), `query($id: ID!) { event(id: $id) { startsAt } }`, map[string]any{"id": id}).decode(t, "event", &ev)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	startLocal := ev.StartsAt.In(paris).Format("20060102T150405")
	status, ctype, body := a.getFile(t, "/events/"+id+".ics", bob.bearer())
	if status != http.StatusOK || !strings.HasPrefix(ctype, "text/calendar") || !strings.Contains(strings.ReplaceAll(body, "\r\n", "\n"), "DTSTART;TZID=Europe/Paris:"+startLocal+"\n") || !strings.Contains(body, "SUMMARY:Spring ride") ||
		!strings.Contains(strings.ReplaceAll(body, "\r\n", "\n"), "BEGIN:VTIMEZONE\nTZID:Europe/Paris\n") {
		t.Fatalf("calendar: %d %s\n%s", status, ctype, body)
	}
	if status, _, _ := a.getFile(t, "/events/"+id+".ics", cat.bearer()); status != http.StatusForbidden {
		t.Fatalf("calendar for a waitlisted member: %d", status)
	}
	if status, _, _ := a.getFile(t, "/events/"+id+".ics", ""); status != http.StatusNotFound {
		t.Fatalf("calendar without a token: %d", status)
	}
	// The brand's CSV lists every answer; a member may not read it.
	status, ctype, body = a.getFile(t, "/events/"+id+"/attendees.csv", "ApiKey "+testAPIKey)
	if status != http.StatusOK || !strings.HasPrefix(ctype, "text/csv") || !strings.Contains(body, bob.Member.ID+",bob@example.com,Member bob@example.com,ATTENDED,0,") ||
		!strings.Contains(body, ann.Member.ID+",ann@example.com,Member ann@example.com,CANCELLED,1,") || strings.Count(body, "\n") != 5 {
		t.Fatalf("attendees.csv: %d %s\n%s", status, ctype, body)
	}
	if status, _, _ := a.getFile(t, "/events/"+id+"/attendees.csv", bob.bearer()); status != http.StatusForbidden {
		t.Fatalf("attendees.csv for a member: %d", status)
	}
	var counts struct {
		Counts struct{ Confirmed, Waitlisted, Offered, Attended int }
	}
	a.service(t, `query($id: ID!) { event(id: $id) { counts { confirmed waitlisted offered attended } } }`, map[string]any{"id": id}).decode(t, "event", &counts)
	if c := counts.Counts; c.Confirmed != 0 || c.Waitlisted != 1 || c.Offered != 1 || c.Attended != 1 {
		t.Fatalf("counts: %+v", c)
	}

	// Silver only: Ann is told why. Ann's list: Bob never sees it.
	silver := a.publishedEvent(t, func(in map[string]any) { in["eligibility"] = map[string]any{"tiers": []string{"Silver"}} })
	if r := a.do(t, ann.bearer(), rsvpMutation, map[string]any{"id": silver, "k": "s-1"}); r.code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "Silver") {
		t.Fatalf("ineligible: %q %+v", r.code(), r.Errors)
	}
	private := a.publishedEvent(t, func(in map[string]any) {
		in["title"] = "Ann's table"
		in["eligibility"] = map[string]any{"memberIds": []string{ann.Member.ID}}
	})
	if r := a.do(t, bob.bearer(), `query($id: ID!) { event(id: $id) { title } }`, map[string]any{"id": private}); r.code() != "NOT_FOUND" || strings.Contains(fmt.Sprint(r.Data), "Ann's table") {
		t.Fatalf("a member-list event shown to another: %q %s", r.code(), r.Data["event"])
	}
	if r := a.do(t, bob.bearer(), rsvpMutation, map[string]any{"id": private, "k": "p-1"}); r.code() != "NOT_FOUND" {
		t.Fatalf("RSVP to a hidden event: %q", r.code())
	}
	list := func(s session) string {
		var c struct {
			Edges []struct{ Node struct{ Title string } }
		}
		a.do(t, s.bearer(), `{ events(first: 50) { edges { node { title } } } }`, nil).decode(t, "events", &c)
		return fmt.Sprint(c.Edges)
	}
	if strings.Contains(list(bob), "Ann's table") || !strings.Contains(list(ann), "Ann's table") {
		t.Fatalf("upcoming: bob %s, ann %s", list(bob), list(ann))
	}
}

// Publishing tells every member who may attend, once, through the
// background job: live over the socket, not to a member who muted OFFERS,
// not to a member below the event's tier, and never twice.
func TestPublishingAnnouncesOnce(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann, bob := a.signUp(t, "ann@example.com"), a.signUp(t, "bob@example.com")
	var prefs struct{ Muted []string }
	a.do(t, bob.bearer(), `mutation { setNotificationPreferences(muted: [OFFERS]) { muted } }`, nil).decode(t, "setNotificationPreferences", &prefs)
	c := a.subscribed(t, ann, `subscription { notifications { kind title related { kind id } } }`)

	id := a.publishedEvent(t, nil)
	if p := expectOn(t, c, "EVENT_PUBLISHED"); !strings.Contains(string(p), "New event: Spring ride") || !strings.Contains(string(p), id) {
		t.Fatalf("announcement: %s", p)
	}
	silver := a.publishedEvent(t, func(in map[string]any) { in["eligibility"] = map[string]any{"tiers": []string{"Silver"}} })
	// However often the job runs, and while it runs on its own.
	for range 2 {
		if _, err := a.events.Announce(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
	}
	published := func(s session) []string {
		var page struct {
			Edges []struct {
				Node struct {
					Kind    string
					Related struct{ ID string }
				}
			}
		}
		a.do(t, s.bearer(), `{ notifications(first: 50) { edges { node { kind related { id } } } } }`, nil).decode(t, "notifications", &page)
		var out []string
		for _, e := range page.Edges {
			if e.Node.Kind == "EVENT_PUBLISHED" {
				out = append(out, e.Node.Related.ID)
			}
		}
		return out
	}
	if got := published(ann); len(got) != 1 || got[0] != id {
		t.Fatalf("ann was told of %v, want %s once (not %s: she is no Silver)", got, id, silver)
	}
	if got := published(bob); len(got) != 0 {
		t.Fatalf("bob muted OFFERS and was told of %v", got)
	}
}

// An event's price is paid through the ledger when a seat is confirmed
// (its source the event), never twice for a retried RSVP and never past
// the balance when two seats race for the same points; it comes back on a
// cancellation before the cutoff, not after, and always when the brand
// cancels.
func TestEventPriceThroughTheLedger(t *testing.T) {
	clock := testkit.NewClock(time.Now().UTC())
	a := startApp(t, map[string]string{"RATE_LIMIT_MEMBER_RPS": "1000", "RATE_LIMIT_MEMBER_BURST": "1000"}, func(m *Main) { m.eventClock = clock.Now })
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	var adj struct{ ID string }
	a.service(t, `mutation($id: ID!) { adjustPoints(memberId: $id, amount: 100, reason: "welcome", idempotencyKey: "seed") { id } }`, map[string]any{"id": ann.Member.ID}).decode(t, "adjustPoints", &adj)
	balance := func() int {
		var m struct{ Points struct{ Balance int } }
		a.do(t, ann.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &m)
		return m.Points.Balance
	}
	priced := func(title string) string {
		return a.publishedEvent(t, func(in map[string]any) { in["title"], in["pricePoints"], in["refundCutoffHours"] = title, 80, 24 })
	}

	// Two 80-point seats race for Ann's 100 points: one is hers, one refused.
	ids := []string{priced("Ride A"), priced("Ride B")}
	results := testkit.Race(t, 2, func(i int) error {
		r, err := a.post(ann.bearer(), rsvpMutation, map[string]any{"id": ids[i], "g": 0, "k": fmt.Sprint("race-", i)})
		if err != nil {
			return err
		}
		if len(r.Errors) > 0 {
			return fmt.Errorf("%s: %s", r.code(), r.Errors[0].Message)
		}
		return nil
	})
	won := -1
	for i, err := range results {
		if err == nil {
			won = i
		} else if !strings.Contains(err.Error(), "BAD_USER_INPUT") || !strings.Contains(err.Error(), "80 points") {
			t.Fatalf("the refused seat: %v", err)
		}
	}
	if won < 0 || balance() != 20 {
		t.Fatalf("results %v, balance %d: want one seat paid, 20 points left", results, balance())
	}
	lost := ids[1-won]
	if r := a.myRsvpOrNil(t, ann, lost); r != nil && r.Status != "CANCELLED" {
		t.Fatalf("the unpaid seat is still held: %+v", r)
	}
	// A retry pays nothing more; the entry points at the event.
	if r := a.rsvp(t, ann, ids[won], 0, fmt.Sprint("race-", won)); r.Status != "CONFIRMED" || balance() != 20 {
		t.Fatalf("retry: %+v, balance %d", r, balance())
	}
	var me struct {
		Points struct {
			Ledger struct {
				Edges []struct {
					Node struct {
						Type   string
						Amount int
						Source struct{ Kind, ID string }
					}
				}
			}
		}
	}
	a.do(t, ann.bearer(), `{ me { points { ledger(first: 1) { edges { node { type amount source { kind id } } } } } } }`, nil).decode(t, "me", &me)
	if e := me.Points.Ledger.Edges[0].Node; e.Amount != -80 || e.Source.Kind != "EVENT" || e.Source.ID != ids[won] {
		t.Fatalf("the payment: %+v, want -80 from event %s", e, ids[won])
	}

	// Cancelled three days ahead (cutoff 24 h): the 80 points come back.
	const cancel = `mutation($id: ID!) { cancelRsvp(eventId: $id) { status paid refunded } }`
	var c struct {
		Status   string
		Paid     int
		Refunded bool
	}
	a.do(t, ann.bearer(), cancel, map[string]any{"id": ids[won]}).decode(t, "cancelRsvp", &c)
	if !c.Refunded || c.Paid != 80 || balance() != 100 {
		t.Fatalf("cancel before the cutoff: %+v, balance %d", c, balance())
	}
	// Past the cutoff: no refund.
	late := priced("Ride C")
	a.rsvp(t, ann, late, 0, "late-1")
	clock.Add(60 * time.Hour)
	a.do(t, ann.bearer(), cancel, map[string]any{"id": late}).decode(t, "cancelRsvp", &c)
	if c.Refunded || balance() != 20 {
		t.Fatalf("cancel past the cutoff: %+v, balance %d", c, balance())
	}
	clock.Set(time.Now().UTC())
	// The brand cancels: paid seats come back, whatever the cutoff.
	brand := priced("Ride D")
	a.service(t, `mutation($id: ID!) { adjustPoints(memberId: $id, amount: 80, reason: "top-up", idempotencyKey: "top-up") { id } }`, map[string]any{"id": ann.Member.ID}).decode(t, "adjustPoints", &adj)
	if r := a.rsvp(t, ann, brand, 0, "brand-1"); r.Status != "CONFIRMED" || balance() != 20 {
		t.Fatalf("ride D: %+v, balance %d", r, balance())
	}
	if r := a.do(t, ann.bearer(), rsvpMutation, map[string]any{"id": brand, "k": "brand-2"}); r.code() != "CONFLICT" {
		t.Fatalf("a second answer: %q", r.code())
	}
	a.service(t, `mutation($id: ID!) { cancelEvent(id: $id) { status } }`, map[string]any{"id": brand}).decode(t, "cancelEvent", &c)
	if balance() != 100 {
		t.Fatalf("after the brand cancelled: balance %d, want 100", balance())
	}
}

func (a *app) myRsvpOrNil(t testing.TB, s session, eventID string) *rsvpView {
	t.Helper()
	var e struct{ MyRsvp *rsvpView }
	a.do(t, s.bearer(), `query($id: ID!) { event(id: $id) { myRsvp { status } } }`, map[string]any{"id": eventID}).decode(t, "event", &e)
	return e.MyRsvp
}

// Door staff see the events door work needs, never a draft: a draft the
// brand just created is NOT_FOUND to STAFF as to a customer, through
// event(id:) and node(id:) alike, with nothing of it in the answer; once
// published, STAFF read it even when it is listed for other members only
// (which another customer still cannot). Its status follows the events'
// clock: ENDED once the clock passes its end.
func TestStaffNeverSeesADraft(t *testing.T) {
	clock := testkit.NewClock(time.Now().UTC())
	a := startApp(t, nil, func(m *Main) { m.eventClock = clock.Now })
	a.setProgram(t)
	ann, bob := a.signUp(t, "ann@example.com"), a.signUp(t, "bob@example.com")
	sam := a.staff(t, "sam@example.com")
	var ev struct{ ID, Status string }
	a.service(t, `mutation($in: EventInput!) { createEvent(input: $in) { id status } }`, map[string]any{"in": eventInput(func(in map[string]any) {
		in["title"], in["description"] = "Secret launch", "Not announced yet"
		in["eligibility"] = map[string]any{"memberIds": []string{ann.Member.ID}}
	})}).decode(t, "createEvent", &ev)
	if ev.Status != "DRAFT" {
		t.Fatalf("created: %+v", ev)
	}
	const byID = `query($id: ID!) { event(id: $id) { title description status } }`
	const byNode = `query($id: ID!) { node(id: $id) { ... on Event { title description status } } }`
	type view struct{ Title, Description, Status string }
	for _, c := range []struct {
		who string
		s   session
	}{{"STAFF", sam}, {"the listed customer", ann}, {"another customer", bob}} {
		for _, q := range []string{byID, byNode} {
			r := a.do(t, c.s.bearer(), q, map[string]any{"id": ev.ID})
			if r.code() != "NOT_FOUND" || strings.Contains(fmt.Sprint(r.Data), "Secret") {
				t.Fatalf("%s read a draft with %s: %q %s", c.who, q, r.code(), r.Data)
			}
		}
	}
	var brand view
	a.service(t, byID, map[string]any{"id": ev.ID}).decode(t, "event", &brand)
	if brand.Title != "Secret launch" || brand.Status != "DRAFT" {
		t.Fatalf("the brand's draft: %+v", brand)
	}

	a.service(t, `mutation($id: ID!) { publishEvent(id: $id) { status } }`, map[string]any{"id": ev.ID}).decode(t, "publishEvent", &ev)
	for _, q := range []string{byID, byNode} {
		field := map[string]string{byID: "event", byNode: "node"}[q]
		var v view
		a.do(t, sam.bearer(), q, map[string]any{"id": ev.ID}).decode(t, field, &v)
		if v.Title != "Secret launch" || v.Status != "PUBLISHED" {
			t.Fatalf("STAFF read the published event with %s: %+v", field, v)
		}
		if r := a.do(t, bob.bearer(), q, map[string]any{"id": ev.ID}); r.code() != "NOT_FOUND" {
			t.Fatalf("a customer not listed read it with %s: %q %s", field, r.code(), r.Data)
		}
	}

	clock.Add(76 * time.Hour) // past its end (three days ahead, three hours long)
	var ended view
	a.do(t, ann.bearer(), byID, map[string]any{"id": ev.ID}).decode(t, "event", &ended)
	if ended.Status != "ENDED" {
		t.Fatalf("status after the events' clock passed the end: %+v", ended)
	}
}
