// Package guard bounds what one GraphQL request may make the server do,
// before any resolver runs: the document's size and shape (Documents), its
// nesting (DepthLimit), its cost (Costed: every list costs its size × its
// element, by one rule over the whole schema) and the mutations that may
// appear only once in a request (OncePerRequest).
//
// It knows the schema and gqlgen, nothing of the domain: graph/ wires it
// into the executor; refusals carry their own extensions.code, which
// graph's error presenter passes through.
package guard

// The codes this package's refusals carry in extensions.code (graph/ sends
// the same constants).
const (
	CodeBadUserInput = "BAD_USER_INPUT"
	CodeQueryLimit   = "QUERY_LIMIT_EXCEEDED"
)
