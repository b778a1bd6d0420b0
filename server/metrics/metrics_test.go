package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Operation names come from clients: past the cap, or not GraphQL names,
// they count as "(other)", so no client can grow the figures without limit.
func TestOperationNamesAreBounded(t *testing.T) {
	m := New()
	for i := range maxOperationNames + 50 {
		m.Observe("http", fmt.Sprintf("op%d", i), time.Now(), nil)
	}
	m.Observe("ws", "not a name!", time.Now(), &graphql.Response{Errors: gqlerror.List{{Message: "x", Extensions: map[string]any{"code": "BAD_USER_INPUT"}}}})
	m.Observe("http", "", time.Now(), nil)
	m.SocketsOpen(2)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	text := string(body)
	for _, want := range []string{
		`regulars_graphql_operations_total{operation="op0",transport="http"} 1`,
		`regulars_graphql_operations_total{operation="(other)",transport="http"} 50`,
		`regulars_graphql_operations_total{operation="(other)",transport="ws"} 1`,
		`regulars_graphql_operations_total{operation="(anonymous)",transport="http"} 1`,
		`regulars_graphql_errors_total{code="BAD_USER_INPUT"} 1`,
		`regulars_websockets_open 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, fmt.Sprintf(`operation="op%d"`, maxOperationNames)) {
		t.Errorf("operation name past the cap of %d has its own label", maxOperationNames)
	}
}
