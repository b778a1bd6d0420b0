package graph

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// An internal error, and a resolver's panic, are logged with the request id
// and the client address, as the README says logs are.
func TestInternalErrorsLogClientAddress(t *testing.T) {
	var logged bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	ctx := WithClientIP(WithRequestID(context.Background(), "req-1"), "203.0.113.7")
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
