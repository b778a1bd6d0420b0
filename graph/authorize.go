package graph

import (
	"context"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/regulars/regulars/member"
)

// authorizer enforces @public and @auth on every root field before anything
// runs. It is deny by default: a root field that declares neither is refused,
// so a new field cannot ship open by mistake.
type authorizer struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = authorizer{}

func (authorizer) ExtensionName() string                   { return "Authorizer" }
func (authorizer) Validate(graphql.ExecutableSchema) error { return nil }

func (authorizer) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	p := member.PrincipalFrom(ctx)
	root := rootTypeName(rc.Operation.Operation)
	for _, f := range graphql.CollectFields(rc, rc.Operation.SelectionSet, []string{root}) {
		if err := allowed(p, f.Definition); err != nil {
			e := gqlerror.Errorf("%s.%s: %v", root, f.Name, err)
			e.Err = err
			e.Path = ast.Path{ast.PathName(f.Alias)}
			code := CodeOf(err)
			e.Extensions = map[string]any{"code": code}
			return e
		}
	}
	return nil
}

func rootTypeName(op ast.Operation) string {
	switch op {
	case ast.Mutation:
		return "Mutation"
	case ast.Subscription:
		return "Subscription"
	default:
		return "Query"
	}
}

// allowed decides whether p may call the root field def.
func allowed(p member.Principal, def *ast.FieldDefinition) error {
	if def == nil || strings.HasPrefix(def.Name, "__") {
		return nil // introspection, switched on or off on its own
	}
	if def.Directives.ForName("public") != nil {
		return nil
	}
	auth := def.Directives.ForName("auth")
	if auth == nil {
		return ErrForbidden
	}
	if !p.Authenticated() {
		return ErrUnauthenticated
	}
	roles := requiredRoles(auth)
	if len(roles) == 0 || slices.ContainsFunc(roles, p.Has) {
		return nil
	}
	return ErrForbidden
}

func requiredRoles(auth *ast.Directive) []member.Role {
	arg := auth.Arguments.ForName("roles")
	if arg == nil || arg.Value == nil {
		return nil
	}
	var roles []member.Role
	for _, c := range arg.Value.Children {
		roles = append(roles, member.Role(c.Value.Raw))
	}
	return roles
}
