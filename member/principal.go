package member

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Principal is whoever makes a call: a signed-in member, the brand's own
// backend (Service), or nobody.
type Principal struct {
	MemberID bson.ObjectID
	Roles    []Role
	Service  bool
	// Session is the log-in the access token belongs to (zero for tokens
	// minted without one, and for the brand's backend).
	Session bson.ObjectID
	// Expires is when the access token stops being accepted; zero for the
	// brand's backend.
	Expires time.Time
}

// Authenticated reports whether the caller proved who they are.
func (p Principal) Authenticated() bool { return p.Service || !p.MemberID.IsZero() }

// Has reports whether the caller holds role. The brand's backend may do all a
// BRAND user may.
func (p Principal) Has(role Role) bool {
	if p.Service && role == RoleBrand {
		return true
	}
	return slices.Contains(p.Roles, role)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller carried by ctx, or the zero (anonymous) one.
func PrincipalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}
