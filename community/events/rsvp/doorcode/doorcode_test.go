package doorcode

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestSignedCodeNamesItsEventAndMemberAndCannotBeForged(t *testing.T) {
	secret := []byte("door secret")
	ev, m := bson.NewObjectID(), bson.NewObjectID()
	code := Sign(secret, ev, m)
	gotEv, gotM, ok := Verify(secret, code)
	if !ok || gotEv != ev || gotM != m {
		t.Fatalf("Verify(Sign) = %v %v %v, want %v %v true", gotEv, gotM, ok, ev, m)
	}
	if _, _, ok := Verify([]byte("another secret"), code); ok {
		t.Fatal("a code signed with another secret verified")
	}
	if _, _, ok := Verify(secret, code[:len(code)-2]+"AA"); ok {
		t.Fatal("a code with a changed MAC verified")
	}
	if _, _, ok := Verify(secret, "not a code"); ok {
		t.Fatal("garbage verified")
	}
}

func TestDoorCodeIsShownGroupedAndReadInAnyCase(t *testing.T) {
	ev := bson.NewObjectID()
	key := NewKey(ev)
	shown, ok := Show(key)
	if !ok || len(shown) != Len+1 || shown[4] != '-' {
		t.Fatalf("Show(%q) = %q, %v; want 4+4 characters with a dash", key, shown, ok)
	}
	typed := " " + shown[:2] + " " + shown[2:] + " "
	for i, c := range []byte(typed) {
		if c >= 'A' && c <= 'Z' {
			b := []byte(typed)
			b[i] = c + 'a' - 'A'
			typed = string(b)
			break
		}
	}
	code, ok := Parse(typed)
	if !ok || Key(ev, code) != key {
		t.Fatalf("Parse(%q) = %q, %v; want the code of %q", typed, code, ok, key)
	}
	if _, ok := Parse("K7QM-3XH"); ok {
		t.Fatal("a code one character short parsed")
	}
	if _, ok := Show(ev.Hex()); ok {
		t.Fatal("a key without a code showed one")
	}
}
