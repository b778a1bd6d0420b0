package rulesgql

import (
	"context"
	"fmt"
	"time"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/graph/request"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/game/rules/dryrun"
	"github.com/regulars/regulars/game/rules/ruleset"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Activity is the resolver for the activity field.
func (r ActivityDifference) Activity(ctx context.Context, obj *dryrun.Diff) (*activity.Activity, error) {
	return r.activityByHex(ctx, obj.ActivityID)
}

// Before is the resolver for the before field.
func (r ActivityDifference) Before(ctx context.Context, obj *dryrun.Diff) (float64, error) {
	return float64(obj.Before), nil
}

// After is the resolver for the after field.
func (r ActivityDifference) After(ctx context.Context, obj *dryrun.Diff) (float64, error) {
	return float64(obj.After), nil
}

// Activity is the resolver for the activity field.
func (r EarningExplanation) Activity(ctx context.Context, obj *ruleset.Explanation) (*activity.Activity, error) {
	return r.activityByHex(ctx, obj.ActivityID.Hex())
}

// RuleSetVersion is the resolver for the ruleSetVersion field.
func (r EarningExplanation) RuleSetVersion(ctx context.Context, obj *ruleset.Explanation) (int, error) {
	return int(obj.SetVersion), nil
}

// ProgramVersion is the resolver for the programVersion field.
func (r EarningExplanation) ProgramVersion(ctx context.Context, obj *ruleset.Explanation) (int, error) {
	return int(obj.ProgramVersion), nil
}

// Tier is the resolver for the tier field.
func (r EarningExplanation) Tier(ctx context.Context, obj *ruleset.Explanation) (*string, error) {
	return model.Optional(obj.Snapshot.Tier), nil
}

// PurchasePosition is the resolver for the purchasePosition field.
func (r EarningExplanation) PurchasePosition(ctx context.Context, obj *ruleset.Explanation) (*int, error) {
	if obj.Snapshot.Purchase == 0 {
		return nil, nil
	}
	n := int(obj.Snapshot.Purchase)
	return &n, nil
}

// Rules is the resolver for the rules field.
func (r EarningExplanation) Rules(ctx context.Context, obj *ruleset.Explanation) ([]*rules.Verdict, error) {
	out := make([]*rules.Verdict, len(obj.Verdicts))
	for i := range obj.Verdicts {
		out[i] = &obj.Verdicts[i]
	}
	return out, nil
}

// ID is the resolver for the id field.
func (r EarningRule) ID(ctx context.Context, obj *rules.Rule) (string, error) {
	return relay.EncodeID("EarningRule", obj.ID), nil
}

// Timezone is the resolver for the timezone field.
func (r EarningRule) Timezone(ctx context.Context, obj *rules.Rule) (*string, error) {
	return model.Optional(obj.Timezone), nil
}

// BudgetSpent is the resolver for the budgetSpent field.
func (r EarningRule) BudgetSpent(ctx context.Context, obj *rules.Rule) (int, error) {
	n, err := r.Game.Rules().Store().Spent(ctx, obj.ID)
	return int(n), err
}

// RuleID is the resolver for the ruleId field.
func (r EarningRuleVersion) RuleID(ctx context.Context, obj *rules.Rule) (string, error) {
	return relay.EncodeID("EarningRule", obj.ID), nil
}

// Timezone is the resolver for the timezone field.
func (r EarningRuleVersion) Timezone(ctx context.Context, obj *rules.Rule) (*string, error) {
	return model.Optional(obj.Timezone), nil
}

// RuleVersion is the resolver for the ruleVersion field.
func (r LedgerLine) RuleVersion(ctx context.Context, obj *ledger.Line) (*int, error) {
	if obj.RuleVersion == 0 {
		return nil, nil
	}
	v := int(obj.RuleVersion)
	return &v, nil
}

// CreateEarningRule is the resolver for the createEarningRule field.
func (r Mutation) CreateEarningRule(ctx context.Context, input rules.Input) (*rules.Rule, error) {
	in, err := ruleInput(input, "")
	if err != nil {
		return nil, err
	}
	return r.Game.Rules().Create(ctx, who(ctx), in)
}

// UpdateEarningRule is the resolver for the updateEarningRule field.
func (r Mutation) UpdateEarningRule(ctx context.Context, id string, input rules.Input, expectedVersion *int) (*rules.Rule, error) {
	oid, err := relay.DecodeID("EarningRule", "id", id)
	if err != nil {
		return nil, err
	}
	in, err := ruleInput(input, "")
	if err != nil {
		return nil, err
	}
	var expected *int64
	if expectedVersion != nil {
		v := int64(*expectedVersion)
		expected = &v
	}
	return r.Game.Rules().Update(ctx, who(ctx), oid, expected, in)
}

// PauseEarningRule is the resolver for the pauseEarningRule field.
func (r Mutation) PauseEarningRule(ctx context.Context, id string, paused bool) (*rules.Rule, error) {
	oid, err := relay.DecodeID("EarningRule", "id", id)
	if err != nil {
		return nil, err
	}
	st := rules.StatusPaused
	if !paused {
		st = rules.StatusActive
	}
	return r.Game.Rules().SetStatus(ctx, who(ctx), oid, st)
}

// ArchiveEarningRule is the resolver for the archiveEarningRule field.
func (r Mutation) ArchiveEarningRule(ctx context.Context, id string) (*rules.Rule, error) {
	oid, err := relay.DecodeID("EarningRule", "id", id)
	if err != nil {
		return nil, err
	}
	return r.Game.Rules().SetStatus(ctx, who(ctx), oid, rules.StatusArchived)
}

// SimulateRules is the resolver for the simulateRules field.
func (r Mutation) SimulateRules(ctx context.Context, changes []*model.RuleChangeInput, rangeArg *model.DateRangeInput) (*dryrun.Simulation, error) {
	cs := make([]dryrun.Change, len(changes))
	for i, c := range changes {
		field := fmt.Sprintf("changes[%d]", i)
		if c.RuleID != nil {
			oid, err := relay.DecodeID("EarningRule", field+".ruleId", *c.RuleID)
			if err != nil {
				return nil, err
			}
			cs[i].RuleID = oid
		}
		if c.Rule != nil {
			in, err := ruleInput(*c.Rule, field+".rule.")
			if err != nil {
				return nil, err
			}
			cs[i].Rule = &in
		}
		cs[i].Remove = c.Remove != nil && *c.Remove
	}
	var from, to time.Time
	if rangeArg != nil {
		from, to = model.Deref(rangeArg.From), model.Deref(rangeArg.To)
	}
	return r.Game.Rules().DryRuns().Simulate(ctx, who(ctx), cs, from, to)
}

// Before is the resolver for the before field.
func (r PointsComparison) Before(ctx context.Context, obj *dryrun.Totals) (float64, error) {
	return float64(obj.Before), nil
}

// After is the resolver for the after field.
func (r PointsComparison) After(ctx context.Context, obj *dryrun.Totals) (float64, error) {
	return float64(obj.After), nil
}

// EarningRules is the resolver for the earningRules field.
func (r Query) EarningRules(ctx context.Context, first *int, after *string) (*model.EarningRuleConnection, error) {
	limit, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	from, err := relay.DecodeIDCursor("earningRules", after)
	if err != nil {
		return nil, err
	}
	rs, more, err := r.Game.Rules().Store().List(ctx, from, limit)
	if err != nil {
		return nil, err
	}
	conn := &model.EarningRuleConnection{}
	conn.Edges, conn.PageInfo = relay.Edges(rs, more, after,
		func(x *rules.Rule) string { return relay.EncodeIDCursor("earningRules", x.ID) },
		func(c string, x *rules.Rule) *model.EarningRuleEdge {
			return &model.EarningRuleEdge{Cursor: c, Node: x}
		})
	return conn, nil
}

// EarningRule is the resolver for the earningRule field.
func (r Query) EarningRule(ctx context.Context, id string) (*rules.Rule, error) {
	oid, err := relay.DecodeID("EarningRule", "id", id)
	if err != nil {
		return nil, err
	}
	return r.Game.Rules().Get(ctx, oid)
}

// EarningRuleHistory is the resolver for the earningRuleHistory field.
func (r Query) EarningRuleHistory(ctx context.Context, id string, first *int, after *string) (*model.EarningRuleVersionConnection, error) {
	oid, err := relay.DecodeID("EarningRule", "id", id)
	if err != nil {
		return nil, err
	}
	limit, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	list := "earningRuleHistory." + oid.Hex()
	before, err := relay.DecodeCursor(list, after)
	if err != nil {
		return nil, err
	}
	if _, err := r.Game.Rules().Get(ctx, oid); err != nil {
		return nil, err
	}
	rs, more, err := r.Game.Rules().Store().History(ctx, oid, before, limit)
	if err != nil {
		return nil, err
	}
	conn := &model.EarningRuleVersionConnection{}
	conn.Edges, conn.PageInfo = relay.Edges(rs, more, after,
		func(x *rules.Rule) string { return relay.EncodeCursor(list, x.Version) },
		func(c string, x *rules.Rule) *model.EarningRuleVersionEdge {
			return &model.EarningRuleVersionEdge{Cursor: c, Node: x}
		})
	return conn, nil
}

// ExplainEarning is the resolver for the explainEarning field.
func (r Query) ExplainEarning(ctx context.Context, activityID string) (*ruleset.Explanation, error) {
	oid, err := relay.DecodeID("Activity", "activityId", activityID)
	if err != nil {
		return nil, err
	}
	return r.Game.Rules().Explain(ctx, oid)
}

// RuleSimulations is the resolver for the ruleSimulations field.
func (r Query) RuleSimulations(ctx context.Context, first *int, after *string) (*model.RuleSimulationConnection, error) {
	limit, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	before, err := relay.DecodeIDCursor("ruleSimulations", after)
	if err != nil {
		return nil, err
	}
	ss, more, err := r.Game.Rules().DryRuns().Store().Simulations(ctx, before, limit)
	if err != nil {
		return nil, err
	}
	conn := &model.RuleSimulationConnection{}
	conn.Edges, conn.PageInfo = relay.Edges(ss, more, after,
		func(x *dryrun.Simulation) string { return relay.EncodeIDCursor("ruleSimulations", x.ID) },
		func(c string, x *dryrun.Simulation) *model.RuleSimulationEdge {
			return &model.RuleSimulationEdge{Cursor: c, Node: x}
		})
	return conn, nil
}

// RuleSimulation is the resolver for the ruleSimulation field.
func (r Query) RuleSimulation(ctx context.Context, id string) (*dryrun.Simulation, error) {
	oid, err := relay.DecodeID("RuleSimulation", "id", id)
	if err != nil {
		return nil, err
	}
	return r.Game.Rules().DryRuns().Store().Simulation(ctx, oid)
}

// BadgeHeld is the resolver for the badgeHeld field.
func (r RuleCondition) BadgeHeld(ctx context.Context, obj *rules.Condition) (*string, error) {
	if obj.BadgeHeld == "" {
		return nil, nil
	}
	oid, err := bson.ObjectIDFromHex(obj.BadgeHeld)
	if err != nil {
		return nil, err
	}
	id := relay.EncodeID("Badge", oid)
	return &id, nil
}

// ID is the resolver for the id field.
func (r RuleSimulation) ID(ctx context.Context, obj *dryrun.Simulation) (string, error) {
	return relay.EncodeID("RuleSimulation", obj.ID), nil
}

// Read is the resolver for the read field.
func (r RuleSimulation) Read(ctx context.Context, obj *dryrun.Simulation) (float64, error) {
	return float64(obj.Read), nil
}

// Processed is the resolver for the processed field.
func (r RuleSimulation) Processed(ctx context.Context, obj *dryrun.Simulation) (float64, error) {
	return float64(obj.Processed), nil
}

// Total is the resolver for the total field.
func (r RuleSimulation) Total(ctx context.Context, obj *dryrun.Simulation) (float64, error) {
	return float64(obj.Total), nil
}

// Error is the resolver for the error field.
func (r RuleSimulation) Error(ctx context.Context, obj *dryrun.Simulation) (*string, error) {
	return model.Optional(obj.Error), nil
}

// Activities is the resolver for the activities field.
func (r RuleSimulationResult) Activities(ctx context.Context, obj *dryrun.Result) (float64, error) {
	return float64(obj.Activities), nil
}

// MembersAffected is the resolver for the membersAffected field.
func (r RuleSimulationResult) MembersAffected(ctx context.Context, obj *dryrun.Result) (float64, error) {
	return float64(obj.MembersAffected), nil
}

// PointsBefore is the resolver for the pointsBefore field.
func (r RuleSimulationResult) PointsBefore(ctx context.Context, obj *dryrun.Result) (float64, error) {
	return float64(obj.Before), nil
}

// PointsAfter is the resolver for the pointsAfter field.
func (r RuleSimulationResult) PointsAfter(ctx context.Context, obj *dryrun.Result) (float64, error) {
	return float64(obj.After), nil
}

// LiabilityChangeMinor is the resolver for the liabilityChangeMinor field.
func (r RuleSimulationResult) LiabilityChangeMinor(ctx context.Context, obj *dryrun.Result) (float64, error) {
	return float64(obj.LiabilityChangeMinor), nil
}

// TopMembers is the resolver for the topMembers field.
func (r RuleSimulationResult) TopMembers(ctx context.Context, obj *dryrun.Result) ([]*model.MemberPointsChange, error) {
	out := make([]*model.MemberPointsChange, len(obj.TopMembers))
	for i, t := range obj.TopMembers {
		out[i] = &model.MemberPointsChange{Before: float64(t.Before), After: float64(t.After)}
		if oid, err := bson.ObjectIDFromHex(t.Key); err == nil {
			if m, err := request.LoadMember(ctx, oid); err == nil {
				out[i].Member = m
			}
		}
	}
	return out, nil
}

// FailedCondition is the resolver for the failedCondition field.
func (r RuleVerdict) FailedCondition(ctx context.Context, obj *rules.Verdict) (*string, error) {
	return model.Optional(obj.Failed), nil
}

// Reason is the resolver for the reason field.
func (r RuleVerdict) Reason(ctx context.Context, obj *rules.Verdict) (*string, error) {
	return model.Optional(obj.Reason), nil
}
