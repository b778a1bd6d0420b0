package program

import (
	"context"
	"errors"
	"testing"

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
