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

// One object has one id and a place in a list one cursor: the same bytes
// written with other unused bits in the last character are refused.
func TestIDsAndCursorsHaveOneSpelling(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	id := bson.NewObjectID()
	// twin flips the lowest bit of the last character: for a string whose
	// length is not a multiple of 4 that bit carries no data.
	twin := func(s string) string {
		if len(s)%4 == 0 {
			t.Fatalf("%q has no unused bits", s)
		}
		last := strings.IndexByte(alphabet, s[len(s)-1])
		return s[:len(s)-1] + string(alphabet[last^1])
	}
	enc := EncodeID("Member", id)
	if raw, err := base64.RawURLEncoding.DecodeString(twin(enc)); err != nil || string(raw) != "Member:"+id.Hex() {
		t.Fatalf("the twin %q is not the same bytes: %q %v", twin(enc), raw, err)
	}
	if _, err := DecodeID("Member", "id", twin(enc)); err == nil {
		t.Errorf("DecodeID took %q, a second spelling of %q", twin(enc), enc)
	}
	if typ := TypeOf(twin(enc)); typ != "" {
		t.Errorf("TypeOf(%q) = %q, want no type", twin(enc), typ)
	}
	c := EncodeIDCursor("members", id)
	if _, err := DecodeIDCursor("members", &c); err != nil {
		t.Fatal(err)
	}
	if tw := twin(c); tw != c {
		if _, err := DecodeIDCursor("members", &tw); err == nil {
			t.Errorf("DecodeIDCursor took %q, a second spelling of %q", tw, c)
		}
	}
}
