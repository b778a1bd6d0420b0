package graph

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/input"
)

func TestIDsAreTypedAndOpaque(t *testing.T) {
	id := bson.NewObjectID()
	enc := encodeID("Member", id)
	got, err := decodeID("Member", "id", enc)
	if err != nil || got != id {
		t.Fatalf("round trip: %v %v", got, err)
	}
	for _, bad := range []string{"", "x", id.Hex(), encodeID("Notification", id)} {
		_, err := decodeID("Member", "memberId", bad)
		if in, ok := input.As(err); !ok || in.Field != "memberId" {
			t.Errorf("decodeID(%q) = %v, want an input error on memberId", bad, err)
		}
	}
}

func TestCursorsAndPageSize(t *testing.T) {
	c := encodeCursor("notifications", 42)
	if pos, err := decodeCursor("notifications", &c); err != nil || pos != 42 {
		t.Fatalf("round trip: %d %v", pos, err)
	}
	other := encodeCursor("ledger", 42)
	for _, bad := range []string{"garbage", other, encodeCursor("notifications", -1)} {
		if _, err := decodeCursor("notifications", &bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
	for _, n := range []int{0, -1, maxFirst + 1} {
		if _, err := pageSize(&n); err == nil {
			t.Errorf("first=%d accepted", n)
		}
	}
	if n, err := pageSize(nil); err != nil || n != defaultFirst {
		t.Errorf("default page size %d %v", n, err)
	}
}

func TestCodeOf(t *testing.T) {
	if c := CodeOf(input.Errorf("email", "bad")); c != CodeBadUserInput {
		t.Errorf("input error: %s", c)
	}
	if c := CodeOf(ErrUnauthenticated); c != CodeUnauthenticated {
		t.Errorf("unauthenticated: %s", c)
	}
	if c := CodeOf(errInternalForTest); c != CodeInternal {
		t.Errorf("unknown error: %s", c)
	}
}

var errInternalForTest = errors.New("disk on fire")
