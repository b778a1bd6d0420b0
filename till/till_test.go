package till

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type oneMember struct{ m *member.Member }

func (o oneMember) Get(_ context.Context, id bson.ObjectID) (*member.Member, error) {
	if id != o.m.ID {
		return nil, member.ErrNotFound
	}
	return o.m, nil
}

type silver struct{}

func (silver) Standing(context.Context, bson.ObjectID) (string, int64, error) {
	return "Silver", 420, nil
}

func newCards(t *testing.T, clock *testkit.Clock) (*Service, *member.Member) {
	t.Helper()
	m := &member.Member{ID: bson.NewObjectID(), DisplayName: "Ann"}
	s := New(testkit.Database(t), []byte(strings.Repeat("k", 32)), oneMember{m}, silver{}, clock.Now)
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	return s, m
}

func TestCardIndexesExist(t *testing.T) {
	s, _ := newCards(t, testkit.NewClock(time.Now()))
	testkit.RequireIndexes(t, s.codes, indexCodeMember)
}

// Every one-character typo and every swap of two neighbours (but 0 and Z) is
// refused before any look-up; case, hyphens and the look-alikes I, L, O
// are read as meant.
func TestPrintedCodeCatchesTypos(t *testing.T) {
	for range 50 {
		code := newCode()
		if got, err := canonical(strings.ToLower(code[:5]) + "-" + code[5:]); err != nil || got != code {
			t.Fatalf("%s typed back: %q %v", code, got, err)
		}
		for i := range codeLen {
			for _, c := range []byte(crockford) {
				if c == code[i] {
					continue
				}
				typo := code[:i] + string(c) + code[i+1:]
				if _, err := canonical(typo); err == nil {
					t.Fatalf("typo %s of %s accepted", typo, code)
				}
			}
			// Luhn mod 32's one blind spot: 0 and Z (0 and 31) swapped.
			if i+1 < codeLen && code[i] != code[i+1] && !strings.Contains("0Z Z0", code[i:i+2]) {
				swapped := code[:i] + string(code[i+1]) + string(code[i]) + code[i+2:]
				if _, err := canonical(swapped); err == nil {
					t.Fatalf("swap %s of %s accepted", swapped, code)
				}
			}
		}
	}
	code := "000000001"
	code += string(crockford[check(code)])
	if got, err := canonical("oOo0-OOOOi" + code[9:]); err != nil || got != code {
		t.Fatalf("look-alikes: %q %v, want %s", got, err, code)
	}
}

// The card's code stays; identify reads it and a QR payload, which stops
// working after a minute and cannot be forged or borrowed from another
// server's secret.
func TestIdentify(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	s, m := newCards(t, clock)
	ctx := context.Background()
	c1, err := s.Card(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.Card(ctx, m.ID)
	if err != nil || c2.Code != c1.Code {
		t.Fatalf("second card: %+v %v, want code %s", c2, err, c1.Code)
	}
	for _, code := range []string{c1.Code, c1.QRPayload} {
		who, err := s.Identify(ctx, code)
		if err != nil || who.MemberID != m.ID || who.DisplayName != "Ann" || who.Tier != "Silver" || who.AvailablePoints != 420 {
			t.Fatalf("identify %s: %+v %v", code, who, err)
		}
	}
	other := New(testkit.Database(t), []byte(strings.Repeat("x", 32)), oneMember{m}, silver{}, clock.Now)
	foreign, err := other.Card(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Identify(ctx, foreign.QRPayload); !isInputOn(err, "code") {
		t.Fatalf("another server's QR: %v", err)
	}
	clock.Add(QRLifetime)
	var expired *ExpiredQR
	if _, err := s.Identify(ctx, c1.QRPayload); !errors.As(err, &expired) || !isInputOn(err, "code") || !expired.At.Equal(c1.QRExpiresAt) {
		t.Fatalf("a QR a minute old: %v", err)
	}
	if _, err := s.Identify(ctx, c1.Code); err != nil {
		t.Fatalf("the printed code still works: %v", err)
	}
	// A QR read just before the member was deleted names nobody.
	c3 := testkit.Must(s.Card(ctx, m.ID))(t)
	deleted := clock.Now()
	m.DeletedAt = &deleted
	if _, err := s.Identify(ctx, c3.QRPayload); !errors.Is(err, ErrMemberNotFound) {
		t.Fatalf("the QR of a deleted member: %v, want not found", err)
	}
}

func isInputOn(err error, field string) bool {
	in, ok := input.As(err)
	return ok && in.Field == field
}
