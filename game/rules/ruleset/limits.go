package ruleset

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/rules"
)

// claim is a rule's grant for one activity, keyed by (rule, activity), so
// a replay of the activity grants what the first attempt did and spends
// nothing again.
type claim struct {
	Key     string `bson:"_id"` // "<rule>:<activity>"
	State   string `bson:"state"`
	Granted int64  `bson:"granted"`
	// Token names the budget charge the claim settled on.
	Token string `bson:"token,omitempty"`
}

const (
	claimPending = "pending"
	claimDone    = "done"
)

// Scopes of the per-member limits, as slot keys see them.
func scopes(l *rules.Limits, ruleID, memberID string, at time.Time, loc *time.Location) [](struct {
	key   string
	limit int64
}) {
	type sc = struct {
		key   string
		limit int64
	}
	var out []sc
	base := ruleID + ":" + memberID
	if l.PerMember > 0 {
		out = append(out, sc{base + ":ever", l.PerMember})
	}
	local := at.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	if l.PerMemberPerDay > 0 {
		out = append(out, sc{base + ":day:" + day.Format(time.DateOnly), l.PerMemberPerDay})
	}
	if l.PerMemberPerPeriod > 0 && l.PeriodDays > 0 {
		n := day.Unix() / 86400 / l.PeriodDays
		out = append(out, sc{base + ":period:" + strconv.FormatInt(n, 10), l.PerMemberPerPeriod})
	}
	return out
}

// Grant is what line's rule may give member for activity, at most
// line.Points, once its limits are applied: times per member (ever, per
// local day of loc, per period; each a numbered slot claimed by a unique
// insert) and its points budget (one document's conditional $inc). Keyed
// by (rule, activity): a replay, however many at once, grants what the
// first did and spends nothing again. A grant of 0 gives back the slots it
// took, so a refusal does not use up the member's times.
func (s *Store) Grant(ctx context.Context, line *rules.Line, memberID, activityID string, at time.Time, loc *time.Location) (int64, error) {
	l := line.Limits
	if l == nil || (*l == rules.Limits{}) {
		return line.Points, nil
	}
	rule := line.RuleID.Hex()
	key := rule + ":" + activityID
	c, err := s.claimOf(ctx, key)
	if err != nil || c.State == claimDone {
		return c.Granted, err
	}
	for _, sc := range scopes(l, rule, memberID, at, loc) {
		ok, err := s.takeSlot(ctx, rule, sc.key, sc.limit, activityID)
		if err != nil {
			return 0, err
		}
		if !ok {
			return s.settle(ctx, key, rule, activityID, 0, "")
		}
	}
	want := line.Points
	if l.BudgetPoints == 0 {
		return s.settle(ctx, key, rule, activityID, want, "")
	}
	g, token, err := s.charge(ctx, line.RuleID, key, want, l.BudgetPoints)
	if err != nil {
		return 0, err
	}
	return s.settle(ctx, key, rule, activityID, g, token)
}

// claimOf returns the claim under key, made pending if it is new.
func (s *Store) claimOf(ctx context.Context, key string) (claim, error) {
	_, err := s.claims.InsertOne(ctx, claim{Key: key, State: claimPending})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return claim{}, err
	}
	var c claim
	return c, s.claims.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&c)
}

// takeSlot claims one of the numbered slots 1…limit of scope for activity
// (its own slot if a first attempt took one already); false: all are taken.
func (s *Store) takeSlot(ctx context.Context, rule, scope string, limit int64, activity string) (bool, error) {
	n, err := s.slots.CountDocuments(ctx, bson.D{{Key: "rule", Value: rule}, {Key: "activity", Value: activity}, {Key: "scope", Value: scope}})
	if err != nil || n > 0 {
		return n > 0, err
	}
	taken, err := s.slots.CountDocuments(ctx, bson.D{{Key: "scope", Value: scope}})
	if err != nil {
		return false, err
	}
	if taken >= limit {
		return false, nil
	}
	// From the count up first (racers fill the slots in order), then the
	// holes a refused grant gave back.
	try := func(i int64) (bool, error) {
		_, err := s.slots.InsertOne(ctx, bson.D{{Key: "_id", Value: scope + "#" + strconv.FormatInt(i, 10)},
			{Key: "scope", Value: scope}, {Key: "rule", Value: rule}, {Key: "activity", Value: activity}})
		if mongo.IsDuplicateKeyError(err) {
			return false, nil
		}
		return err == nil, err
	}
	for i := taken + 1; i <= limit; i++ {
		if ok, err := try(i); ok || err != nil {
			return ok, err
		}
	}
	for i := int64(1); i <= taken; i++ {
		if ok, err := try(i); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// budget is a rule's spent counter. Charges holds the charges in flight,
// by claim key, until their claim records them: a replay finds its charge
// there instead of charging twice.
type budget struct {
	Spent   int64             `bson:"spent"`
	Charges map[string]charge `bson:"charges"`
}

type charge struct {
	Points int64  `bson:"points"`
	Token  string `bson:"token"`
}

// charge takes up to want points from the rule's budget of total for the
// claim key: all of want while they fit, else what is left (0 when spent).
func (s *Store) charge(ctx context.Context, ruleID bson.ObjectID, key string, want, total int64) (int64, string, error) {
	if _, err := s.spent.UpdateOne(ctx, bson.D{{Key: "_id", Value: ruleID}}, bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "spent", Value: int64(0)}}}},
		options.UpdateOne().SetUpsert(true)); err != nil && !mongo.IsDuplicateKeyError(err) {
		return 0, "", err
	}
	field := "charges." + key
	for {
		var b budget
		if err := s.spent.FindOne(ctx, bson.D{{Key: "_id", Value: ruleID}}).Decode(&b); err != nil {
			return 0, "", err
		}
		if c, ok := b.Charges[key]; ok {
			return c.Points, c.Token, nil // a first attempt charged already
		}
		g := min(want, total-b.Spent)
		if g <= 0 {
			return 0, "", nil
		}
		cond := bson.D{{Key: "$lte", Value: total - g}}
		if g < want {
			cond = bson.D{{Key: "$eq", Value: b.Spent}} // the last of the budget: exactly what was read
		}
		token := bson.NewObjectID().Hex()
		res, err := s.spent.UpdateOne(ctx, bson.D{{Key: "_id", Value: ruleID}, {Key: "spent", Value: cond}, {Key: field, Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "spent", Value: g}}}, {Key: "$set", Value: bson.D{{Key: field, Value: charge{Points: g, Token: token}}}}})
		if err != nil {
			return 0, "", err
		}
		if res.ModifiedCount == 1 {
			return g, token, nil
		}
		if err := ctx.Err(); err != nil {
			return 0, "", err
		}
	}
}

// settle records the claim's grant (once: the first to settle wins), then
// lets go of what the grant does not use: the charge in flight, returned
// to the budget if another attempt settled on a different one, and the
// member's slots when nothing was granted.
func (s *Store) settle(ctx context.Context, key, rule, activity string, granted int64, token string) (int64, error) {
	res, err := s.claims.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "state", Value: claimPending}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: claimDone}, {Key: "granted", Value: granted}, {Key: "token", Value: token}}}})
	if err != nil {
		return 0, err
	}
	var c claim
	if err := s.claims.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&c); err != nil {
		return 0, err
	}
	ruleID, err := bson.ObjectIDFromHex(rule)
	if err != nil {
		return 0, err
	}
	if token != "" {
		field := "charges." + key
		if res.ModifiedCount == 0 && c.Token != token {
			// Another attempt settled first on its own charge: give this one back.
			if _, err := s.spent.UpdateOne(ctx, bson.D{{Key: "_id", Value: ruleID}, {Key: field + ".token", Value: token}},
				bson.D{{Key: "$inc", Value: bson.D{{Key: "spent", Value: -granted}}}, {Key: "$unset", Value: bson.D{{Key: field, Value: ""}}}}); err != nil {
				return 0, err
			}
		} else if _, err := s.spent.UpdateOne(ctx, bson.D{{Key: "_id", Value: ruleID}, {Key: field + ".token", Value: token}},
			bson.D{{Key: "$unset", Value: bson.D{{Key: field, Value: ""}}}}); err != nil {
			return 0, err
		}
	}
	if c.Granted == 0 {
		if _, err := s.slots.DeleteMany(ctx, bson.D{{Key: "rule", Value: rule}, {Key: "activity", Value: activity}}); err != nil {
			return 0, err
		}
	}
	return c.Granted, nil
}

// Spent is the points rule id has given from its budget.
func (s *Store) Spent(ctx context.Context, id bson.ObjectID) (int64, error) {
	var b budget
	err := s.spent.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&b)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return b.Spent, err
}
