package main

import "context"

// NoShowPenaltyEvents reads the program's no-show penalty (rsvp.PenaltyRules).
func (x eventStanding) NoShowPenaltyEvents(ctx context.Context) (int, error) {
	p, err := x.g.Rooms().Program.Get(ctx)
	if err != nil {
		return 0, err
	}
	return p.EventNoShowPenaltyEvents, nil
}
