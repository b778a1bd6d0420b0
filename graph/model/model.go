// Package model holds the GraphQL schema's own types: those gqlgen
// generates (models_gen.go: connections, edges, inputs) and the few written
// here. Domain types are bound as they are (gqlgen.yml's autobind), not
// copied into this package.
package model

import "github.com/regulars/regulars/member"

// Node is any object with a global id: the domain types, bound as they are.
type Node interface{}

// PublicMember is what others may see of a member (leaderboards). It has its
// own Go type, and its own ids, so that node(id:) tells it apart from Member.
type PublicMember struct{ *member.Member }

// Analytics is the brand's analytics root: its fields resolve through the
// analytics service.
type Analytics struct{}

// Deref is the value p points to, or T's zero value for an argument the
// client left out (nil).
func Deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Optional is s as a nullable field: nil when empty.
func Optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
