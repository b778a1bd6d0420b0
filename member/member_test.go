package member

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
)

// newService returns the profiles on a fresh database.
func newService(t *testing.T) *Service {
	t.Helper()
	s := New(testkit.Database(t), nil)
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	return s
}

// create stores a member with in's profile (and a placeholder hash:
// passwords are member/auth's).
func create(t *testing.T, s *Service, in SignUp) *Member {
	t.Helper()
	return testkit.Must(s.Create(context.Background(), in, []byte("not a hash")))(t)
}

func TestIndexesExist(t *testing.T) {
	s := newService(t)
	testkit.RequireIndexes(t, s.members.c, indexEmail, indexBirthday, indexNameKey, indexUnannounced, indexDeleting)
	// Ensuring twice, as every start does, is harmless.
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Create refuses a taken address and an invalid profile, writing nothing.
func TestCreate(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	ann := create(t, s, SignUp{Email: "Ann@Example.com", DisplayName: " Ann ", Timezone: "UTC"})
	if ann.Email != "ann@example.com" || ann.DisplayName != "Ann" || len(ann.Roles) != 1 || ann.Roles[0] != RoleCustomer || !ann.Unannounced {
		t.Fatalf("created %+v", ann)
	}
	if _, err := s.Create(ctx, SignUp{Email: "ann@example.com", DisplayName: "Other", Timezone: "UTC"}, nil); !errors.Is(err, ErrEmailTaken) {
		t.Fatalf("a taken address: %v", err)
	}
	if _, err := s.Create(ctx, SignUp{Email: "bob@example.com", DisplayName: "Bob", Timezone: "Local"}, nil); err == nil {
		t.Fatal("a bad timezone was stored")
	}
	if n := testkit.Must(s.Count(ctx))(t); n != 1 {
		t.Fatalf("%d members, want 1", n)
	}
}

func TestNormalizeEmail(t *testing.T) {
	if e, err := NormalizeEmail("  Ann.Lee@Example.COM "); err != nil || e != "ann.lee@example.com" {
		t.Fatalf("got %q %v", e, err)
	}
	for _, bad := range []string{"", "ann", "ann@", "@example.com", "Ann <ann@example.com>", "ann@localhost", strings.Repeat("a", 250) + "@x.com"} {
		if _, err := NormalizeEmail(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestProfileValidation(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	ok := SignUp{Email: "a@example.com", Password: "correct horse", DisplayName: " Ann ", Timezone: "America/New_York"}
	if err := ok.ValidateProfile(now); err != nil || ok.DisplayName != "Ann" {
		t.Fatalf("valid sign-up refused: %v", err)
	}
	cases := map[string]func(*SignUp){
		"displayName": func(s *SignUp) { s.DisplayName = strings.Repeat("ñ", MaxDisplayName+1) },
		"timezone":    func(s *SignUp) { s.Timezone = "Local" },
		"avatarUrl":   func(s *SignUp) { s.AvatarURL = "ftp://x/y.png" },
		"birthday":    func(s *SignUp) { s.Birthday = &Date{Year: 2027, Month: 1, Day: 1} },
	}
	for field, spoil := range cases {
		s := SignUp{Email: "a@example.com", Password: "correct horse", DisplayName: "Ann", Timezone: "UTC"}
		spoil(&s)
		err := s.ValidateProfile(now)
		if in, ok := input.As(err); !ok || in.Field != field {
			t.Errorf("spoiled %s: got %v", field, err)
		}
	}
	if err := validBirthday(&Date{Year: 2001, Month: 2, Day: 29}, now); err == nil {
		t.Error("29 February 2001 accepted")
	}
}

// A profile change sets what is given, clears an avatar set to "", refuses
// bad fields without writing, and the birthday index finds the member.
func TestUpdateProfileAndBirthdays(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	ann := create(t, s, SignUp{Email: "ann@example.com", DisplayName: "Ann", Timezone: "UTC", AvatarURL: "https://cdn.example.com/a.png"})
	bob := create(t, s, SignUp{Email: "bob@example.com", DisplayName: "Bob", Timezone: "UTC"})
	name, tz, empty, yes := " Annie ", "Europe/Paris", "", true
	m, err := s.UpdateProfile(ctx, ann.ID, ProfileChange{DisplayName: &name, Timezone: &tz, AvatarURL: &empty, Birthday: &Date{Year: 1990, Month: 3, Day: 14}, MarketingConsent: &yes})
	if err != nil || m.DisplayName != "Annie" || m.Timezone != tz || m.AvatarURL != "" || m.Birthday == nil || !m.MarketingConsent {
		t.Fatalf("after the change: %+v %v", m, err)
	}
	if m.Location().String() != tz {
		t.Fatalf("location %s", m.Location())
	}
	bad, badURL := "Mars/Olympus", "javascript:alert(1)"
	for field, c := range map[string]ProfileChange{
		"timezone":  {Timezone: &bad},
		"avatarUrl": {AvatarURL: &badURL},
		"birthday":  {Birthday: &Date{Year: 2990, Month: 1, Day: 1}},
	} {
		if _, err := s.UpdateProfile(ctx, ann.ID, c); err == nil {
			t.Errorf("%s: accepted", field)
		} else if e, ok := input.As(err); !ok || e.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	if _, err := s.UpdateProfile(ctx, bson.NewObjectID(), ProfileChange{Timezone: &tz}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("change of nobody: %v", err)
	}
	got := testkit.Must(s.Get(ctx, ann.ID))(t)
	if got.Timezone != tz || got.DisplayName != "Annie" {
		t.Fatalf("a refused change wrote: %+v", got)
	}
	ms := testkit.Must(s.GetMany(ctx, []bson.ObjectID{bob.ID, bson.NewObjectID(), ann.ID}))(t)
	if len(ms) != 3 || ms[0].Email != "bob@example.com" || ms[1] != nil || ms[2].Email != "ann@example.com" {
		t.Fatalf("get many: %+v", ms)
	}
	born := testkit.Must(s.WithBirthday(ctx, 3, 14, bson.ObjectID{}, 10))(t)
	if len(born) != 1 || born[0].ID != ann.ID {
		t.Fatalf("born on 14 March: %+v", born)
	}
	if none := testkit.Must(s.WithBirthday(ctx, 3, 14, ann.ID, 10))(t); len(none) != 0 {
		t.Fatalf("after ann: %+v", none)
	}
}

func TestByEmailAndCount(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if n, err := s.Count(ctx); err != nil || n != 0 {
		t.Fatalf("count of a new database: %d %v", n, err)
	}
	ann := create(t, s, SignUp{Email: "ann@example.com", DisplayName: "Ann", Timezone: "UTC"})
	m, err := s.ByEmail(ctx, "  ANN@example.com ")
	if err != nil || m.ID != ann.ID {
		t.Fatalf("ByEmail: %+v %v", m, err)
	}
	if _, err := s.ByEmail(ctx, "bob@example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ByEmail of nobody: %v", err)
	}
	if n, err := s.Count(ctx); err != nil || n != 1 {
		t.Fatalf("count after one sign-up: %d %v", n, err)
	}
}

// Rows stored before the canonical form are rewritten into it; a row whose
// canonical form another member holds is reported and left alone.
func TestCanonicalizeEmails(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	taken := create(t, s, SignUp{Email: "jos\u00e9@example.com", DisplayName: "José", Timezone: "UTC"})
	rows := map[string]bson.ObjectID{}
	for _, e := range []string{"jose\u0301@example.com", "ann@b\u00fccher.de", "plain@example.com", "not an address"} {
		id := bson.NewObjectID()
		rows[e] = id
		if _, err := s.members.c.InsertOne(ctx, Member{ID: id, Email: e, Roles: []Role{RoleCustomer}}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // a second run finds nothing more to do
		r, err := s.CanonicalizeEmails(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Checked != 5 || len(r.Conflicts) != 1 || r.Conflicts[0] != rows["jose\u0301@example.com"] || len(r.Unparseable) != 1 {
			t.Fatalf("report %+v", r)
		}
	}
	m, err := s.members.byID(ctx, rows["ann@b\u00fccher.de"])
	if err != nil || m.Email != "ann@xn--bcher-kva.de" {
		t.Fatalf("IDN row: %+v %v", m, err)
	}
	if m, err := s.members.byID(ctx, taken.ID); err != nil || m.Email != "jos\u00e9@example.com" {
		t.Fatalf("the member holding the canonical address changed: %+v %v", m, err)
	}
}
