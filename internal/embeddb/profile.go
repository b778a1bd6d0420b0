package embeddb

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// profileEnv names a file the proxy writes, when the variable is set, the
// time FerretDB took over each kind of command (command, collection and
// the shape of its filter, values left out), most first, every minute and
// at close; commands slower than profileSlow are appended as they happen,
// filter included. A tool for finding what takes the one connection's
// time (BENCHMARKS.md, "Load test"); unset, nothing is timed.
const profileEnv = "EMBEDDB_PROFILE"

const profileSlow = 100 * time.Millisecond

type profileStat struct {
	n     int64
	total time.Duration
	max   time.Duration
}

type profiler struct {
	path    string
	started time.Time
	mu      sync.Mutex
	stats   map[string]*profileStat
	cursors map[int64]string // open cursor → the key of the command that opened it
	slow    *os.File
}

func newProfiler() *profiler {
	path := os.Getenv(profileEnv)
	if path == "" {
		return nil
	}
	slow, err := os.OpenFile(path+".slow", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil
	}
	return &profiler{path: path, started: time.Now(), stats: map[string]*profileStat{}, cursors: map[int64]string{}, slow: slow}
}

// record notes that FerretDB took took over msg, which it answered with reply.
func (pr *profiler) record(msg, reply []byte, took time.Duration) {
	b := body(msg)
	if b == nil {
		return
	}
	first, err := b.IndexErr(0)
	if err != nil {
		return
	}
	name := first.Key()
	var key, detail string
	if name == "getMore" {
		id, _ := first.Value().Int64OK()
		pr.mu.Lock()
		key = pr.cursors[id]
		pr.mu.Unlock()
		if key == "" {
			key = "getMore ?"
		}
		key += " (getMore)"
	} else {
		coll, _ := first.Value().StringValueOK()
		filter := filterOf(msg, b, name)
		key = name + " " + coll + " " + shape(filter)
		if filter != nil {
			detail = filter.String()
		}
	}
	if rp := body(reply); rp != nil {
		if id, ok := rp.Lookup("cursor", "id").Int64OK(); ok && id != 0 {
			pr.mu.Lock()
			if name == "getMore" {
				pr.cursors[id] = strings.TrimSuffix(key, " (getMore)")
			} else {
				pr.cursors[id] = key
			}
			pr.mu.Unlock()
		}
	}
	pr.mu.Lock()
	s := pr.stats[key]
	if s == nil {
		s = &profileStat{}
		pr.stats[key] = s
	}
	s.n++
	s.total += took
	s.max = max(s.max, took)
	pr.mu.Unlock()
	if took >= profileSlow {
		if len(detail) > 400 {
			detail = detail[:400] + "…"
		}
		_, _ = fmt.Fprintf(pr.slow, "%s %6dms %s %s\n", time.Now().UTC().Format("15:04:05"), took.Milliseconds(), key, detail)
	}
}

// write replaces the profile file by the totals so far, most time first.
func (pr *profiler) write() {
	pr.mu.Lock()
	keys := make([]string, 0, len(pr.stats))
	var all time.Duration
	for k, s := range pr.stats {
		keys = append(keys, k)
		all += s.total
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(pr.stats[b].total, pr.stats[a].total) })
	var sb strings.Builder
	elapsed := time.Since(pr.started)
	fmt.Fprintf(&sb, "%s: %s of FerretDB time in %s (%.0f%%)\n%10s %8s %9s %8s  command\n", time.Now().UTC().Format(time.RFC3339),
		all.Round(time.Millisecond), elapsed.Round(time.Second), 100*all.Seconds()/elapsed.Seconds(), "total", "n", "mean", "max")
	for _, k := range keys {
		s := pr.stats[k]
		fmt.Fprintf(&sb, "%9.1fs %8d %7.1fms %6dms  %s\n", s.total.Seconds(), s.n, float64(s.total.Microseconds())/1000/float64(s.n), s.max.Milliseconds(), k)
	}
	pr.mu.Unlock()
	_ = os.WriteFile(pr.path, []byte(sb.String()), 0o600)
}

// filterOf is the filter of a command: find's filter, count's query,
// findAndModify's query, or the first update's or delete's q (in the
// body or in a document sequence).
func filterOf(msg []byte, b bson.Raw, name string) bson.Raw {
	switch name {
	case "find", "count", "delete", "update", "distinct":
	case "findAndModify":
		d, _ := b.Lookup("query").DocumentOK()
		return d
	case "aggregate":
		d, _ := b.Lookup("pipeline", "0").DocumentOK()
		return d
	default:
		return nil
	}
	if d, ok := b.Lookup("filter").DocumentOK(); ok {
		return d
	}
	if d, ok := b.Lookup("query").DocumentOK(); ok {
		return d
	}
	if d, ok := b.Lookup(name+"s", "0", "q").DocumentOK(); ok {
		return d
	}
	// A document sequence (kind 1): size, identifier, documents.
	for s := msg[20:]; len(s) > 5; {
		n := int(binary.LittleEndian.Uint32(s[1:]))
		if n < 5 || n > len(s)-1 {
			return nil
		}
		if s[0] == 1 {
			seq := s[5 : 1+n]
			if i := slices.Index(seq, 0); i >= 0 && len(seq) > i+5 {
				doc := bson.Raw(seq[i+1:])
				if d, ok := doc.Lookup("q").DocumentOK(); ok {
					return d
				}
			}
		}
		s = s[1+n:]
	}
	return nil
}

// shape is a filter's keys and operators, its values left out.
func shape(d bson.Raw) string {
	if d == nil {
		return "-"
	}
	els, err := d.Elements()
	if err != nil {
		return "?"
	}
	parts := make([]string, 0, len(els))
	for _, e := range els {
		v := e.Value()
		switch {
		case v.Type == bson.TypeEmbeddedDocument:
			parts = append(parts, e.Key()+":"+shape(v.Document()))
		case v.Type == bson.TypeArray && (e.Key() == "$or" || e.Key() == "$and" || e.Key() == "$nor"):
			vals, _ := v.Array().Values()
			subs := []string{}
			for _, x := range vals {
				if x.Type == bson.TypeEmbeddedDocument {
					subs = append(subs, shape(x.Document()))
				}
			}
			parts = append(parts, e.Key()+":["+strings.Join(subs, ",")+"]")
		default:
			parts = append(parts, e.Key())
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}
