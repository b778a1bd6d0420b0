package graph

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
	for _, err := range []error{errTooManyTokens, errTooManyDirectives, errTooManySpreads, errTooDeeplyNested, errTooManyErrors, errValidationBudget} {
		if c := CodeOf(limitError(err, "X", "m")); c != CodeQueryLimit {
			t.Errorf("%v: code %s", err, c)
		}
	}
}

func newGuard(lim DocumentLimits) *documentGuard {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	return &documentGuard{schema: schema, cache: lru.New[*ast.QueryDocument](10), lim: lim.orDefault()}
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
		errs := g.check(context.Background(), q)
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
	if errs := g.check(context.Background(), q); errs != nil {
		t.Fatal(errs)
	}
	if _, ok := g.cache.Get(context.Background(), q); !ok {
		t.Fatal("not cached")
	}
	// Even a zero budget now lets it through: nothing is redone.
	g.lim.Budget = time.Nanosecond
	if errs := g.check(context.Background(), q); errs != nil {
		t.Fatal(errs)
	}
	if errs := g.check(context.Background(), "{ __typename "+strings.Repeat(" ", 10)+"}"); len(errs) == 0 || !errors.Is(errs[0], errValidationBudget) {
		t.Fatalf("a new document under a 1ns budget: %v", errs)
	}
}
