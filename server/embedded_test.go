package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

// startEmbedded runs the program as `go run ./server` does with no
// MONGODB_URI: on its own embedded database in dir.
func startEmbedded(t *testing.T, dir string) *app {
	t.Helper()
	return startApp(t, map[string]string{"MONGODB_URI": "", "DATA_DIR": dir, "MONGODB_DATABASE": "regulars"})
}

func TestEmbeddedServerWorksAndKeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	a := startEmbedded(t, dir)
	if a.embedded == nil || a.embedded.Dir() != dir {
		t.Fatalf("not on an embedded database in %s", dir)
	}
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")

	// Ann subscribes; a purchase the brand's backend reports with its API
	// key reaches her live.
	c := subscribeToNotifications(t, a, ann)
	var r activityResult
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-1", 4250)).decode(t, "recordActivity", &r)
	if r.Points != 425+50 {
		t.Fatalf("purchase: %+v", r)
	}
	if m := c.Expect("next"); !bytes.Contains(m.Payload, []byte("REWARD_EARNED")) {
		t.Fatalf("notification: %s", m.Payload)
	}

	// 50 sign-ups at once, each acknowledged, then a graceful stop.
	var wg sync.WaitGroup
	start := make(chan struct{})
	ids := make([]string, 50)
	for i := range ids {
		wg.Go(func() {
			<-start
			ids[i] = a.signUp(t, fmt.Sprintf("m%02d@example.com", i)).Member.ID
		})
	}
	close(start)
	wg.Wait()
	if err := a.Close(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}

	// A new process on the same directory has every acknowledged write.
	b := startEmbedded(t, dir)
	n, err := b.mongo.Database("regulars").Collection("members").CountDocuments(context.Background(), bson.D{})
	if err != nil || n != 51 {
		t.Fatalf("after the restart: %d members (%v), want 51", n, err)
	}
	for _, id := range ids {
		if _, err := b.members.Get(context.Background(), memberObjectID(t, id)); err != nil {
			t.Fatalf("member %s lost: %v", id, err)
		}
	}
	var logged session
	b.do(t, "", `mutation { logIn(input: {email: "ann@example.com", password: "correct horse battery"}) { accessToken member { id } } }`, nil).
		decode(t, "logIn", &logged)
	var me struct{ Points struct{ Balance int } }
	b.do(t, logged.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &me)
	if logged.Member.ID != ann.Member.ID || me.Points.Balance != r.Points {
		t.Fatalf("after the restart Ann is %s with %d points, want %s with %d", logged.Member.ID, me.Points.Balance, ann.Member.ID, r.Points)
	}
}

// TestBadStartsFailWithOneLine runs the real binary as a newcomer would,
// with each mistake, and wants exit code 1 and one line on stderr naming it.
func TestBadStartsFailWithOneLine(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "regulars")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	run := func(t *testing.T, env ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(bin)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "JWT_SECRET=" + strings.Repeat("s", 32)}, env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("the server did not fail: %v\n%s", err, stderr.String())
		}
		return exit.ExitCode(), stderr.String()
	}
	oneLine := func(t *testing.T, code int, stderr string, want ...string) {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 1 || len(lines) != 1 || strings.Contains(stderr, "panic") {
			t.Fatalf("exit code %d, stderr:\n%s\nwant code 1 and one line", code, stderr)
		}
		for _, w := range want {
			if !strings.Contains(lines[0], w) {
				t.Errorf("the error line does not mention %q: %s", w, lines[0])
			}
		}
	}

	t.Run("unwritable DATA_DIR", func(t *testing.T) {
		// Tests may run as root, whom permissions do not stop: a path
		// through a regular file cannot be created by anyone.
		file := filepath.Join(t.TempDir(), "a-file")
		if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(file, "data")
		code, stderr := run(t, "HTTP_ADDR=127.0.0.1:0", "DATA_DIR="+dir)
		oneLine(t, code, stderr, "DATA_DIR", dir)
	})

	t.Run("port in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		testkit.Defer(t, ln.Close)
		dir := t.TempDir()
		code, stderr := run(t, "HTTP_ADDR="+ln.Addr().String(), "DATA_DIR="+dir)
		oneLine(t, code, stderr, ln.Addr().String(), "address already in use")
		// The database it opened was closed and unlocked: the next start works.
		b := startEmbedded(t, dir)
		b.signUp(t, "after-clash@example.com")
	})

	t.Run("DATA_DIR of another program", func(t *testing.T) {
		dir := t.TempDir()
		conf := filepath.Join(dir, "postgresql.conf")
		content := []byte("listen_addresses = 'localhost'\n")
		if err := os.WriteFile(conf, content, 0o600); err != nil {
			t.Fatal(err)
		}
		code, stderr := run(t, "HTTP_ADDR=127.0.0.1:0", "DATA_DIR="+dir)
		oneLine(t, code, stderr, "DATA_DIR", dir, "other files")
		entries := testkit.Must(os.ReadDir(dir))(t)
		if got := testkit.Must(os.ReadFile(conf))(t); len(entries) != 1 || !bytes.Equal(got, content) {
			t.Fatalf("the other program's directory was touched: %d entries, postgresql.conf = %q", len(entries), got)
		}
	})
}

// On the embedded database with no SERVICE_API_KEYS, the brand's backend
// calls with a development key kept beside the data (so the README's
// examples work as pasted: SERVICE_KEY=$(cat data/service-api-key)), the
// same after a restart; a configured key replaces it.
func TestDevelopmentServiceKeyKeptWithTheData(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"MONGODB_URI": "", "DATA_DIR": dir, "MONGODB_DATABASE": "regulars", "SERVICE_API_KEYS": ""}
	a := startApp(t, env)
	raw, err := os.ReadFile(filepath.Join(dir, devServiceKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(raw))
	if r := a.do(t, "ApiKey "+key, `{ members(first: 1) { edges { cursor } } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("the development key is refused: %+v", r.Errors)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b := startApp(t, env)
	if r := b.do(t, "ApiKey "+key, `{ members(first: 1) { edges { cursor } } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("the development key after a restart: %+v", r.Errors)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	env["SERVICE_API_KEYS"] = testAPIKey
	c := startApp(t, env)
	if r := c.do(t, "ApiKey "+key, `{ members(first: 1) { edges { cursor } } }`, nil); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("with SERVICE_API_KEYS set, the development key still works: %+v", r)
	}
}

// TestEmbeddedServerDoesNotPollWhileIdle: on the embedded database the
// server is the only instance, so with a member subscribed and nothing
// happening it does not poll for other instances' notifications, thread
// posts and event changes four times a second (each poll a scan of a
// whole collection there, which after an offer to 1,000 members took most
// of the database's time); what it stores still reaches the member at once.
func TestEmbeddedServerDoesNotPollWhileIdle(t *testing.T) {
	a := startEmbedded(t, t.TempDir())
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	c := subscribeToNotifications(t, a, ann)

	time.Sleep(time.Second) // the jobs' first round, the subscription's first reads
	before := a.embedded.Commands()
	const idle = 4 * time.Second
	time.Sleep(idle)
	// Left: the sessions poll and the webhook loop (every 5 s too) and the
	// database health check, about 11 commands; with the sessions poll
	// and the webhook loop every second, 22; with the notifications' and
	// events' polls at 250 ms as well, 52.
	n := a.embedded.Commands() - before
	t.Logf("%d commands in %s", n, idle)
	if n > 16 {
		t.Errorf("%d commands in %s of idling with one subscriber, want at most 16", n, idle)
	}

	var r activityResult
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-1", 4250)).decode(t, "recordActivity", &r)
	start := time.Now()
	if m := c.Expect("next"); !bytes.Contains(m.Payload, []byte("REWARD_EARNED")) {
		t.Fatalf("notification: %s", m.Payload)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the purchase's notification arrived %s after its answer", d)
	}
}

// subscribeToNotifications opens a socket as m with a notifications
// subscription, once the server counts it.
func subscribeToNotifications(t *testing.T, a *app, m session) *testkit.WSClient {
	t.Helper()
	c := a.dial(t)
	c.Init(m.bearer())
	c.Send("subscribe", "n", map[string]any{"query": `subscription { notifications { kind title } }`})
	a.waitSubscribers(t, m.Member.ID, 1)
	return c
}
