package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
)

// SocketReport is what the held subscriptions saw.
type SocketReport struct {
	Opened        int // subscriptions open at the start
	Reopened      int // reconnections after a drop (resumed from their cursor)
	Dropped       int // subscriptions lost for good
	Notifications int // notifications received over all of them
}

// OfferReport is the offer published mid-run: how long publishing took
// and when it reached the open subscriptions.
type OfferReport struct {
	Members    int           // members it was published to (progress.total)
	Published  time.Duration `json:"-"` // publishOffer to progress.processed == total
	Received   int           // subscribers that received it
	Duplicates int           // subscribers that received it more than once
	P50, P99   time.Duration `json:"-"` // publishOffer to a subscriber receiving it
	Last       time.Duration `json:"-"` // publishOffer to the last subscriber
	Error      string        `json:",omitempty"`
	// Interrupted is set when the run was interrupted before the offer
	// was due or while it was publishing: Error says which, and it is no
	// failure of the server's.
	Interrupted bool `json:",omitempty"`
	publishedAt time.Time
}

// sockets holds one notifications subscription per member, as open apps do.
type sockets struct {
	url     string
	members []*member

	mu       sync.Mutex
	offers   map[int][]time.Time // subscriber → arrivals of OFFER_AVAILABLE
	rep      SocketReport
	running  sync.WaitGroup
	started  chan error
	opening  chan struct{} // first connections under way, at most openAtOnce
	dialer   websocket.Dialer
	dropped  []int
	received int
}

func newSockets(url string, members []*member) *sockets {
	ws := "ws" + strings.TrimPrefix(url, "http") + "/graphql"
	return &sockets{url: ws, members: members, offers: map[int][]time.Time{},
		dialer: websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 30 * time.Second}}
}

// openAtOnce is how many subscriptions open at the same time, as apps
// opening over a few seconds do: a thousand at once would queue their
// session checks behind each other on a small database.
const openAtOnce = 16

// openTries is how many times a first connection is tried (with 1 s, 2 s,
// … between tries) before its subscription counts as not opened: a server
// may refuse with 1013 (try again later) while it is busy.
const openTries = 5

// reconnectTries is how many reconnections in a row may fail before a
// subscription counts as lost for good.
const reconnectTries = 9

// open connects every subscription and returns once each is subscribed.
func (s *sockets) open(ctx context.Context) error {
	s.started = make(chan error, len(s.members))
	s.opening = make(chan struct{}, openAtOnce)
	for i := range s.members {
		s.running.Go(func() { s.keep(ctx, i) })
	}
	var errs []error
	for range s.members {
		if err := <-s.started; err != nil {
			errs = append(errs, err)
		}
	}
	s.mu.Lock()
	s.rep.Opened = len(s.members) - len(errs)
	s.mu.Unlock()
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d not opened: %w", len(errs), len(s.members), collapse(errs))
}

// collapse joins errs, each message once, with how many times it came:
// a hundred subscriptions refused by a server that is down read as one
// line.
func collapse(errs []error) error {
	var order []string
	seen := map[string]int{}
	for _, err := range errs {
		if seen[err.Error()] == 0 {
			order = append(order, err.Error())
		}
		seen[err.Error()]++
	}
	lines := make([]string, len(order))
	for i, msg := range order {
		lines[i] = msg
		if seen[msg] > 1 {
			lines[i] = fmt.Sprintf("%s (×%d)", msg, seen[msg])
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

func (s *sockets) report() SocketReport {
	s.running.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rep
	r.Dropped = len(s.dropped)
	r.Notifications = s.received
	return r
}

type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// keep holds subscriber i's subscription open until ctx ends, reconnecting
// and resuming after its last cursor when it drops.
func (s *sockets) keep(ctx context.Context, i int) {
	m := s.members[i]
	cursor := ""
	var once sync.Once
	started := func(err error) { once.Do(func() { s.started <- err }) }
	ready := false
	for tries := 1; !ready; tries++ {
		s.opening <- struct{}{}
		err := s.session(ctx, i, m, &cursor, func() { ready = true; <-s.opening; started(nil) })
		if ready {
			break // the subscription was up, and has dropped: reconnect below
		}
		<-s.opening
		if tries == openTries || ctx.Err() != nil {
			started(err) // the first connection failed: not opened
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(tries) * time.Second):
		}
	}
	// The subscription was up and has ended (the server completes it when
	// the database fails a read): reconnect, resuming after its cursor,
	// until ctx ends or reconnectTries in a row fail, waiting 0.5 s, 1 s,
	// 2 s, … up to 30 s between tries (about 2 minutes in all), as apps
	// ride out a database that is away for a while.
	for failures := 1; ctx.Err() == nil; failures++ {
		if failures > reconnectTries {
			s.mu.Lock()
			s.dropped = append(s.dropped, i)
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		s.rep.Reopened++
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(500*time.Millisecond<<(failures-1), 30*time.Second)):
		}
		got := false
		_ = s.session(ctx, i, m, &cursor, func() { got = true }) // a drop is counted, not reported
		if got {
			failures = 0 // it was up: count drops in a row only
		}
	}
}

// session is one connection of subscriber i: it ends with the connection.
// subscribed is called once the subscription is sent.
func (s *sockets) session(ctx context.Context, i int, m *member, cursor *string, subscribed func()) error {
	conn, _, err := s.dialer.DialContext(ctx, s.url, http.Header{"X-Forwarded-For": {m.addr}})
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer func() { _ = conn.Close() }() // the session is over either way
	var vars map[string]any
	if *cursor != "" {
		vars = map[string]any{"after": *cursor}
	}
	if err := conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": m.bearer()}}); err != nil {
		return err
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var ack wsMessage
	if err := conn.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		return fmt.Errorf("connection_init: %v %s", err, ack.Type)
	}
	if err := conn.WriteJSON(map[string]any{"type": "subscribe", "id": "n", "payload": map[string]any{
		"query": `subscription($after: String) { notifications(after: $after) { id cursor kind } }`, "variables": vars,
	}}); err != nil {
		return err
	}
	subscribed()
	for {
		// The server pings every WS_PING_INTERVAL (25 s by default).
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
		var msg wsMessage
		if err := conn.ReadJSON(&msg); err != nil {
			return err
		}
		switch msg.Type {
		case "ping":
			if err := conn.WriteJSON(map[string]string{"type": "pong"}); err != nil {
				return err
			}
		case "next":
			var p struct {
				Data struct {
					Notifications struct{ Cursor, Kind string }
				}
			}
			if err := json.Unmarshal(msg.Payload, &p); err != nil || p.Data.Notifications.Cursor == "" {
				return fmt.Errorf("subscription: %s", msg.Payload)
			}
			*cursor = p.Data.Notifications.Cursor
			s.mu.Lock()
			s.received++
			if p.Data.Notifications.Kind == "OFFER_AVAILABLE" {
				s.offers[i] = append(s.offers[i], time.Now())
			}
			s.mu.Unlock()
		case "error", "complete":
			return fmt.Errorf("subscription %s: %s", msg.Type, msg.Payload)
		}
	}
}

// publishOffer creates an offer for everyone, publishes it, waits for
// publishing to finish and for the subscribers to hear of it.
func publishOffer(ctx context.Context, c *client, brand, run string, socks *sockets) (*OfferReport, error) {
	now := time.Now().UTC()
	var o struct{ ID string }
	if err := c.do(ctx, `mutation($in: OfferInput!) { createOffer(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"title": "Load test " + run, "body": "Double points this week",
		"benefit":  map[string]any{"kind": "BONUS_POINTS", "value": 10},
		"startsAt": now.Add(-time.Minute).Format(time.RFC3339), "endsAt": now.Add(24 * time.Hour).Format(time.RFC3339),
	}}, brand, "", &o); err != nil {
		return nil, fmt.Errorf("createOffer: %w", err)
	}
	rep := &OfferReport{publishedAt: time.Now()}
	if err := c.do(ctx, `mutation($id: ID!) { publishOffer(id: $id) { id } }`, map[string]any{"id": o.ID}, brand, "", nil); err != nil {
		return nil, fmt.Errorf("publishOffer: %w", err)
	}
	for {
		var got struct {
			Progress *struct{ Processed, Total int }
		}
		if err := c.do(ctx, `query($id: ID!) { offer(id: $id) { progress { processed total } } }`, map[string]any{"id": o.ID}, brand, "", &got); err != nil {
			return nil, fmt.Errorf("offer progress: %w", err)
		}
		if p := got.Progress; p != nil && p.Total > 0 && p.Processed >= p.Total {
			rep.Members, rep.Published = p.Total, time.Since(rep.publishedAt)
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("publishing had not finished when the run ended (drain included)")
		case <-time.After(250 * time.Millisecond):
		}
	}
	// Wait for every open subscriber to have it (or for the drain to end).
	for {
		socks.mu.Lock()
		got, want := len(socks.offers), len(socks.members)-len(socks.dropped)
		socks.mu.Unlock()
		if got >= want {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%d of %d subscribers had the offer when the run ended", got, want)
		case <-time.After(100 * time.Millisecond):
		}
	}
	socks.mu.Lock()
	defer socks.mu.Unlock()
	var lat []time.Duration
	for _, arrivals := range socks.offers {
		lat = append(lat, arrivals[0].Sub(rep.publishedAt))
		if len(arrivals) > 1 {
			rep.Duplicates++
		}
	}
	rep.Received = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		rep.P50, rep.P99, rep.Last = lat[len(lat)/2], lat[(len(lat)*99)/100], lat[len(lat)-1]
		if rep.P99 > rep.Last {
			rep.P99 = rep.Last
		}
	}
	return rep, nil
}
