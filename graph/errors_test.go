package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regulars/regulars/graph/request"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
)

// TestEveryDomainErrorHasACode walks the source of every package and fails
// on an exported error variable (Err…) that is not declared with
// fault.New and a code other than Internal: such an error would reach
// clients as INTERNAL.
func TestEveryDomainErrorHasACode(t *testing.T) {
	fset := token.NewFileSet()
	seen := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != ".." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "data" || name == "node_modules") {
				return filepath.SkipDir
			}
			if path == filepath.Join("..", "loadtest") {
				return filepath.SkipDir // a client of the API: its errors never reach one
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name == "fault" {
			return nil
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !name.IsExported() || !strings.HasPrefix(name.Name, "Err") {
						continue
					}
					seen++
					where := fmt.Sprintf("%s: %s.%s", fset.Position(name.Pos()), f.Name.Name, name.Name)
					if i >= len(vs.Values) {
						t.Errorf("%s has no initializer with a code", where)
						continue
					}
					if code, ok := faultCode(vs.Values[i]); !ok {
						t.Errorf("%s is not declared with fault.New(fault.<Code>, …): it would surface as INTERNAL", where)
					} else if code == "Internal" {
						t.Errorf("%s has code Internal", where)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 20 {
		t.Fatalf("found only %d exported errors: is the walk looking at the right tree?", seen)
	}
}

// faultCode returns X of an expression fault.New(fault.X, …).
func faultCode(e ast.Expr) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 2 {
		return "", false
	}
	fn, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || fn.Sel.Name != "New" || !isIdent(fn.X, "fault") {
		return "", false
	}
	code, ok := call.Args[0].(*ast.SelectorExpr)
	if !ok || !isIdent(code.X, "fault") {
		return "", false
	}
	return code.Sel.Name, true
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// TestEveryCodeHasATransportCode: each fault code maps to a code clients
// know, and only Internal to INTERNAL.
func TestEveryCodeHasATransportCode(t *testing.T) {
	for _, c := range fault.Codes {
		got, ok := transportCodes[c]
		switch {
		case !ok:
			t.Errorf("fault.%s has no extensions.code", c)
		case (got == CodeInternal) != (c == fault.Internal):
			t.Errorf("fault.%s maps to %s", c, got)
		}
	}
}

// TestDomainErrorCodes checks the codes of domain errors as the resolvers
// return them: wrapped, and named by a field.
func TestDomainErrorCodes(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("redeem: %w", reward.ErrOutOfStock), CodeConflict},
		{reward.ErrRewardNotFound, CodeNotFound},
		{reward.ErrTierTooLow, CodeForbidden},
		{input.Wrap("idempotencyKey", fmt.Errorf("%w: a freeze costs 5", ledger.ErrInsufficientPoints)), CodeBadUserInput},
		{input.Wrap("memberId", member.ErrNotFound), CodeNotFound},
		{auth.ErrBadCredentials, CodeUnauthenticated},
		{inbox.ErrNotFound, CodeNotFound},
		{member.ErrNoProfile, CodeForbidden},
		{member.ErrNotYours, CodeForbidden},
	} {
		if got := CodeOf(c.err); got != c.want {
			t.Errorf("%v: %s, want %s", c.err, got, c.want)
		}
	}
}

// An internal error, and a resolver's panic, are logged with the request id
// and the client address, as the README says logs are.
func TestInternalErrorsLogClientAddress(t *testing.T) {
	var logged bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	ctx := request.WithClientIP(request.WithID(context.Background(), "req-1"), "203.0.113.7")
	if e := presentError(ctx, errInternalForTest); e.Extensions["code"] != CodeInternal || e.Extensions["requestId"] != "req-1" {
		t.Fatalf("presented %+v", e)
	}
	if err := recoverPanic(ctx, "boom"); err == nil {
		t.Fatal("a panic recovered as no error")
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 log lines, got %q", logged.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "requestId=req-1") || !strings.Contains(l, "clientIp=203.0.113.7") {
			t.Errorf("log line without request id or client address: %s", l)
		}
	}
}

// A database that does not answer in time is UNAVAILABLE even when a
// domain wrapped its error as being about a field (an id it was looking
// up), and the client is told neither the field nor the driver's words.
func TestUnreachableDatabaseBehindAFieldIsUnavailable(t *testing.T) {
	err := input.Wrap("id", fmt.Errorf("timed out while checking out a connection from connection pool: %w", context.DeadlineExceeded))
	if got := CodeOf(err); got != CodeUnavailable {
		t.Fatalf("code %s, want %s", got, CodeUnavailable)
	}
	e := presentError(context.Background(), err)
	if e.Extensions["field"] != nil || strings.Contains(e.Message, "connection pool") {
		t.Fatalf("presented as %q %v", e.Message, e.Extensions)
	}
}

func TestCodeOf(t *testing.T) {
	if c := CodeOf(input.Errorf("email", "bad")); c != CodeBadUserInput {
		t.Errorf("input error: %s", c)
	}
	if c := CodeOf(ErrUnauthenticated); c != CodeUnauthenticated {
		t.Errorf("unauthenticated: %s", c)
	}
	if c := CodeOf(errInternalForTest); c != CodeInternal {
		t.Errorf("unknown error: %s", c)
	}
}

var errInternalForTest = errors.New("disk on fire")
