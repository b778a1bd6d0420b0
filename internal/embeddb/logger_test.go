package embeddb

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// FerretDB's records reach the log only at error level, with the
// attributes and groups its logger was given, applied when a record is
// written.
func TestErrorsOnlyWritesErrorsWithTheirAttributes(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(errorsOnly{Handler: slog.NewTextHandler(&buf, nil)}).With("sql", "INSERT 1").WithGroup("tx").With("n", 2)
	log.Info("statement")
	log.Warn("slow")
	if buf.Len() != 0 {
		t.Fatalf("below error level, wrote %q", buf.String())
	}
	log.Error("failed", "err", "disk full")
	got := buf.String()
	for _, want := range []string{"level=ERROR", "msg=failed", `sql="INSERT 1"`, "tx.n=2", `tx.err="disk full"`} {
		if !strings.Contains(got, want) {
			t.Errorf("wrote %q, want %s in it", got, want)
		}
	}
}
