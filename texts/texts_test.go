package texts

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/rivo/uniseg"
)

// Every shipped locale has every template, and uses only its placeholders.
func TestBuiltinSetsAreComplete(t *testing.T) {
	for _, loc := range Locales {
		for _, n := range Names {
			tpl, ok := builtin[loc][n]
			if !ok {
				t.Errorf("%s has no %s template", loc, n)
				continue
			}
			if err := validate(loc, n, &tpl); err != nil {
				t.Errorf("%s %s: %v", loc, n, err)
			}
		}
		if len(builtin[loc]) != len(Names) {
			t.Errorf("%s has %d templates, want %d", loc, len(builtin[loc]), len(Names))
		}
	}
	for n := range Placeholders {
		if !slices.Contains(Names, n) {
			t.Errorf("%s is not in Names", n)
		}
	}
}

func TestRenderPerLocale(t *testing.T) {
	ctx := context.Background()
	b := Builtin()
	data := map[string]any{"points": int64(120), "reason": "Purchase", "balance": int64(300)}
	title, body, err := b.Render(ctx, "ru", PointsEarned, data)
	if err != nil || title != "Вам начислено баллов: 120" || body != "Ваш баланс: 300." {
		t.Fatalf("ru: %q %q %v", title, body, err)
	}
	title, body = render(t, b, "en", PointsEarned, data)
	if title != "You earned 120 points" || body != "Purchase" {
		t.Fatalf("en: %q %q", title, body)
	}
	// An unknown locale falls back to English.
	if title, _ := render(t, b, "xx", PointsEarned, data); title != "You earned 120 points" {
		t.Fatalf("fallback: %q", title)
	}
	at := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	if _, body := render(t, b, "ru", PointsExpiring, map[string]any{"points": 5, "date": at}); body != "Они сгорят 8 марта. Обменяйте их на награду." {
		t.Fatalf("ru date: %q", body)
	}
	if _, body := render(t, b, "en", PointsExpiring, map[string]any{"points": 5, "date": at}); body != "They expire on 8 March. Spend them on a reward." {
		t.Fatalf("en date: %q", body)
	}
}

func TestOverride(t *testing.T) {
	ctx := context.Background()
	tm := New(testkit.Database(t))
	if _, err := tm.Set(ctx, "en", PointsEarned, Template{Title: "+{points} for you", Body: "Now {balance} in total."}); err != nil {
		t.Fatal(err)
	}
	title, body, err := tm.Render(ctx, "en", PointsEarned, map[string]any{"points": 7, "balance": 10})
	if err != nil || title != "+7 for you" || body != "Now 10 in total." {
		t.Fatalf("override not used: %q %q %v", title, body, err)
	}
	// Russian is untouched.
	if title, _ := render(t, tm, "ru", PointsEarned, map[string]any{"points": 7}); title != "Вам начислено баллов: 7" {
		t.Fatalf("ru changed: %q", title)
	}
	// Another instance (a fresh cache) reads the override from the database.
	if title, _ := render(t, New(tm.c.Database()), "en", PointsEarned, map[string]any{"points": 7}); title != "+7 for you" {
		t.Fatalf("other instance: %q", title)
	}
	list, err := tm.List(ctx, "en")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		if x.Overridden != (x.Name == PointsEarned) {
			t.Errorf("%s overridden=%v", x.Name, x.Overridden)
		}
	}
	if _, err := tm.Reset(ctx, "en", PointsEarned); err != nil {
		t.Fatal(err)
	}
	if title, _ := render(t, tm, "en", PointsEarned, map[string]any{"points": 7}); title != "You earned 7 points" {
		t.Fatalf("after reset: %q", title)
	}
}

func TestOverrideRefusesBadTemplates(t *testing.T) {
	ctx := context.Background()
	tm := New(testkit.Database(t))
	for _, c := range []struct {
		locale string
		name   Name
		tpl    Template
		field  string
	}{
		{"en", PointsEarned, Template{Title: "You earned {pionts}", Body: "ok"}, "title"},
		{"en", PointsEarned, Template{Title: "ok", Body: "{code}"}, "body"},
		{"en", PointsEarned, Template{Title: "T {points", Body: "ok"}, "title"},
		{"en", PointsEarned, Template{Title: "ok", Body: "Balance} {balance}"}, "body"},
		{"en", WinBack, Template{Title: "", Body: "b"}, "title"},
		{"de", PointsEarned, Template{Title: "t", Body: "b"}, "locale"},
		{"en", "NOPE", Template{Title: "t", Body: "b"}, "name"},
	} {
		_, err := tm.Set(ctx, c.locale, c.name, c.tpl)
		in, ok := input.As(err)
		if !ok || in.Field != c.field {
			t.Errorf("%s %s %+v: %v, want an input error on %s", c.locale, c.name, c.tpl, err, c.field)
		}
	}
	// Nothing was written.
	if n := testkit.Count(t, tm.c, bson.D{}); n != 0 {
		t.Fatalf("%d overrides stored", n)
	}
}

// render renders a template, failing the test on an error.
func render(t *testing.T, tm *Templates, locale string, name Name, data map[string]any) (title, body string) {
	t.Helper()
	title, body, err := tm.Render(context.Background(), locale, name, data)
	if err != nil {
		t.Fatalf("render %s %s: %v", locale, name, err)
	}
	return title, body
}

// Rendered text always fits a notification, whatever the data: a title is
// one line of at most MaxTitle characters, a body at most MaxBody, cut
// with "…" (a notification is sent after its cause is written; it must
// not fail then).
func TestRenderFitsANotification(t *testing.T) {
	ctx := context.Background()
	tm := New(testkit.Database(t))
	testkit.Must(tm.Set(ctx, "en", PointsReceived, Template{Title: "Gift: {reason}", Body: "{reason} {reason}"}))(t)
	reason := strings.Repeat("ё", 100) + "\nsecond line " + strings.Repeat("👍🏽", 1200)
	title, body, err := tm.Render(ctx, "en", PointsReceived, map[string]any{"reason": reason, "points": 7})
	if err != nil {
		t.Fatal(err)
	}
	if n := uniseg.GraphemeClusterCount(title); n > MaxTitle || !strings.HasSuffix(title, "…") || strings.ContainsAny(title, "\n\t") {
		t.Fatalf("title of %d characters: %q", n, title)
	}
	if _, err := input.Line("title", title, MaxTitle); err != nil {
		t.Fatalf("the rendered title is no valid title: %v", err)
	}
	if n := uniseg.GraphemeClusterCount(body); n > MaxBody || !strings.HasSuffix(body, "…") {
		t.Fatalf("body of %d characters", n)
	}
	if title, _ := render(t, tm, "en", PointsReceived, map[string]any{"reason": "short"}); title != "Gift: short" {
		t.Fatalf("a short title changed: %q", title)
	}
}

// A moment (an event's start) shows at its place's wall clock, in the
// template's language.
func TestRenderMomentPerLocale(t *testing.T) {
	b := Builtin()
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	starts := At(time.Date(2026, 3, 8, 16, 0, 0, 0, time.UTC), moscow) // 19:00 in Moscow, a Sunday
	data := map[string]any{"event": "Tasting", "starts": starts, "place": "Bar"}
	if title, _ := render(t, b, "ru", EventReminder, data); title != "Tasting: начало вс, 8 марта 19:00 MSK" {
		t.Fatalf("ru: %q", title)
	}
	if title, _ := render(t, b, "en", EventReminder, data); title != "Tasting starts Sun 8 March 19:00 MSK" {
		t.Fatalf("en: %q", title)
	}
}
