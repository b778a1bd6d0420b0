package program

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// A Save that claimed its version but stopped before making it current (a
// crash between its two writes) is finished by the next Save, which then
// answers ErrChanged so its caller builds on the version that landed.
func TestSaveRollsForwardAnInterruptedSave(t *testing.T) {
	s := NewStore(testkit.Database(t))
	ctx := context.Background()
	v1 := Default()
	v1.Version = 1
	if err := s.Save(ctx, v1); err != nil {
		t.Fatal(err)
	}
	interrupted := v1
	interrupted.Version, interrupted.PointsPerUnit = 2, 33
	if _, err := s.versions.InsertOne(ctx, version{Number: 2, Program: interrupted}); err != nil {
		t.Fatal(err)
	}
	late := v1
	late.Version, late.PointsPerUnit = 2, 44
	if err := s.Save(ctx, late); !errors.Is(err, ErrChanged) {
		t.Fatalf("save on a claimed version: %v", err)
	}
	cur, err := s.Get(ctx)
	if err != nil || cur.Version != 2 || cur.PointsPerUnit != 33 {
		t.Fatalf("current after roll-forward: version %d, %d points per unit, %v", cur.Version, cur.PointsPerUnit, err)
	}
	next := cur
	next.Version, next.PointsPerUnit = 3, 44
	if err := s.Save(ctx, next); err != nil {
		t.Fatal(err)
	}
	if cur, err := s.Get(ctx); err != nil || cur.Version != 3 || cur.PointsPerUnit != 44 {
		t.Fatalf("current after the retry: version %d, %v", cur.Version, err)
	}
}

// The program is cached per Store for CacheTTL: a change saved through the
// same Store applies at once; one saved through another instance (another
// Store on the same database) applies once CacheTTL has passed.
// Two brand users save the program from the default one (version 0) at
// once, each expecting no program saved yet: one lands, the other is
// ErrChanged, and the program read back is the winner's.
func TestFirstSavesRaceOneWins(t *testing.T) {
	s := NewStore(testkit.Database(t))
	ctx := context.Background()
	zero := int64(0)
	res := testkit.Race(t, 2, func(i int) error {
		_, err := s.Update(ctx, time.Now(), &zero, func(p *Program) { p.PointsPerUnit = 10 + int64(i) })
		return err
	})
	res.Expect(t, ErrChanged)
	if res.OK() != 1 || res.Is(ErrChanged) != 1 {
		t.Fatalf("%d first saves landed, %d conflicts", res.OK(), res.Is(ErrChanged))
	}
	winner := int64(10)
	if res[0] != nil {
		winner = 11
	}
	cur, err := s.read(ctx)
	if err != nil || cur.Version != 1 || cur.PointsPerUnit != winner {
		t.Fatalf("after the race: version %d, %d points per unit (the winner saved %d), %v", cur.Version, cur.PointsPerUnit, winner, err)
	}
	if _, err := s.Update(ctx, time.Now(), &zero, func(p *Program) { p.PointsPerUnit = 12 }); !errors.Is(err, ErrChanged) {
		t.Fatalf("a first save once one is saved: %v", err)
	}
}

func TestGetCachesTheProgram(t *testing.T) {
	db := testkit.Database(t)
	ctx := context.Background()
	here, there := NewStore(db), NewStore(db)
	if p, err := here.Get(ctx); err != nil || p.Version != 0 {
		t.Fatalf("before any save: version %d, %v", p.Version, err)
	}
	p, err := here.Update(ctx, time.Now(), nil, func(p *Program) { p.PointsPerUnit = 7 })
	if err != nil {
		t.Fatal(err)
	}
	if got, err := here.Get(ctx); err != nil || got.Version != p.Version || got.PointsPerUnit != 7 {
		t.Fatalf("same store right after its update: version %d, %d points per unit, %v", got.Version, got.PointsPerUnit, err)
	}
	copied := here // a copy shares the cache
	if got, err := there.Get(ctx); err != nil || got.PointsPerUnit != 7 {
		t.Fatalf("other store's first read: %d points per unit, %v", got.PointsPerUnit, err)
	}
	if _, err := there.Update(ctx, time.Now(), nil, func(p *Program) { p.PointsPerUnit = 9 }); err != nil {
		t.Fatal(err)
	}
	here.cache.mu.Lock()
	here.cache.read = time.Now().Add(time.Hour) // however slow this machine, still within the cache time
	here.cache.mu.Unlock()
	if got, err := copied.Get(ctx); err != nil || got.PointsPerUnit != 7 {
		t.Fatalf("within the cache time another instance's change is not seen yet: %d points per unit, %v", got.PointsPerUnit, err)
	}
	// A caller changing its copy changes nobody else's.
	mine := testkit.Must(here.Get(ctx))(t)
	mine.Tiers[0].Name = "Mine"
	if got := testkit.Must(here.Get(ctx))(t); got.Tiers[0].Name == "Mine" {
		t.Fatal("a caller's edit of its program reached the cache")
	}
	here.cache.mu.Lock()
	here.cache.read = time.Now().Add(-CacheTTL) // the cache time passes
	here.cache.mu.Unlock()
	if got, err := here.Get(ctx); err != nil || got.PointsPerUnit != 9 {
		t.Fatalf("after the cache time: %d points per unit, %v", got.PointsPerUnit, err)
	}
	// An update through the stale store builds on the newest version, not the cached one.
	if _, err := there.Update(ctx, time.Now(), nil, func(p *Program) { p.PointsPerUnit = 11 }); err != nil {
		t.Fatal(err)
	}
	got, err := here.Update(ctx, time.Now(), nil, func(p *Program) { p.ReviewPoints = 5 })
	if err != nil || got.PointsPerUnit != 11 || got.ReviewPoints != 5 {
		t.Fatalf("update through a store with a stale cache: %d points per unit, %d review points, %v", got.PointsPerUnit, got.ReviewPoints, err)
	}
}
