package rulesgql

import (
	"context"
	"fmt"

	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/member"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/rules"
)

// who names the caller in a rule's history: their member id, or api-key
// for the brand's backend.
func who(ctx context.Context) string {
	p := member.PrincipalFrom(ctx)
	if p.MemberID.IsZero() {
		return "api-key"
	}
	return p.MemberID.Hex()
}

// ruleInput turns the API's badge ids in a rule's conditions into the
// domain's (prefix names the input, for a dry run's changes[i].rule.).
func ruleInput(in rules.Input, prefix string) (rules.Input, error) {
	in.Conditions = append([]rules.Condition(nil), in.Conditions...)
	for i, c := range in.Conditions {
		if c.BadgeHeld == "" {
			continue
		}
		oid, err := relay.DecodeID("Badge", fmt.Sprintf("%sconditions[%d].badgeHeld", prefix, i), c.BadgeHeld)
		if err != nil {
			return rules.Input{}, err
		}
		in.Conditions[i].BadgeHeld = oid.Hex()
	}
	return in, nil
}

// activityByHex is a recorded activity by its database id, nil if gone.
func (r *Resolver) activityByHex(ctx context.Context, hex string) (*activity.Activity, error) {
	oid, err := bson.ObjectIDFromHex(hex)
	if err != nil {
		return nil, nil
	}
	as, err := r.Rooms.Activities.ByIDs(ctx, []bson.ObjectID{oid})
	if err != nil || len(as) == 0 {
		return nil, err
	}
	return as[0], nil
}
