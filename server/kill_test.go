package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/lease"
	"github.com/regulars/regulars/internal/mongotest"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

// serveForTest, set to 1 in a subprocess's environment, makes the test
// binary run the server's main instead of the tests.
const serveForTest = "REGULARS_SERVE_FOR_TEST"

// server is the program running in a subprocess, which a test can kill.
//
// The subprocess is this test binary re-executed with serveForTest: its
// TestMain calls the server's main, the same code as the built binary. The
// database is not in the subprocess: it is the test binary's embedded
// database (or MONGODB_URI), reached over TCP as a MongoDB server would be,
// so that SIGKILL takes the server down mid-write and leaves the database,
// with whatever the server had written, as a crashed instance leaves
// MongoDB.
type server struct {
	cmd     *exec.Cmd
	app     *app
	mu      sync.Mutex
	logs    strings.Builder
	exited  chan struct{} // closed when the process ended
	waitErr error         // how it ended, once exited is closed
}

// spawnServer starts the server in a subprocess on database db with env
// added, and waits until it is ready.
func spawnServer(t *testing.T, db string, env map[string]string) *server {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), serveForTest+"=1", "MONGODB_URI="+mongotest.URI(t), "MONGODB_DATABASE="+db,
		"HTTP_ADDR=127.0.0.1:0", "SERVICE_API_KEYS="+testAPIKey, "JWT_SECRET="+strings.Repeat("s", 32), "LOG_LEVEL=info")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr := testkit.Must(cmd.StderrPipe())(t)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" {
				addr <- l.Addr
			}
		}
		if _, err := io.Copy(io.Discard, stderr); err != nil { // the rest, after a too long line
			s.mu.Lock()
			s.logs.WriteString("reading the log: " + err.Error() + "\n")
			s.mu.Unlock()
		}
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) { // already dead, most often
			t.Error(err)
		}
		<-s.exited
		if t.Failed() {
			s.mu.Lock()
			t.Logf("server %d's log:\n%s", cmd.Process.Pid, s.logs.String())
			s.mu.Unlock()
		}
	})
	select {
	case a := <-addr:
		s.app = &app{url: "http://" + a + "/graphql"}
	case <-s.exited:
		t.Fatalf("server exited: %v\n%s", s.waitErr, s.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatal("server never listened")
	}
	testkit.Eventually(t, 60*time.Second, func() bool {
		r, err := (&app{url: strings.TrimSuffix(s.app.url, "/graphql") + "/readyz"}).get()
		return err == nil && r == 200
	}, "server never became ready")
	return s
}

// get returns the status of a GET of a.url.
func (a *app) get() (int, error) {
	res, err := httpClient.Get(a.url)
	if err != nil {
		return 0, err
	}
	_, err = readBody(res)
	return res.StatusCode, err
}

var httpClient = &http.Client{Timeout: time.Minute}

// kill sends SIGKILL and waits for the process to end.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.exited
}

// holderPid reads the pid out of a lease holder (host/pid/random).
func holderPid(holder string) int {
	parts := strings.Split(holder, "/")
	if len(parts) < 3 {
		return 0
	}
	pid, err := strconv.Atoi(parts[len(parts)-2])
	if err != nil {
		return 0
	}
	return pid
}

type grant struct {
	Epoch     int64     `bson:"epoch"`
	Holder    string    `bson:"holder"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

func latestGrant(t *testing.T, coll *mongo.Collection) (grant, bool) {
	t.Helper()
	var g grant
	err := coll.FindOne(context.Background(), bson.D{{Key: "job", Value: "periodic"}},
		options.FindOne().SetSort(bson.D{{Key: "job", Value: 1}, {Key: "epoch", Value: -1}})).Decode(&g)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return g, false
	} else if err != nil {
		t.Fatal(err)
	}
	return g, true
}

// Two instances; the one holding the jobs' lease is killed (SIGKILL). The
// other takes the lease over once it has expired, within one job interval
// of its expiry, under a newer epoch. The dead holder is fenced out: its
// fence (the renewal under its epoch that a round makes before the offers,
// campaigns and rollups) is refused. A process killed writes nothing after
// its death, so the late write checked here is the one a holder that only
// stalled (a long GC pause, a frozen VM) would try on waking, made with the
// dead holder's own identity and epoch.
func TestKilledLeaseHolderHandsOver(t *testing.T) {
	db := testkit.Database(t)
	const interval = time.Second
	env := map[string]string{"JOB_INTERVAL": interval.String()}
	servers := []*server{spawnServer(t, db.Name(), env), spawnServer(t, db.Name(), env)}
	leases := db.Collection("leases")
	var held grant
	testkit.Eventually(t, 30*time.Second, func() bool {
		var ok bool
		held, ok = latestGrant(t, leases)
		return ok
	}, "no instance took the jobs' lease")
	var dead, alive *server
	for _, s := range servers {
		if s.cmd.Process.Pid == holderPid(held.Holder) {
			dead = s
		} else {
			alive = s
		}
	}
	if dead == nil {
		t.Fatalf("the lease is held by %s, neither instance", held.Holder)
	}
	dead.kill(t)
	held, _ = latestGrant(t, leases) // as the holder last renewed it
	var next grant
	testkit.Eventually(t, 60*time.Second, func() bool {
		next, _ = latestGrant(t, leases)
		return next.Epoch > held.Epoch
	}, "the surviving instance never took the lease over")
	if holderPid(next.Holder) != alive.cmd.Process.Pid || next.Epoch != held.Epoch+1 {
		t.Errorf("after epoch %d of %s: epoch %d of %s, want %d of pid %d", held.Epoch, held.Holder, next.Epoch, next.Holder, held.Epoch+1, alive.cmd.Process.Pid)
	}
	// When the survivor took it, by the database's record: a grant lasts
	// three intervals from its taking.
	taken := next.ExpiresAt.Add(-3 * interval)
	if gap := taken.Sub(held.ExpiresAt); gap < 0 || gap > interval+5*time.Second {
		t.Errorf("taken over %v after the dead holder's lease expired, want within one job interval (%v) and never before", gap, interval)
	}
	ctx := context.Background()
	stale := lease.New(leases, "periodic", held.Holder, 3*interval, time.Now)
	if stale.Holds(ctx, held.Epoch) {
		t.Error("the dead holder's epoch still holds")
	}
	if e, err := stale.Acquire(ctx); err != nil || e != 0 {
		t.Errorf("the dead holder's fence: epoch %d (%v), want refused", e, err)
	}
	if g, _ := latestGrant(t, leases); g.Epoch != next.Epoch || g.Holder != next.Holder {
		t.Errorf("the late write changed the lease: %+v, was %+v", g, next)
	}
}

// The server is killed (SIGKILL) while it publishes an offer to every
// member, and the next one while it runs the birthday campaign for all of
// them; after each restart the work resumes, and in the end each member has
// exactly one OFFER_AVAILABLE and one BIRTHDAY notification. 60 members by
// default; FAULT_MEMBERS=2000 for the figure (BENCHMARKS.md).
func TestKilledWhilePublishingNotifiesEachOnce(t *testing.T) {
	n := 60
	if v, err := strconv.Atoi(os.Getenv("FAULT_MEMBERS")); err == nil && v > 0 {
		n = v
	}
	db := testkit.Database(t)
	seedBirthdayMembers(t, db.Name(), n)

	const interval = time.Second
	env := map[string]string{"JOB_INTERVAL": interval.String()}
	// The embedded database's rounds grow faster than the audience
	// (BENCHMARKS.md): room for FAULT_MEMBERS=2000.
	wait := 5*time.Minute + time.Duration(n)*time.Second
	s := spawnServer(t, db.Name(), env)
	in := testProgram()
	in["campaigns"] = map[string]any{"birthday": true, "birthdayHour": 0, "holdoutPercent": 0}
	s.app.service(t, `mutation($in: ProgramInput!) { updateProgram(input: $in) { version } }`, map[string]any{"in": in}).decode(t, "updateProgram", &struct{}{})
	now := time.Now().UTC()
	var offer struct{ ID string }
	s.app.service(t, `mutation($s: DateTime!, $e: DateTime!) { createOffer(input: {title: "Launch day", body: "For everyone",
	  benefit: {kind: BONUS_POINTS, value: 100}, startsAt: $s, endsAt: $e, holdoutPercent: 0}) { id } }`,
		map[string]any{"s": now.Add(-time.Minute).Format(time.RFC3339), "e": now.Add(48 * time.Hour).Format(time.RFC3339)}).decode(t, "createOffer", &offer)
	s.app.service(t, `mutation($id: ID!) { publishOffer(id: $id) { status } }`, map[string]any{"id": offer.ID}).decode(t, "publishOffer", &struct{}{})

	notifications := db.Collection("notifications")
	count := func(kind string) int64 {
		return testkit.Count(t, notifications, bson.D{{Key: "kind", Value: kind}})
	}
	var offers, birthdays int64
	testkit.Eventually(t, wait, func() bool { offers = count("OFFER_AVAILABLE"); return offers > 0 }, "the offer was never sent")
	s.kill(t)
	t.Logf("killed with %d of %d offers sent", count("OFFER_AVAILABLE"), n)

	s = spawnServer(t, db.Name(), env)
	testkit.Eventually(t, wait, func() bool { birthdays = count("BIRTHDAY"); return birthdays > 0 }, "the birthday campaign never ran")
	s.kill(t)
	t.Logf("killed with %d offers and %d of %d birthday greetings sent", count("OFFER_AVAILABLE"), count("BIRTHDAY"), n)

	spawnServer(t, db.Name(), env)
	testkit.Eventually(t, wait, func() bool {
		return count("OFFER_AVAILABLE") >= int64(n) && count("BIRTHDAY") >= int64(n)
	}, "not every member was notified after the restarts")
	cur := testkit.Must(notifications.Find(context.Background(), bson.D{{Key: "kind", Value: bson.D{{Key: "$in", Value: bson.A{"OFFER_AVAILABLE", "BIRTHDAY"}}}}}))(t)
	var docs []struct {
		MemberID bson.ObjectID `bson:"memberId"`
		Kind     string        `bson:"kind"`
	}
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, d := range docs {
		per[d.MemberID.Hex()+" "+d.Kind]++
	}
	if len(per) != 2*n {
		t.Errorf("%d members notified of the offer or greeted, want %d each", len(per), n)
	}
	for k, c := range per {
		if c != 1 {
			t.Errorf("%s: %d notifications", k, c)
		}
	}
}

// seedBirthdayMembers stores n members, born on this day, with game
// accounts, through an instance of the server that is closed afterwards.
func seedBirthdayMembers(t *testing.T, db string, n int) {
	t.Helper()
	// It releases the jobs' lease when it closes.
	a := startApp(t, map[string]string{"MONGODB_DATABASE": db})
	// The default program greets birthdays with a 10% holdout: off until
	// the test turns it on, for everyone.
	in := testProgram()
	in["campaigns"] = map[string]any{"birthday": false, "holdoutPercent": 0}
	a.service(t, `mutation($in: ProgramInput!) { updateProgram(input: $in) { version } }`, map[string]any{"in": in}).decode(t, "updateProgram", &struct{}{})
	ctx := context.Background()
	today := time.Now().UTC()
	docs := make([]any, n)
	ms := make([]*member.Member, n)
	for i := range n {
		ms[i] = &member.Member{ID: bson.NewObjectID(), Email: fmt.Sprintf("m%d@example.com", i), DisplayName: "Member", Timezone: "UTC",
			Birthday: &member.Date{Year: 1990, Month: today.Month(), Day: today.Day()}, Roles: []member.Role{member.RoleCustomer}, CreatedAt: today}
		docs[i] = ms[i]
	}
	if _, err := a.mongo.Database(db).Collection("members").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if _, err := a.game.Rooms().Referrals.Enroll(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}
