package guard

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestDocumentLimitErrorsAreCoded(t *testing.T) {
	for _, err := range []error{errTooManyTokens, errTooManyDirectives, errTooManySpreads, errTooManyFields, errTooDeeplyNested, errTooManyErrors, errValidationBudget} {
		if c := limitError(err, "X", "m").Extensions["code"]; c != CodeQueryLimit {
			t.Errorf("%v: code %s", err, c)
		}
	}
}

func newGuard(lim DocumentLimits) *Documents {
	return NewDocuments(schema, lru.New[*ast.QueryDocument](10), 10, lim)
}

// Cycles and unknown fragments are left to validation, which names them;
// the spread count neither loops nor overflows on them.
func TestGuardLeavesCyclesToValidation(t *testing.T) {
	g := newGuard(DocumentLimits{})
	for _, q := range []string{
		"query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
		"query { ...A } fragment A on Query { ...A ...A }",
		"query { ...Missing }",
	} {
		errs := g.Check(context.Background(), q)
		if len(errs) == 0 || errors.Is(errs[0], errTooManySpreads) {
			t.Errorf("%s: %v, want a validation error", q, errs)
		}
	}
}

// A document that passed is cached, so gqlgen neither parses nor validates
// it again, and the guard skips it next time.
func TestGuardCachesValidDocuments(t *testing.T) {
	g := newGuard(DocumentLimits{Budget: time.Second})
	const q = "{ __typename }"
	if errs := g.Check(context.Background(), q); errs != nil {
		t.Fatal(errs)
	}
	if _, ok := g.cache.Get(context.Background(), q); !ok {
		t.Fatal("not cached")
	}
	// Even a zero budget now lets it through: nothing is redone.
	g.lim.Budget = time.Nanosecond
	if errs := g.Check(context.Background(), q); errs != nil {
		t.Fatal(errs)
	}
	if errs := g.Check(context.Background(), bigDocument()); len(errs) == 0 || !errors.Is(errs[0], errValidationBudget) {
		t.Fatalf("a new document of %d tokens under a 1ns budget: %v", budgetMinTokens, errs)
	}
}

// bigDocument has over budgetMinTokens tokens and two fields: only the clock can refuse it.
func bigDocument() string {
	return "{ nodes(ids: [" + strings.Repeat(`"a" `, budgetMinTokens) + "]) { id } }"
}

// The clock never refuses a small document: under load it would measure
// the wait for a CPU, not the document.
func TestBudgetSparesSmallDocuments(t *testing.T) {
	g := newGuard(DocumentLimits{Budget: time.Nanosecond})
	for _, q := range []string{"{ __typename }", "query Q($id: ID!) { node(id: $id) { id } }"} {
		if errs := g.Check(context.Background(), q); len(errs) > 0 {
			t.Errorf("%s under a 1ns budget: %v", q, errs)
		}
	}
	// A refusal by the clock is not kept: the same document passes when there is time.
	q := bigDocument()
	if errs := g.Check(context.Background(), q); len(errs) == 0 || !errors.Is(errs[0], errValidationBudget) {
		t.Fatalf("big document under 1ns: %v", errs)
	}
	g.lim.Budget = time.Hour
	if errs := g.Check(context.Background(), q); len(errs) > 0 {
		t.Fatalf("the refusal by the clock was kept: %v", errs)
	}
}

// Field selections are bounded as OverlappingFieldsCanBeMerged sees them:
// per operation and per fragment definition, fragments expanded.
func TestGuardBoundsFields(t *testing.T) {
	g := newGuard(DocumentLimits{Fields: 10, Budget: time.Hour})
	rep := func(s string, n int) string { return strings.Repeat(" "+s, n) }
	for name, q := range map[string]string{
		"repeated fields":                "{" + rep("__typename", 11) + " }",
		"repeated sub-fields":            "{ me {" + rep("id", 10) + " } }",
		"two fragments":                  "{ ...A ...B } fragment A on Query {" + rep("__typename", 6) + " } fragment B on Query {" + rep("__typename", 6) + " }",
		"one fragment spread twice":      "{ ...A ...A ...A } fragment A on Query {" + rep("__typename", 4) + " }",
		"an unused fragment":             "{ __typename } fragment A on Query {" + rep("__typename", 11) + " }",
		"inline fragments and aliases":   "{" + rep("... on Query { a: __typename b: __typename }", 6) + " }",
		"nested repeats (fields×parent)": "{" + rep("me { id id }", 4) + " }",
	} {
		errs := g.Check(context.Background(), q)
		if len(errs) != 1 || !errors.Is(errs[0], errTooManyFields) || errs[0].Extensions["limit"] != "QUERY_MAX_FIELDS" {
			t.Errorf("%s: %v, want QUERY_MAX_FIELDS", name, errs)
		}
	}
	for name, q := range map[string]string{
		"ten fields":               "{" + rep("__typename", 10) + " }",
		"fragment of ten, once":    "{ ...A } fragment A on Query {" + rep("__typename", 10) + " }",
		"fields of two operations": "query A {" + rep("__typename", 10) + " } query B {" + rep("__typename", 10) + " }",
	} {
		if errs := g.Check(context.Background(), q); len(errs) > 0 {
			t.Errorf("%s: %v, want it let through", name, errs)
		}
	}
}

// A refusal is kept by the document's hash: asking again costs a look-up,
// and each caller gets its own copy of the errors.
func TestGuardCachesRefusals(t *testing.T) {
	g := newGuard(DocumentLimits{Errors: 2, Budget: time.Hour})
	const q = "{ a b c }"
	first := g.Check(context.Background(), q)
	if len(first) == 0 || !errors.Is(first[len(first)-1], errTooManyErrors) {
		t.Fatalf("first: %v", first)
	}
	first[0].Message = "changed by a presenter"
	first[0].Extensions["code"] = "CHANGED"
	// Validation would now pass the error bound; the kept refusal answers.
	g.lim.Errors = 100
	again := g.Check(context.Background(), q)
	if len(again) != len(first) || !errors.Is(again[len(again)-1], errTooManyErrors) {
		t.Fatalf("again: %v, want the kept refusal", again)
	}
	if again[0].Message == "changed by a presenter" || again[0].Extensions["code"] == "CHANGED" {
		t.Fatalf("the kept refusal was changed through an earlier answer: %+v", again[0])
	}
}

// BenchmarkFieldBoundWorst checks, as new documents, the worst of each
// repeated-field family that QUERY_MAX_FIELDS (default 500) lets through:
// OverlappingFieldsCanBeMerged compares them pairwise. See BENCHMARKS.md.
func BenchmarkFieldBoundWorst(b *testing.B) {
	rep := func(s string, n int) string { return strings.Repeat(" "+s, n) }
	for _, c := range []struct{ name, query string }{
		{"500 __typename", "{" + rep("__typename", 500) + " }"},
		{"me with 499 id", "{ me {" + rep("id", 499) + " } }"},
		{"two fragments of 250", "{ ...A ...B } fragment A on Query {" + rep("__typename", 250) + " } fragment B on Query {" + rep("__typename", 250) + " }"},
		{"22 me of 21 id", "{" + rep("me {"+rep("id", 21)+" }", 22) + " }"},
	} {
		b.Run(strings.ReplaceAll(c.name, " ", "_"), func(b *testing.B) {
			g := newGuard(DocumentLimits{Budget: time.Hour})
			for b.Loop() {
				g.cache = lru.New[*ast.QueryDocument](10) // new every time
				if errs := g.Check(context.Background(), c.query); len(errs) > 0 {
					b.Fatal(errs)
				}
			}
		})
	}
}

// A bomb is named by its bound even when the clock has run out (a loaded
// machine), so its refusal does not depend on the load and is kept.
func TestShapeBoundsBeforeTheClock(t *testing.T) {
	g := newGuard(DocumentLimits{Budget: time.Nanosecond})
	q := "{" + strings.Repeat(" __typename", 4998) + " }"
	for range 2 {
		errs := g.Check(context.Background(), q)
		if len(errs) != 1 || !errors.Is(errs[0], errTooManyFields) {
			t.Fatalf("%v, want QUERY_MAX_FIELDS", errs)
		}
	}
}
