package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ServerSample is the server's own gauges at one moment of the run, read
// from its /metrics: a soak shows them flat after the warm-up.
type ServerSample struct {
	At         time.Duration `json:"-"` // since the mix started
	Goroutines int
	ResidentMB float64
	Sockets    int // open WebSockets
}

// sampleServer reads the server's goroutines, resident memory and open
// sockets.
func sampleServer(ctx context.Context, c *client, since time.Time) (ServerSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/metrics", nil)
	if err != nil {
		return ServerSample{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return ServerSample{}, err
	}
	defer func() { _ = resp.Body.Close() }() // read whole above; nothing to lose
	if resp.StatusCode != http.StatusOK {
		return ServerSample{}, fmt.Errorf("/metrics: HTTP %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return ServerSample{}, fmt.Errorf("/metrics: %w", err)
	}
	gauge := func(name string) float64 {
		f := families[name]
		if f == nil || len(f.GetMetric()) == 0 {
			return 0
		}
		return f.GetMetric()[0].GetGauge().GetValue()
	}
	return ServerSample{
		At:         time.Since(since).Round(time.Second),
		Goroutines: int(gauge("go_goroutines")),
		ResidentMB: gauge("process_resident_memory_bytes") / (1 << 20),
		Sockets:    int(gauge("regulars_websockets_open")),
	}, nil
}
