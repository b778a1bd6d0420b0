package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

// jobRoundLog records the rounds of periodic jobs of several instances, in
// the order they started and ended.
type jobRoundLog struct {
	mu     sync.Mutex
	events []jobRoundEvent
}

type jobRoundEvent struct {
	instance int
	epoch    int64
	start    bool
}

// hook returns the Main setup that logs instance i's rounds.
func (l *jobRoundLog) hook(i int) func(*Main) {
	return func(m *Main) {
		m.jobRound = func(epoch int64, start bool) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.events = append(l.events, jobRoundEvent{i, epoch, start})
		}
	}
}

// check fails t if two instances' rounds overlapped or one epoch ran on two
// instances, and returns how many rounds ended.
func (l *jobRoundLog) check(t *testing.T) (rounds int, by map[int]int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	running := -1
	holder := map[int64]int{}
	by = map[int]int{}
	for _, e := range l.events {
		if h, ok := holder[e.epoch]; ok && h != e.instance {
			t.Errorf("epoch %d ran on instances %d and %d", e.epoch, h, e.instance)
		}
		holder[e.epoch] = e.instance
		switch {
		case e.start && running >= 0:
			t.Errorf("instance %d started a round while instance %d ran one", e.instance, running)
		case e.start:
			running = e.instance
		case running == e.instance:
			running = -1
			rounds++
			by[e.instance]++
		}
	}
	return rounds, by
}

// Three instances share one database behind no particular load balancer:
// a notification sent through any of them reaches a subscriber on every
// instance exactly once, and the periodic jobs run on one instance at a
// time.
func TestThreeInstances(t *testing.T) {
	var rounds jobRoundLog
	env := map[string]string{"JOB_INTERVAL": "2s"}
	apps := []*app{startApp(t, env, rounds.hook(0))}
	env["MONGODB_DATABASE"] = apps[0].Config.MongoDatabase
	apps = append(apps, startApp(t, env, rounds.hook(1)), startApp(t, env, rounds.hook(2)))

	ann := apps[0].signUp(t, "ann@example.com")
	type live struct {
		next func() string // the next notification's title
	}
	var subs []live
	for _, a := range apps {
		c := a.subscribed(t, ann, `subscription { notifications { title } }`)
		subs = append(subs, live{func() string {
			var m struct {
				Data struct{ Notifications struct{ Title string } }
			}
			if err := json.Unmarshal(c.Expect("next").Payload, &m); err != nil {
				t.Fatal(err)
			}
			return m.Data.Notifications.Title
		}})
	}
	send := func(a *app, title string) {
		a.service(t, `mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "b") { id } }`,
			map[string]any{"id": ann.Member.ID, "t": title}).decode(t, "sendNotification", &struct{}{})
	}
	var sent []string
	for i, a := range apps {
		title := fmt.Sprintf("via instance %d", i)
		send(a, title)
		sent = append(sent, title)
	}
	for i, s := range subs {
		var got []string
		for range sent {
			got = append(got, s.next())
		}
		slices.Sort(got)
		if !slices.Equal(got, sent) {
			t.Errorf("subscriber on instance %d received %q, want %q once each", i, got, sent)
		}
	}
	// Nothing more arrives: the next message on each is a later marker.
	send(apps[2], "marker")
	for i, s := range subs {
		if got := s.next(); got != "marker" {
			t.Errorf("subscriber on instance %d: %q after the three, want the marker", i, got)
		}
	}

	// Jobs: the three instances try for the lease every 2 s; over several
	// rounds, each ran on one instance only and none overlapped.
	testkit.Eventually(t, 40*time.Second, func() bool {
		rounds.mu.Lock()
		defer rounds.mu.Unlock()
		return len(rounds.events) >= 8
	}, "fewer than 4 rounds of jobs in 40 s")
	n, by := rounds.check(t)
	t.Logf("%d rounds of jobs, by instance: %v", n, by)
}
