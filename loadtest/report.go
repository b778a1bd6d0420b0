package loadtest

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Write prints r as the README shows it: one line per operation, then the
// subscriptions, the offer and the verdict.
func (r *Report) Write(out io.Writer) error {
	w := &errWriter{w: out}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// ok/s: successful answers per second (an answer with a GraphQL
	// error is a failure, in the errors column, though it is HTTP 200).
	_, _ = fmt.Fprintf(tw, "operation\trequests\tok/s\tp50\tp95\tp99\tmax\terrors\t\n")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
	for _, o := range r.Ops {
		_, _ = fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", o.Name, o.Requests, perSecond(o.OKPerSecond), ms(o.P50), ms(o.P95), ms(o.P99), ms(o.Max), codes(o.Errors))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := r.Sockets
	_, _ = fmt.Fprintf(w, "\nsubscriptions: %d open, %d reopened, %d dropped, %d notifications received\n", s.Opened, s.Reopened, s.Dropped, s.Notifications)
	if o := r.Offer; o != nil {
		if o.Error != "" {
			_, _ = fmt.Fprintf(w, "offer: %s\n", o.Error)
		} else {
			_, _ = fmt.Fprintf(w, "offer to %d members: published in %s; %d subscribers received it (%d twice), p50 %s, p99 %s, last %s\n",
				o.Members, o.Published.Round(time.Millisecond), o.Received, o.Duplicates, ms(o.P50), ms(o.P99), ms(o.Last))
		}
	}
	for i, smp := range r.Server {
		if i == 0 {
			_, _ = fmt.Fprintln(w, "\nserver (at, goroutines, resident memory, open sockets):")
		}
		_, _ = fmt.Fprintf(w, "  %s\t%d\t%.1f MB\t%d\n", smp.At, smp.Goroutines, smp.ResidentMB, smp.Sockets)
	}
	switch {
	case r.Interrupted:
		when := fmt.Sprintf("%s into the %s mix", r.InterruptedAt.Round(time.Second), r.Duration)
		if r.InterruptedAt >= r.Duration {
			when = fmt.Sprintf("after the %s mix, during the drain", r.Duration)
		}
		_, _ = fmt.Fprintf(w, "\nINTERRUPTED %s: the figures cover what was answered until then\n", when)
		if len(r.Failures) > 0 {
			_, _ = fmt.Fprintf(w, "FAIL so far:\n  %s\n", strings.Join(r.Failures, "\n  "))
		}
	case len(r.Failures) == 0:
		_, _ = fmt.Fprintln(w, "\nPASS: every threshold held")
	default:
		_, _ = fmt.Fprintf(w, "\nFAIL:\n  %s\n", strings.Join(r.Failures, "\n  "))
	}
	return w.err
}

// errWriter keeps the first write error, and writes nothing after it, so
// the report's many prints (their own results ignored) are checked once,
// by Write's return.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// codes prints errors by code, most frequent first.
func codes(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, m[k])
	}
	return strings.Join(parts, ",")
}

// perSecond prints a rate with the digits that matter: 52, 11.1, 0.017
// (a rate of 0.02/s printed as 0.0 would read as nothing answered).
func perSecond(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
