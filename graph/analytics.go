package graph

import (
	"time"

	"github.com/regulars/regulars/analytics"
)

// Analytics is the brand's analytics root: its fields resolve through the
// analytics service.
type Analytics struct{}

// asOf is nil before the first rollup.
func asOf(f analytics.Freshness) *time.Time {
	if f.AsOf.IsZero() {
		return nil
	}
	t := f.AsOf
	return &t
}
