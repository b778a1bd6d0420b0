package game

import (
	"context"
	"testing"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/internal/testkit"
)

// Brand users changing the program at once: without expectedVersion every
// change lands, each as its own version; on one expected version exactly
// one does and the others get a CONFLICT.
func TestConcurrentProgramUpdates(t *testing.T) {
	h := newHarness(t, nil) // saves version 1
	ctx := context.Background()
	const n = 6
	res := testkit.Race(t, n, func(i int) error {
		bonus := int64(100 + i)
		_, err := h.UpdateProgram(ctx, nil, program.Patch{BirthdayBonus: &bonus}.Apply)
		return err
	})
	if res.OK() != n {
		t.Fatalf("%d of %d patches landed", res.OK(), n)
	}
	versions, more, err := h.program.Versions(ctx, 0, 100)
	if err != nil || more || len(versions) != n+1 || versions[0].Version != n+1 {
		t.Fatalf("history after %d patches: %d versions, newest %d, %v", n, len(versions), versions[0].Version, err)
	}
	cur, err := h.Rooms().Program.Get(ctx)
	if err != nil || cur.Version != n+1 || cur.BirthdayBonus != versions[0].BirthdayBonus {
		t.Fatalf("current program %d (bonus %d), newest version %d (bonus %d): %v", cur.Version, cur.BirthdayBonus, versions[0].Version, versions[0].BirthdayBonus, err)
	}

	expected := cur.Version
	res = testkit.Race(t, n, func(i int) error {
		days := 10 + i
		_, err := h.UpdateProgram(ctx, &expected, program.Patch{ReturnWindowDays: &days}.Apply)
		return err
	})
	res.Expect(t, program.ErrChanged)
	if res.OK() != 1 || res.Is(program.ErrChanged) != n-1 {
		t.Fatalf("on one expected version: %d landed, %d conflicts", res.OK(), res.Is(program.ErrChanged))
	}
	if cur, err := h.Rooms().Program.Get(ctx); err != nil || cur.Version != expected+1 {
		t.Fatalf("current version %d, want %d: %v", cur.Version, expected+1, err)
	}
}

// A change that changes nothing makes no new version.
func TestEmptyProgramChangeMakesNoVersion(t *testing.T) {
	h := newHarness(t, nil) // saves version 1
	ctx := context.Background()
	p, err := h.UpdateProgram(ctx, nil, program.Patch{}.Apply)
	if err != nil || p.Version != 1 {
		t.Fatalf("an empty patch: version %d, %v", p.Version, err)
	}
	if versions, _, err := h.program.Versions(ctx, 0, 10); err != nil || len(versions) != 1 {
		t.Fatalf("history after an empty patch: %d versions, %v", len(versions), err)
	}
}
