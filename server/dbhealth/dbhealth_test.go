package dbhealth

import (
	"errors"
	"strings"
	"testing"
)

func TestDatabaseHealthRedactsThePassword(t *testing.T) {
	h := New("mongodb://app:s3cr%2Ft@db.example:27017/?authSource=admin")
	if got := h.Redact("auth failed for app:s3cr/t and s3cr%2Ft"); strings.Contains(got, "s3cr") {
		t.Errorf("redact: %q", got)
	}
	h.Failed(errors.New("auth failed for app:s3cr%2Ft"))
	if got := h.Explain(errors.New("not connected yet")); strings.Contains(got, "s3cr") || !strings.Contains(got, "(no server found yet)") {
		t.Errorf("explain: %q", got)
	}
}
