package inbox

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/mongotest"
	"github.com/regulars/regulars/internal/testkit"
)

// blipInbox returns an inbox whose database path runs through a proxy that
// can cut it, and one on the direct path sharing its database and broker.
func blipInbox(t *testing.T) (through, direct *Inbox, p *testkit.Proxy) {
	t.Helper()
	db := testkit.Database(t)
	u := testkit.Must(url.Parse(mongotest.URI(t)))(t)
	if strings.Contains(u.Host, ",") || u.Scheme != "mongodb" {
		t.Skipf("MONGODB_URI %s names several hosts; the test needs one", u.Redacted())
	}
	p = testkit.NewProxy(t, u.Host)
	u.Host = p.Addr()
	q := u.Query()
	q.Set("directConnection", "true")
	u.RawQuery = q.Encode()
	c := testkit.Must(mongo.Connect(options.Client().ApplyURI(u.String()).SetTimeout(time.Second).SetServerSelectionTimeout(time.Second)))(t)
	testkit.Defer(t, func() error { return c.Disconnect(context.Background()) })
	b := NewMemoryBroker()
	direct = New(db, b)
	testkit.EnsureIndexes(t, direct.EnsureIndexes)
	return New(c.Database(db.Name()), b), direct, p
}

// A stream whose reads of the store fail for a while (the database cut
// away, then given back) stays open, and delivers every notification once
// and in order.
func TestStreamRidesOutADatabaseBlip(t *testing.T) {
	in, sender, p := blipInbox(t)
	failed := make(chan error, 100)
	in.readFailed = func(err error) { failed <- err }
	in.streamRetries = make([]time.Duration, 50)
	for i := range in.streamRetries {
		in.streamRetries[i] = 100 * time.Millisecond
	}
	m := bson.NewObjectID()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := in.Stream(ctx, m, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Cut()
	// More than the stream holds, none read yet: it reads the store for
	// the rest, and that read fails while the path is cut.
	const n = 3 * streamBuffer
	var titles []string
	for i := range n {
		titles = append(titles, fmt.Sprint(i))
	}
	if err := sendAll(sender, m, titles...); err != nil {
		t.Fatal(err)
	}
	got := make(chan *Notification, n)
	go func() {
		for range n {
			got <- <-stream
		}
	}()
	select {
	case err := <-failed:
		t.Logf("a read failed while cut: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no read of the store failed while the database was cut away")
	}
	p.Restore()
	for want := range n {
		nt := recv(t, got)
		if nt == nil {
			t.Fatalf("the stream ended after %d of %d notifications", want, n)
		}
		if nt.Title != fmt.Sprint(want) {
			t.Fatalf("got %q, want %d: a gap, a duplicate or out of order", nt.Title, want)
		}
	}
	expectMarker(t, sender, m, stream)
}

// A stream whose reads keep failing ends, after its retries, so that the
// client resumes from its cursor.
func TestStreamEndsWhenReadsKeepFailing(t *testing.T) {
	in, sender, p := blipInbox(t)
	failed := make(chan error, 10)
	in.readFailed = func(err error) { failed <- err }
	in.streamRetries = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}
	m := bson.NewObjectID()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := in.Stream(ctx, m, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Cut()
	var titles []string
	for i := range 3 * streamBuffer {
		titles = append(titles, fmt.Sprint(i))
	}
	if err := sendAll(sender, m, titles...); err != nil {
		t.Fatal(err)
	}
	delivered := 0
	for nt := range stream { // closes after the retries
		if nt.Title != fmt.Sprint(delivered) {
			t.Fatalf("got %q, want %d", nt.Title, delivered)
		}
		delivered++
	}
	if delivered == 3*streamBuffer {
		t.Fatal("every notification was delivered: no read failed")
	}
	if len(failed) != len(in.streamRetries) {
		t.Fatalf("%d failed reads retried, want %d before the stream ended", len(failed), len(in.streamRetries))
	}
}
