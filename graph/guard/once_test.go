package guard

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// operation parses query against schema as the executor would have it.
// Validation errors (arguments left out) are ignored: the walk still binds
// every field to its definition, which is all the rule reads.
func operation(t *testing.T, s *ast.Schema, query string) *graphql.OperationContext {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatal(err)
	}
	// The documents leave out arguments and selections the rule never
	// reads: validation complains, but it has resolved every field to its
	// definition, which is all it is run for here.
	if errs := validator.Validate(s, doc); len(errs) > 0 {
		t.Logf("%s: %d validation complaints, as expected", query, len(errs))
	}
	return &graphql.OperationContext{RawQuery: query, Doc: doc, Operation: doc.Operations[0]}
}

// Every mutation is classified; each once-only one is refused when it
// appears twice (by alias, by fragment), naming the field, and the
// repeatable ones are let through.
func TestSensitiveMutationsOncePerRequest(t *testing.T) {
	if err := checkClassified(schema); err != nil {
		t.Fatal(err)
	}
	once := 0
	for _, f := range schema.Mutation.Fields {
		why := mutations[f.Name]
		for name, q := range map[string]string{
			"aliases":   fmt.Sprintf("mutation { a: %s b: %s }", f.Name, f.Name),
			"fragments": fmt.Sprintf("mutation { a: %s ...F } fragment F on Mutation { b: %s }", f.Name, f.Name),
		} {
			err := OncePerRequest{}.MutateOperationContext(context.Background(), operation(t, schema, q))
			switch {
			case why == repeatable && err != nil:
				t.Errorf("%s twice (%s): refused (%v), but it is repeatable", f.Name, name, err)
			case why != repeatable && (err == nil || err.Extensions["field"] != f.Name || err.Extensions["code"] != CodeQueryLimit):
				t.Errorf("%s twice (%s): %v, want refused naming the field", f.Name, name, err)
			}
		}
		if why != repeatable {
			once++
			if err := (OncePerRequest{}).MutateOperationContext(context.Background(), operation(t, schema, "mutation { "+f.Name+" }")); err != nil {
				t.Errorf("%s once: %v", f.Name, err)
			}
		}
	}
	for _, name := range []string{"logIn", "signUp", "refreshToken", "redeemReward", "claimOffer", "buyStreakFreeze", "adjustPoints", "sendNotification"} {
		if mutations[name] == repeatable {
			t.Errorf("%s is repeatable; issue 13 wants it once per request", name)
		}
	}
	if once < 10 {
		t.Fatalf("%d once-only mutations", once)
	}
}

// The example: 200 aliased logIn in one request, refused with one error.
func TestTwoHundredLogInsAreOneRefusal(t *testing.T) {
	var b strings.Builder
	b.WriteString("mutation {")
	for i := range 200 {
		fmt.Fprintf(&b, ` a%d: logIn(input: {email: "ann@example.com", password: "guess %d"}) { accessToken }`, i, i)
	}
	b.WriteString(" }")
	err := OncePerRequest{}.MutateOperationContext(context.Background(), operation(t, schema, b.String()))
	if err == nil || err.Extensions["field"] != "logIn" || !strings.Contains(err.Message, "200 times") {
		t.Fatalf("%v, want one refusal naming logIn", err)
	}
}

// A mutation added to the schema without a class stops the executor from
// starting, and is refused if repeated.
func TestNewMutationMustBeClassified(t *testing.T) {
	s := gqlparser.MustLoadSchema(append(schemaSources(), &ast.Source{Name: "extra", Input: "extend type Mutation { payOut(amount: Int!): Int! @auth }"})...)
	if err := checkClassified(s); err == nil || !strings.Contains(err.Error(), "payOut") {
		t.Fatalf("%v, want payOut named as unclassified", err)
	}
	if err := (OncePerRequest{}).MutateOperationContext(context.Background(), operation(t, s, "mutation { a: payOut(amount: 1) b: payOut(amount: 2) }")); err == nil {
		t.Fatal("an unclassified mutation repeated was let through")
	}
	// The same field under one alias is executed once (GraphQL merges it).
	if err := (OncePerRequest{}).MutateOperationContext(context.Background(), operation(t, schema, `mutation { logIn(input: {email: "a", password: "b"}) { accessToken } logIn(input: {email: "a", password: "b"}) { refreshToken } }`)); err != nil {
		t.Fatalf("one field selected twice under one name: %v", err)
	}
}
