package reward

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/randcode"
	"github.com/regulars/regulars/texts"
	"github.com/regulars/regulars/webhook"
)

// MaxLocation bounds where a reward was fulfilled (a store's name or
// till), in characters.
const MaxLocation = 100

// AlreadyFulfilled refuses a code fulfilled before (CONFLICT), saying when
// and where it was, so the till can tell the member.
type AlreadyFulfilled struct {
	At       time.Time
	Location string
}

func (e *AlreadyFulfilled) Error() string {
	return fmt.Sprintf("code already fulfilled at %s in %s", e.At.UTC().Format(time.RFC3339), e.Location)
}

// ErrorCode is CONFLICT.
func (e *AlreadyFulfilled) ErrorCode() fault.Code { return fault.Conflict }

// Extensions tell the till the first fulfilment's time and place.
func (e *AlreadyFulfilled) Extensions() map[string]any {
	return map[string]any{"field": "code", "fulfilledAt": e.At.UTC().Format(time.RFC3339Nano), "location": e.Location}
}

var (
	errNotInStatus = errors.New("redemption is not in that status")
)

// voucherCode checks and normalizes a code the till typed or scanned
// (randcode.ParseVoucher); anything else is BAD_USER_INPUT on field, and
// is never looked up.
func voucherCode(field, code string) (string, error) {
	code, err := input.Identifier(field, code, 64)
	if err != nil {
		return "", err
	}
	c, ok := randcode.ParseVoucher(code)
	if !ok {
		return "", input.Errorf(field, "is not a code Regulars issued (four groups of four letters and digits, such as ABCD-EFGH-JKMN-PQRS)")
	}
	return c, nil
}

// transition moves the redemption filter names from status from to the
// fields of set, in one conditional update: of any number of concurrent
// transitions from one status, exactly one wins; the others get
// errNotInStatus.
func (s rewardStore) transition(ctx context.Context, filter bson.D, from RedemptionStatus, set bson.D) (*Redemption, error) {
	f := append(append(bson.D{}, filter...), bson.E{Key: "status", Value: from})
	var r Redemption
	err := s.redemptions.FindOneAndUpdate(ctx, f, bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errNotInStatus
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// FulfillRedemption hands over the reward of a code at the till, once:
// COMPLETED → FULFILLED with who (staffID; zero for the brand's backend),
// where (location, one line of at most MaxLocation characters) and when.
// The same idempotencyKey again (a retried request) answers the same
// fulfilment; with another code or location it is IDEMPOTENCY_KEY_REUSED.
// Of any number of tills racing on one code exactly one wins; the others,
// and any later attempt, get *AlreadyFulfilled (CONFLICT) with the first
// fulfilment's time and place. A code past its expiry, expired, cancelled
// or not yet paid is ErrNotFulfillable; an unknown one NOT_FOUND on code.
//
// The returned redemption's Fulfilment is the outcome (who, where, when)
// to announce; a replay returns the same one.
func (s *Service) FulfillRedemption(ctx context.Context, code, location, idempotencyKey string, staffID bson.ObjectID) (*Redemption, error) {
	code, err := voucherCode("code", code)
	if err != nil {
		return nil, err
	}
	if location, err = input.Line("location", location, MaxLocation); err != nil {
		return nil, err
	}
	if idempotencyKey, err = input.Identifier("idempotencyKey", idempotencyKey, MaxKey); err != nil {
		return nil, err
	}
	replay := func(r *Redemption) (*Redemption, error) {
		if r.Code != code || r.Fulfilment.Location != location {
			return nil, input.Wrap("idempotencyKey", ledger.ErrIdempotencyReuse)
		}
		return r, s.fulfilled(ctx, r) // finishes what a failure left undone
	}
	if prior, err := s.rewards.redemption(ctx, bson.D{{Key: "fulfilment.key", Value: idempotencyKey}}); err == nil {
		return replay(prior)
	} else if !errors.Is(err, ErrRedemptionNotFound) {
		return nil, err
	}
	now := s.now().UTC()
	f := &Fulfilment{Key: idempotencyKey, StaffID: staffID, Location: location, At: now}
	r, err := s.rewards.transition(ctx, bson.D{{Key: "code", Value: code}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: now}}}},
	}}}, RedemptionCompleted, bson.D{{Key: "status", Value: RedemptionFulfilled}, {Key: "fulfilment", Value: f}})
	switch {
	case mongo.IsDuplicateKeyError(err):
		// The key fulfilled another code at the same moment.
		return nil, input.Wrap("idempotencyKey", ledger.ErrIdempotencyReuse)
	case errors.Is(err, errNotInStatus):
		prior, err := s.rewards.redemption(ctx, bson.D{{Key: "code", Value: code}})
		if err != nil {
			return nil, input.Wrap("code", err)
		}
		switch {
		case prior.Status == RedemptionFulfilled && prior.Fulfilment.Key == idempotencyKey:
			return replay(prior) // a concurrent twin of this request won
		case prior.Status == RedemptionFulfilled:
			return nil, &AlreadyFulfilled{At: prior.Fulfilment.At, Location: prior.Fulfilment.Location}
		case (prior.Status == RedemptionCompleted || prior.Status == RedemptionExpired) && prior.ExpiresAt != nil:
			return nil, fmt.Errorf("%w: the code expired at %s", ErrNotFulfillable, prior.ExpiresAt.UTC().Format(time.RFC3339))
		default:
			return nil, fmt.Errorf("%w: it is %s", ErrNotFulfillable, prior.Status)
		}
	case err != nil:
		return nil, err
	}
	return r, s.fulfilled(ctx, r)
}

// fulfilled carries out what follows a fulfilment: the member is told
// their reward was handed over, keyed by the redemption, so a retry sends
// nothing twice; then the redemption is marked announced. It runs after
// the fulfilment wins, again on every replay, and from
// AnnounceFulfilments for one a crash left unannounced; the brand's
// systems hear of it too (redemption.fulfilled, keyed by the redemption).
func (s *Service) fulfilled(ctx context.Context, r *Redemption) error {
	if err := s.notifyFulfilled(ctx, r); err != nil {
		return err
	}
	data := map[string]any{"status": RedemptionFulfilled, "location": r.Fulfilment.Location, "fulfilledAt": r.Fulfilment.At}
	if !r.Fulfilment.StaffID.IsZero() {
		data["staff"] = webhook.Ref{Type: "Member", ID: r.Fulfilment.StaffID.Hex()}
	}
	if err := s.Emit(ctx, webhook.RedemptionFulfilled, r, data); err != nil {
		return err
	}
	if r.Announced {
		return nil
	}
	r.Announced = true
	return s.rewards.setRedemption(ctx, r.ID, bson.D{{Key: "announced", Value: true}})
}

// announceGrace is how long a fulfilment may stay unannounced before the
// job takes its request for dead.
const announceGrace = time.Minute

// AnnounceFulfilments carries out, at most limit at a time, what follows
// fulfilments whose request stopped before it (fulfilled): a crash between
// the fulfilment and its notification loses neither. Run by the background
// jobs; every step is keyed.
func (s *Service) AnnounceFulfilments(ctx context.Context, limit int) (int, error) {
	return s.rewards.finish(ctx, bson.D{{Key: "status", Value: RedemptionFulfilled}, {Key: "announced", Value: bson.D{{Key: "$ne", Value: true}}},
		{Key: "fulfilment.at", Value: bson.D{{Key: "$lt", Value: s.now().UTC().Add(-announceGrace)}}}}, limit, s.fulfilled)
}

// finish reads at most limit redemptions matching filter and carries out
// step on each, stopping at the first failure; it returns how many it read.
// The background sweeps use it: every step is keyed, so a rerun repeats
// nothing.
func (st rewardStore) finish(ctx context.Context, filter bson.D, limit int, step func(context.Context, *Redemption) error) (int, error) {
	cur, err := st.redemptions.Find(ctx, filter, options.Find().SetLimit(int64(limit)))
	if err != nil {
		return 0, err
	}
	var rs []*Redemption
	if err := cur.All(ctx, &rs); err != nil {
		return 0, err
	}
	for _, r := range rs {
		if err := step(ctx, r); err != nil {
			return 0, err
		}
	}
	return len(rs), nil
}

func (s *Service) notifyFulfilled(ctx context.Context, r *Redemption) error {
	reward, err := s.rewards.get(ctx, r.RewardID)
	if err != nil {
		return err
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return err
	}
	note := inbox.Message{MemberID: r.MemberID, Kind: inbox.KindRedemptionFulfilled, Key: "redeem:" + r.ID.Hex() + ":fulfilled",
		Related:  &inbox.Related{Kind: inbox.RelatedRedemption, ID: r.ID.Hex()},
		Template: texts.RedemptionFulfilled, Data: map[string]any{"reward": reward.Name, "location": r.Fulfilment.Location}}
	return s.effects.CarryOut(ctx, &p, nil, note)
}

// ExpireRedemptions expires, at most limit at a time, the codes not
// fulfilled by their ExpiresAt (COMPLETED → EXPIRED, one conditional update,
// so a code fulfilled at the same moment is either fulfilled or expired,
// never both), then refunds each expired redemption's points with a ledger
// entry keyed by it (a rerun never refunds twice), returns its stock and
// tells the member. Run by the background jobs; safe on several instances.
// It returns how many redemptions it expired or finished refunding.
func (s *Service) ExpireRedemptions(ctx context.Context, limit int) (int, error) {
	now := s.now().UTC()
	cur, err := s.rewards.redemptions.Find(ctx, bson.D{{Key: "status", Value: RedemptionCompleted}, {Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return 0, err
	}
	var due []struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := cur.All(ctx, &due); err != nil {
		return 0, err
	}
	for _, d := range due {
		_, err := s.rewards.transition(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: now}}}},
			RedemptionCompleted, bson.D{{Key: "status", Value: RedemptionExpired}, {Key: "expiredAt", Value: now}})
		if err != nil && !errors.Is(err, errNotInStatus) { // fulfilled or cancelled meanwhile: not ours
			return 0, err
		}
	}
	// Refund every expiry not refunded yet, this run's and any a failure left.
	return s.rewards.finish(ctx, bson.D{{Key: "status", Value: RedemptionExpired}, {Key: "refunded", Value: bson.D{{Key: "$ne", Value: true}}}},
		limit, s.refundExpired)
}

// refundExpired returns an expired redemption's points and stock and tells
// the member; every step is keyed or idempotent.
func (s *Service) refundExpired(ctx context.Context, r *Redemption) error {
	reward, err := s.rewards.get(ctx, r.RewardID)
	if err != nil {
		return err
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return err
	}
	e, _, err := s.ledger.Append(ctx, &p, r.MemberID, "redeem:"+r.ID.Hex()+":expired", ledger.EntryRefund, ledger.Source{Kind: ledger.SourceRedemption, ID: r.ID.Hex()},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			e.Reason = "Reward code expired unused: " + reward.Name
			e.Lines = []ledger.Line{{Rule: "redemption-expired", Points: r.Cost,
				Reason: fmt.Sprintf("%s was not collected by %s; %d points refunded", reward.Name, r.ExpiresAt.UTC().Format(time.DateOnly), r.Cost)}}
			st.Credit(e, r.Cost, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
			return true, nil
		})
	if err != nil {
		return err
	}
	if err := s.rewards.releaseSlots(ctx, r.ID); err != nil {
		return err
	}
	note := inbox.Message{MemberID: r.MemberID, Kind: inbox.KindRedemptionExpired, Key: e.Key, Related: &inbox.Related{Kind: inbox.RelatedRedemption, ID: r.ID.Hex()},
		Template: texts.RedemptionExpired, Data: map[string]any{"reward": reward.Name, "points": r.Cost}}
	if err := s.effects.CarryOut(ctx, &p, []*ledger.Entry{e}, note); err != nil {
		return err
	}
	r.Refunded = true
	return s.rewards.setRedemption(ctx, r.ID, bson.D{{Key: "refunded", Value: true}})
}
