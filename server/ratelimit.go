package main

import (
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/member"
)

// rootFields counts the fields an operation asks for at its root, through
// fragments: each is an operation of its own to the rate limit, so aliases
// cannot multiply what one request does (the cost rule bounds the rest).
func rootFields(rc *graphql.OperationContext) int {
	return len(graphql.CollectFields(rc, rc.Operation.SelectionSet, nil))
}

// chargeFields takes a signed-in member's tokens for every root field past
// the first (which the request's own token paid for). An operation with
// more root fields than the burst could never run: it is refused with a
// query-limit error saying so, not a wait.
func (m *Main) chargeFields(p member.Principal, rc *graphql.OperationContext) (ok bool, retryAfter time.Duration, err *gqlerror.Error) {
	if p.MemberID.IsZero() {
		return true, 0, nil
	}
	n := rootFields(rc)
	if n > m.memberLimit.Burst() {
		e := gqlErr(fmt.Sprintf("an operation may ask for at most %d fields at its root (RATE_LIMIT_MEMBER_BURST), this one asks for %d", m.memberLimit.Burst(), n), graph.CodeQueryLimit)
		return false, 0, e
	}
	if n > 1 {
		ok, wait := m.memberLimit.AllowN(p.MemberID.Hex(), n-1)
		return ok, wait, nil
	}
	return true, 0, nil
}
