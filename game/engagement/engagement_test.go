package engagement

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/batch"
	"github.com/regulars/regulars/internal/chain"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// The game's rooms stand in as fakes: engagement is exercised end to end
// through activities in package game's tests.

type members map[bson.ObjectID]*member.Member

func (ms members) Get(_ context.Context, id bson.ObjectID) (*member.Member, error) {
	if m, ok := ms[id]; ok {
		return m, nil
	}
	return nil, member.ErrNotFound
}

// roster walks a fixed list of members.
type roster []bson.ObjectID

func (r roster) Count(context.Context) (int64, error) { return int64(len(r)), nil }

func (r roster) Step(ctx context.Context, after bson.ObjectID, size, _ int, work func(ctx context.Context, memberID bson.ObjectID) (bool, error)) (batch.Result, error) {
	var next []bson.ObjectID
	for _, id := range r {
		if id.Hex() > after.Hex() {
			next = append(next, id)
		}
	}
	var res batch.Result
	for i, id := range next {
		if i == size {
			return res, nil
		}
		if _, err := work(ctx, id); err != nil {
			return res, err
		}
		res.Done, res.Last = res.Done+1, id
	}
	res.Finished = true
	return res, nil
}

type carried struct {
	entries []*ledger.Entry
	notes   []inbox.Message
}

func (c *carried) CarryOut(_ context.Context, _ *program.Program, entries []*ledger.Entry, notes ...inbox.Message) error {
	c.entries = append(c.entries, entries...)
	c.notes = append(c.notes, notes...)
	return nil
}

func newService(t *testing.T, r roster, ms members) (*Service, *carried) {
	t.Helper()
	db := testkit.Database(t)
	c := testkit.NewClock(time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC))
	programs := program.NewStore(db) // the default program until one is saved
	lg := ledger.New(db.Collection("ledger"), c.Now)
	fx := &carried{}
	s := New(db, Deps{Program: programs, Ledger: lg, Members: ms, Roster: r, Effects: fx, Now: c.Now})
	testkit.EnsureIndexes(t, s.EnsureIndexes, lg.EnsureIndexes)
	return s, fx
}

func TestIndexesExist(t *testing.T) {
	s, _ := newService(t, nil, nil)
	testkit.RequireIndexes(t, s.entries.c, chain.IndexSeq, chain.IndexKey, IndexKind, IndexAt)
}

func TestBadBadgeRulesRefused(t *testing.T) {
	s, _ := newService(t, nil, nil)
	for field, in := range map[string]BadgeInput{
		"counter":             {Name: "X", Counter: "SMILES", Levels: []BadgeLevel{{Name: "B", Threshold: 1}}},
		"levels[0].threshold": {Name: "X", Counter: CounterPurchases, Levels: []BadgeLevel{{Name: "B", Threshold: -3}}},
		"levels[1].threshold": {Name: "X", Counter: CounterPurchases, Levels: []BadgeLevel{{Name: "B", Threshold: 5}, {Name: "S", Threshold: 5}}},
		"window.from":         {Name: "X", Counter: CounterPurchases, Window: &BadgeWindow{From: "March", To: "2026-03"}, Levels: []BadgeLevel{{Name: "B", Threshold: 1}}},
	} {
		if _, err := s.CreateBadge(context.Background(), in); err == nil {
			t.Errorf("%s: accepted", field)
		} else if e, ok := input.As(err); !ok || e.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
	if n := testkit.Count(t, s.badges.c, nil); n != 0 {
		t.Fatalf("refused badges stored: %d", n)
	}
}

// A count from elsewhere (an event attended) counts once per key and
// unlocks a level once: a repeated count hands the effects path the same
// keyed bonus entry and notification again (which it carries out once),
// never a second one.
func TestCountAwardsOncePerKeyThroughTheEffectsPath(t *testing.T) {
	ann := &member.Member{ID: bson.NewObjectID(), Email: "ann@example.com", Timezone: "UTC"}
	s, fx := newService(t, roster{ann.ID}, members{ann.ID: ann})
	ctx := context.Background()
	b, err := s.CreateBadge(ctx, BadgeInput{Name: "Goer", Counter: CounterEventsAttended, Levels: []BadgeLevel{{Name: "BRONZE", Threshold: 2, BonusPoints: 40}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"e1", "e1", "e2", "e2"} {
		if err := s.Count(ctx, ann.ID, CounterEventsAttended, 1, key); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := s.HasBadge(ctx, ann.ID, b.ID); err != nil || !ok {
		t.Fatalf("has badge: %v %v", ok, err)
	}
	earned, _, err := s.MemberBadges(ctx, ann.ID)
	if err != nil || len(earned) != 1 || earned[0].Level != "BRONZE" {
		t.Fatalf("earned %+v %v", earned, err)
	}
	entries, keys := map[bson.ObjectID]int64{}, map[string]inbox.Kind{}
	for _, e := range fx.entries {
		entries[e.ID] = e.Amount
	}
	for _, m := range fx.notes {
		keys[m.Key] = m.Kind
	}
	if len(entries) != 1 || len(keys) != 1 || keys["badge:"+b.ID.Hex()+":BRONZE"] != inbox.KindBadgeUnlocked {
		t.Fatalf("carried out entries %v, notifications %v", entries, keys)
	}
	if sum := testkit.Must(s.Ledger.Sum(ctx, ann.ID))(t); sum != 40 {
		t.Fatalf("ledger sum %d, want the bonus once (40)", sum)
	}
	st := testkit.Must(s.entries.seq.Head(ctx, ann.ID))(t).State
	if st.Counters[string(CounterEventsAttended)] != 2 {
		t.Fatalf("counted %d events, want 2", st.Counters[string(CounterEventsAttended)])
	}
}

// A badge defined after members joined is evaluated for each in the
// backfill; a secret one stays hidden from those who have not earned it.
func TestBackfillAndSecretBadges(t *testing.T) {
	ann := &member.Member{ID: bson.NewObjectID(), Email: "ann@example.com", Timezone: "UTC"}
	bob := &member.Member{ID: bson.NewObjectID(), Email: "bob@example.com", Timezone: "UTC"}
	s, _ := newService(t, roster{ann.ID, bob.ID}, members{ann.ID: ann, bob.ID: bob})
	ctx := context.Background()
	if err := s.Count(ctx, ann.ID, CounterPostsCreated, 3, "p"); err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateBadge(ctx, BadgeInput{Name: "Poster", Counter: CounterPostsCreated, Secret: true, Levels: []BadgeLevel{{Name: "GOLD", Threshold: 3}}})
	if err != nil || b.Backfill.Done || b.Backfill.Total != 2 {
		t.Fatalf("new badge: %+v %v", b, err)
	}
	for range 3 {
		if _, err := s.BackfillBadges(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	all := testkit.Must(s.Badges(ctx))(t)
	if !all[0].Backfill.Done || all[0].Backfill.Processed != 2 {
		t.Fatalf("backfill progress: %+v", all[0].Backfill)
	}
	for _, c := range []struct {
		who  member.Principal
		want int
	}{{member.Principal{MemberID: ann.ID, Roles: []member.Role{member.RoleCustomer}}, 1}, {member.Principal{MemberID: bob.ID, Roles: []member.Role{member.RoleCustomer}}, 0}} {
		if v := testkit.Must(s.VisibleBadges(ctx, c.who))(t); len(v) != c.want {
			t.Errorf("%v sees %d badges, want %d", c.who.MemberID, len(v), c.want)
		}
	}
}
