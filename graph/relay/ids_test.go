package relay

import (
	"encoding/base64"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/input"
)

func TestIDsAreTypedAndOpaque(t *testing.T) {
	id := bson.NewObjectID()
	enc := EncodeID("Member", id)
	got, err := DecodeID("Member", "id", enc)
	if err != nil || got != id {
		t.Fatalf("round trip: %v %v", got, err)
	}
	upper := base64.RawURLEncoding.EncodeToString([]byte("Member:" + strings.ToUpper(id.Hex())))
	for _, bad := range []string{"", "x", id.Hex(), EncodeID("Notification", id), upper} {
		_, err := DecodeID("Member", "memberId", bad)
		if in, ok := input.As(err); !ok || in.Field != "memberId" {
			t.Errorf("DecodeID(%q) = %v, want an input error on memberId", bad, err)
		}
	}
}

func TestCursorsAndPageSize(t *testing.T) {
	c := EncodeCursor("notifications", 42)
	if pos, err := DecodeCursor("notifications", &c); err != nil || pos != 42 {
		t.Fatalf("round trip: %d %v", pos, err)
	}
	other := EncodeCursor("ledger", 42)
	for _, bad := range []string{"garbage", other, EncodeCursor("notifications", -1)} {
		if _, err := DecodeCursor("notifications", &bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
	for _, n := range []int{0, -1, MaxFirst + 1} {
		if _, err := PageSize(&n); err == nil {
			t.Errorf("first=%d accepted", n)
		}
	}
	if n, err := PageSize(nil); err != nil || n != DefaultFirst {
		t.Errorf("default page size %d %v", n, err)
	}
}

// A standing cursor pages its own board only: another period's or
// another week's board refuses it on after.
func TestStandingCursorsAreTiedToTheirBoard(t *testing.T) {
	week := BoardList(leaderboard.Board{Period: leaderboard.PeriodWeekly, Key: "2026-W22"})
	s := leaderboard.Standing{Score: 550, MemberID: bson.NewObjectID()}
	c := EncodeStandingCursor(week, s)
	if got, err := DecodeStandingCursor(week, &c); err != nil || *got != s {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, other := range []leaderboard.Board{{Period: leaderboard.PeriodMonthly, Key: "2026-05"}, {Period: leaderboard.PeriodWeekly, Key: "2026-W21"}} {
		if _, err := DecodeStandingCursor(BoardList(other), &c); func() bool { e, ok := input.As(err); return !ok || e.Field != "after" }() {
			t.Errorf("on %+v: %v, want an input error on after", other, err)
		}
	}
}
