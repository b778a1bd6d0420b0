package program

import "github.com/regulars/regulars/input"

// EventRules tie members-only events (community/events) to the program.
// In the API they are flat fields of Program and ProgramInput.
type EventRules struct {
	// EventNoShowPenaltyEvents is how many of a member's next events,
	// answered after they were marked NO_SHOW, put them on waitlists
	// behind members without a penalty (whatever their tier); 0: no
	// penalty (the default).
	EventNoShowPenaltyEvents int `bson:"eventNoShowPenaltyEvents"`
}

// MaxEventNoShowPenaltyEvents bounds EventNoShowPenaltyEvents.
const MaxEventNoShowPenaltyEvents = 100

func (r *EventRules) validate() error {
	if r.EventNoShowPenaltyEvents < 0 || r.EventNoShowPenaltyEvents > MaxEventNoShowPenaltyEvents {
		return input.Errorf("eventNoShowPenaltyEvents", "must be between 0 and %d", MaxEventNoShowPenaltyEvents)
	}
	return nil
}

// EventPatch changes some of the event rules.
type EventPatch struct {
	EventNoShowPenaltyEvents *int
}

func (pt EventPatch) apply(r *EventRules) {
	set(&r.EventNoShowPenaltyEvents, pt.EventNoShowPenaltyEvents)
}
