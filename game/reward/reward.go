// Package reward is the brand's catalog of rewards and members'
// redemptions of them with points. It owns the collections rewards,
// redemptions and reward_slots: stock and per-member limits are numbered
// slots claimed by unique inserts, and the debit is a ledger entry keyed by
// the redemption, so concurrent attempts never oversell, overdraw or charge
// twice. What follows a debit or a refund (leaderboards, the notification)
// goes through the game's one effects path (Effects).
package reward

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/byid"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
	"github.com/regulars/regulars/internal/randcode"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/texts"
	"github.com/regulars/regulars/webhook"
)

var (
	ErrOutOfStock         = fault.New(fault.Conflict, "reward out of stock")
	ErrLimitReached       = fault.New(fault.Conflict, "reward limit per member reached")
	ErrRewardNotFound     = fault.New(fault.NotFound, "reward not found")
	ErrRewardUnavailable  = fault.New(fault.Conflict, "reward not available now")
	ErrTierTooLow         = fault.New(fault.Forbidden, "reward needs a higher tier")
	ErrRedemptionNotFound = fault.New(fault.NotFound, "redemption not found")
	// ErrNotFulfillable refuses a code whose redemption is not waiting at
	// the till (cancelled, expired, failed): the message says which.
	ErrNotFulfillable = fault.New(fault.Conflict, "redemption cannot be fulfilled")
)

// Effects carries out what follows ledger entries on the game's one
// effects path: the entries' leaderboard scores, then the notifications,
// in that order. It stops at the first failure and returns it; carrying
// out the same entries and keyed notifications again repeats nothing.
type Effects interface {
	CarryOut(ctx context.Context, p *program.Program, entries []*ledger.Entry, notes ...inbox.Message) error
}

// Webhooks records events for the brand's endpoints (webhook.Service),
// keyed by cause: emitting again changes nothing.
type Webhooks interface {
	Emit(ctx context.Context, e webhook.Event) error
}

// Service is the catalog and its redemptions over one database.
type Service struct {
	program program.Store
	ledger  *ledger.Ledger
	effects Effects
	now     func() time.Time
	rewards rewardStore
	hooks   Webhooks
}

// SetWebhooks makes redemptions emit webhook events to h (nil: none).
func (s *Service) SetWebhooks(h Webhooks) { s.hooks = h }

// Emit emits a webhook event of a redemption (nil webhooks: nothing).
// Call it on the redemption's durable path, before the status that says
// the step is done, so a retry or sweep emits it if a crash came first.
func (s *Service) Emit(ctx context.Context, typ webhook.Type, r *Redemption, data map[string]any) error {
	if s.hooks == nil {
		return nil
	}
	d := map[string]any{
		"redemption": webhook.Ref{Type: "Redemption", ID: r.ID.Hex()}, "member": webhook.Ref{Type: "Member", ID: r.MemberID.Hex()},
		"reward": webhook.Ref{Type: "Reward", ID: r.RewardID.Hex()}, "points": r.Cost,
	}
	for k, v := range data {
		d[k] = v
	}
	return s.hooks.Emit(ctx, webhook.Event{Type: typ, Cause: r.ID.Hex(), Data: d})
}

// New returns the rewards over db. Debits and refunds go to lg, their
// effects to fx; now is the clock (read at every call, so a test may move it).
func New(db *mongo.Database, programs program.Store, lg *ledger.Ledger, fx Effects, now func() time.Time) *Service {
	return &Service{program: programs, ledger: lg, effects: fx, now: now, rewards: newRewardStore(db)}
}

// EnsureIndexes creates the indexes of rewards, redemptions and
// reward_slots; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return mongoindex.EnsureAll(ctx,
		mongoindex.Set{C: s.rewards.rewards, Models: s.rewards.rewardIndexes()},
		mongoindex.Set{C: s.rewards.redemptions, Models: s.rewards.redemptionIndexes()},
		mongoindex.Set{C: s.rewards.slots, Models: s.rewards.slotIndexes()},
	)
}

// Reward is an item of the brand's catalog that members buy with points.
type Reward struct {
	ID          bson.ObjectID `bson:"_id"`
	Name        string        `bson:"name"`
	Description string        `bson:"description"`
	Cost        int64         `bson:"cost"`
	// Stock is how many may be redeemed in all; nil is unlimited.
	Stock *int64 `bson:"stock,omitempty"`
	// PerMemberLimit caps redemptions per member; 0 is no cap.
	PerMemberLimit int64 `bson:"perMemberLimit"`
	// ValidDays is how long a redemption's code may be fulfilled at the
	// till; past that it expires and its points are refunded. nil: codes
	// never expire.
	ValidDays  *int64     `bson:"validDays,omitempty"`
	MinTier    string     `bson:"minTier,omitempty"`
	ValidFrom  *time.Time `bson:"validFrom,omitempty"`
	ValidUntil *time.Time `bson:"validUntil,omitempty"`
	Active     bool       `bson:"active"`
	CreatedAt  time.Time  `bson:"createdAt"`
	UpdatedAt  time.Time  `bson:"updatedAt"`
}

// RewardInput is a reward as the brand defines it.
type RewardInput struct {
	Name           string
	Description    string
	Cost           int64
	Stock          *int64
	PerMemberLimit int64
	ValidDays      *int64
	MinTier        string
	ValidFrom      *time.Time
	ValidUntil     *time.Time
	Active         bool
}

// Bounds of a reward's texts, in characters (grapheme clusters).
const (
	MaxName        = 100
	MaxDescription = 2000
	MaxReason      = 500
	MaxKey         = 128
	// MaxValidDays bounds a reward's validDays.
	MaxValidDays = 3650
)

func (in *RewardInput) validate(p *program.Program) error {
	var err error
	if in.Name, err = input.Line("name", in.Name, MaxName); err != nil {
		return err
	}
	if in.Description, err = (input.Text{Max: MaxDescription, Multiline: true, Optional: true}).Check("description", in.Description); err != nil {
		return err
	}
	switch {
	case in.Cost <= 0 || in.Cost > program.MaxPoints:
		return input.Errorf("cost", "must be between 1 and %d points", program.MaxPoints)
	case in.Stock != nil && (*in.Stock < 0 || *in.Stock > 1_000_000):
		return input.Errorf("stock", "must be between 0 and 1000000, or absent for unlimited")
	case in.PerMemberLimit < 0 || in.PerMemberLimit > 1000:
		return input.Errorf("perMemberLimit", "must be between 0 (no limit) and 1000")
	case in.ValidDays != nil && (*in.ValidDays < 1 || *in.ValidDays > MaxValidDays):
		return input.Errorf("validDays", "must be between 1 and %d, or absent for codes that never expire", MaxValidDays)
	case in.ValidFrom != nil && in.ValidUntil != nil && !in.ValidUntil.After(*in.ValidFrom):
		return input.Errorf("validUntil", "must be after the start of validity")
	}
	if in.MinTier != "" {
		if _, ok := p.TierNamed(in.MinTier); !ok {
			return input.Errorf("minTier", "no tier is called %q", in.MinTier)
		}
	}
	return nil
}

// RedemptionStatus is where a redemption stands. PENDING is a redemption
// being paid for (it never reaches the member's list); COMPLETED is paid,
// its code waiting at the till. From COMPLETED exactly one of FULFILLED
// (handed over at the till), EXPIRED (not fulfilled within the reward's
// validDays; points refunded) or CANCELLED (by the brand; points refunded)
// follows, each by one conditional update, so two of them never both win.
type RedemptionStatus string

const (
	RedemptionPending   RedemptionStatus = "PENDING"
	RedemptionCompleted RedemptionStatus = "COMPLETED"
	RedemptionFailed    RedemptionStatus = "FAILED"
	RedemptionCancelled RedemptionStatus = "CANCELLED"
	RedemptionFulfilled RedemptionStatus = "FULFILLED"
	RedemptionExpired   RedemptionStatus = "EXPIRED"
)

// visible are the statuses a member's list shows.
var visible = []RedemptionStatus{RedemptionCompleted, RedemptionCancelled, RedemptionFulfilled, RedemptionExpired}

// Fulfilment is the handing over of a reward at the till: who (a STAFF
// member, or the brand's backend when StaffID is zero), where and when.
type Fulfilment struct {
	// Key is the till's idempotency key: the same key again answers this
	// fulfilment.
	Key      string        `bson:"key"`
	StaffID  bson.ObjectID `bson:"staffId,omitempty"`
	Location string        `bson:"location"`
	At       time.Time     `bson:"at"`
}

// MaySeeStaff reports whether p may see who fulfilled f: the brand, and
// the staff member themself (a member sees where and when, not who).
func MaySeeStaff(p member.Principal, f *Fulfilment) bool {
	return !f.StaffID.IsZero() && (p.Has(member.RoleBrand) || p.MemberID == f.StaffID)
}

// Redemption is a member's purchase of a reward with points.
type Redemption struct {
	ID             bson.ObjectID    `bson:"_id"`
	MemberID       bson.ObjectID    `bson:"memberId"`
	RewardID       bson.ObjectID    `bson:"rewardId"`
	IdempotencyKey string           `bson:"idempotencyKey"`
	Code           string           `bson:"code"` // unguessable: what the member shows in store
	Cost           int64            `bson:"cost"`
	Status         RedemptionStatus `bson:"status"`
	Failure        string           `bson:"failure,omitempty"`
	CancelReason   string           `bson:"cancelReason,omitempty"`
	CreatedAt      time.Time        `bson:"createdAt"`
	CancelledAt    *time.Time       `bson:"cancelledAt,omitempty"`
	// ExpiresAt is when an unfulfilled code expires (the reward's
	// validDays after it was redeemed); nil: never.
	ExpiresAt  *time.Time  `bson:"expiresAt,omitempty"`
	Fulfilment *Fulfilment `bson:"fulfilment,omitempty"`
	// ExpiredAt is when the code expired; Refunded says the expiry's
	// refund and notification were carried out.
	ExpiredAt *time.Time `bson:"expiredAt,omitempty"`
	Refunded  bool       `bson:"refunded,omitempty"`
	// Announced says what follows a fulfilment (the member's notification)
	// was carried out; AnnounceFulfilments finishes it after a crash.
	Announced bool `bson:"announced,omitempty"`
}

type rewardStore struct {
	rewards     *mongo.Collection
	redemptions *mongo.Collection
	slots       *mongo.Collection
}

func newRewardStore(db *mongo.Database) rewardStore {
	return rewardStore{rewards: db.Collection("rewards"), redemptions: db.Collection("redemptions"), slots: db.Collection("reward_slots")}
}

const (
	indexRewardActive     = "active_id"
	indexRedemptionKey    = "member_idempotencyKey"
	indexRedemptionCode   = "code_unique"
	indexRedemptionMember = "member_id"
	indexSlotRedemption   = "redemptionId"
	indexRedemptionStatus = "status_createdAt"
	indexRedemptionExpiry = "status_expiresAt"
	indexFulfilmentKey    = "fulfilment_key"
)

func (s rewardStore) rewardIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "active", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(indexRewardActive)},
	}
}

func (s rewardStore) redemptionIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "idempotencyKey", Value: 1}}, Options: options.Index().SetName(indexRedemptionKey).SetUnique(true)},
		{Keys: bson.D{{Key: "code", Value: 1}}, Options: options.Index().SetName(indexRedemptionCode).SetUnique(true)},
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(indexRedemptionMember)},
		// The sweeper finds abandoned redemptions.
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "createdAt", Value: 1}}, Options: options.Index().SetName(indexRedemptionStatus)},
		// ExpireRedemptions finds codes past their validity.
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "expiresAt", Value: 1}}, Options: options.Index().SetName(indexRedemptionExpiry)},
		// A till's idempotency key names one fulfilment.
		{Keys: bson.D{{Key: "fulfilment.key", Value: 1}}, Options: options.Index().SetName(indexFulfilmentKey).SetUnique(true).SetSparse(true)},
	}
}

func (s rewardStore) slotIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "redemptionId", Value: 1}}, Options: options.Index().SetName(indexSlotRedemption)},
	}
}

func (s rewardStore) get(ctx context.Context, id bson.ObjectID) (*Reward, error) {
	var r Reward
	err := s.rewards.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrRewardNotFound
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (s rewardStore) redemption(ctx context.Context, filter bson.D) (*Redemption, error) {
	var r Redemption
	err := s.redemptions.FindOne(ctx, filter).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrRedemptionNotFound
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (s rewardStore) setRedemption(ctx context.Context, id bson.ObjectID, set bson.D) error {
	_, err := s.redemptions.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}})
	return err
}

// claimSlot takes one of the numbered slots prefix:1…prefix:n for a
// redemption; the unique _id lets each go to exactly one redemption.
func (s rewardStore) claimSlot(ctx context.Context, prefix string, n int64, redemptionID bson.ObjectID) (bool, error) {
	for i := int64(1); i <= n; i++ {
		_, err := s.slots.InsertOne(ctx, bson.D{
			{Key: "_id", Value: fmt.Sprintf("%s:%d", prefix, i)},
			{Key: "redemptionId", Value: redemptionID},
		})
		if err == nil {
			return true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return false, err
		}
	}
	return false, nil
}

func (s rewardStore) releaseSlots(ctx context.Context, redemptionID bson.ObjectID) error {
	_, err := s.slots.DeleteMany(ctx, bson.D{{Key: "redemptionId", Value: redemptionID}})
	return err
}

// CreateReward adds a reward to the catalog.
func (s *Service) CreateReward(ctx context.Context, in RewardInput) (*Reward, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(&p); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	r := &Reward{ID: bson.NewObjectID(), CreatedAt: now}
	r.apply(in, now)
	_, err = s.rewards.rewards.InsertOne(ctx, r)
	return r, err
}

// UpdateReward replaces a reward's terms. Raising the stock frees more
// slots; lowering it below what was redeemed just stops new redemptions.
func (s *Service) UpdateReward(ctx context.Context, id bson.ObjectID, in RewardInput) (*Reward, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(&p); err != nil {
		return nil, err
	}
	r, err := s.rewards.get(ctx, id)
	if err != nil {
		return nil, input.Wrap("id", err)
	}
	r.apply(in, s.now().UTC())
	_, err = s.rewards.rewards.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, r)
	return r, err
}

func (r *Reward) apply(in RewardInput, now time.Time) {
	r.Name, r.Description, r.Cost, r.Stock, r.PerMemberLimit, r.ValidDays = in.Name, in.Description, in.Cost, in.Stock, in.PerMemberLimit, in.ValidDays
	r.MinTier, r.ValidFrom, r.ValidUntil, r.Active, r.UpdatedAt = in.MinTier, in.ValidFrom, in.ValidUntil, in.Active, now
}

// Rewards lists the catalog newest first after the reward id after;
// activeOnly hides what members cannot redeem.
func (s *Service) Rewards(ctx context.Context, activeOnly bool, after bson.ObjectID, limit int) ([]*Reward, bool, error) {
	filter := bson.D{}
	if activeOnly {
		filter = append(filter, bson.E{Key: "active", Value: true})
	}
	if !after.IsZero() {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: after}}})
	}
	sort := bson.D{{Key: "_id", Value: -1}}
	if activeOnly {
		sort = bson.D{{Key: "active", Value: 1}, {Key: "_id", Value: -1}}
	}
	return page.Find[*Reward](ctx, s.rewards.rewards, filter, options.Find().SetSort(sort), limit)
}

// Redeem buys a reward with points, once per idempotency key. Stock and the
// per-member limit are numbered slots claimed by unique inserts, and the
// debit is a ledger entry keyed by the redemption, so any number of
// concurrent attempts can never oversell, overdraw or charge twice.
func (s *Service) Redeem(ctx context.Context, memberID, rewardID bson.ObjectID, idempotencyKey string) (*Redemption, error) {
	idempotencyKey, err := input.Identifier("idempotencyKey", idempotencyKey, MaxKey)
	if err != nil {
		return nil, err
	}
	if prior, err := s.rewards.redemption(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "idempotencyKey", Value: idempotencyKey}}); err == nil {
		return s.resume(ctx, prior, rewardID)
	} else if !errors.Is(err, ErrRedemptionNotFound) {
		return nil, err
	}
	reward, err := s.rewards.get(ctx, rewardID)
	if err != nil {
		return nil, input.Wrap("rewardId", err)
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if !reward.Active || (reward.ValidFrom != nil && now.Before(*reward.ValidFrom)) || (reward.ValidUntil != nil && !now.Before(*reward.ValidUntil)) {
		return nil, ErrRewardUnavailable
	}
	cur, err := s.ledger.Current(ctx, &p, memberID)
	if err != nil {
		return nil, err
	}
	st := cur.State
	if reward.MinTier != "" {
		ts := ledger.StatusOf(st, &p, now)
		if p.TierRank(ts.Current.Name) < p.TierRank(reward.MinTier) {
			return nil, fmt.Errorf("%w: %s or above", ErrTierTooLow, reward.MinTier)
		}
	}
	// Checked again by the ledger; this spares the slots a hopeless attempt.
	if st.Available(now) < reward.Cost {
		return nil, ledger.ErrInsufficientPoints
	}
	r := &Redemption{
		ID: bson.NewObjectID(), MemberID: memberID, RewardID: rewardID, IdempotencyKey: idempotencyKey,
		Code: redemptionCode(), Cost: reward.Cost, Status: RedemptionPending, CreatedAt: now,
	}
	if reward.ValidDays != nil {
		at := now.AddDate(0, 0, int(*reward.ValidDays))
		r.ExpiresAt = &at
	}
	if _, err := s.rewards.redemptions.InsertOne(ctx, r); mongo.IsDuplicateKeyError(err) {
		return s.Redeem(ctx, memberID, rewardID, idempotencyKey) // a concurrent twin won; follow it
	} else if err != nil {
		return nil, err
	}
	return s.complete(ctx, &p, r, reward, cur.Head)
}

// resume answers a repeated redemption: its outcome, or, if it was left
// half-done, finishes it.
func (s *Service) resume(ctx context.Context, r *Redemption, rewardID bson.ObjectID) (*Redemption, error) {
	if r.RewardID != rewardID {
		return nil, input.Wrap("idempotencyKey", ledger.ErrIdempotencyReuse)
	}
	switch r.Status {
	case RedemptionFailed:
		return nil, failureError(r.Failure)
	case RedemptionPending:
		reward, err := s.rewards.get(ctx, r.RewardID)
		if err != nil {
			return nil, err
		}
		p, err := s.program.Get(ctx)
		if err != nil {
			return nil, err
		}
		return s.complete(ctx, &p, r, reward, nil)
	}
	return r, nil
}

// complete takes a pending redemption's slots and points and carries out
// its effects. head is the member's ledger head read just before r was
// stored (nil: a resumed redemption), whose debit and notification are
// then new: the debit builds on head and the notification is inserted
// without looking for its key first.
func (s *Service) complete(ctx context.Context, p *program.Program, r *Redemption, reward *Reward, head *ledger.Entry) (*Redemption, error) {
	if reward.PerMemberLimit > 0 {
		ok, err := s.rewards.claimSlot(ctx, fmt.Sprintf("limit:%s:%s", reward.ID.Hex(), r.MemberID.Hex()), reward.PerMemberLimit, r.ID)
		if err != nil {
			return nil, err
		}
		if !ok && !s.holdsSlot(ctx, r.ID, "limit:") {
			return nil, s.fail(ctx, r, ErrLimitReached)
		}
	}
	if reward.Stock != nil {
		ok, err := s.rewards.claimSlot(ctx, "stock:"+reward.ID.Hex(), *reward.Stock, r.ID)
		if err != nil {
			return nil, err
		}
		if !ok && !s.holdsSlot(ctx, r.ID, "stock:") {
			return nil, s.fail(ctx, r, ErrOutOfStock)
		}
	}
	e, _, err := s.ledger.AppendAfter(ctx, p, r.MemberID, head, "redeem:"+r.ID.Hex(), ledger.EntryRedeem, ledger.Source{Kind: ledger.SourceRedemption, ID: r.ID.Hex()},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			if st.Available(now) < r.Cost {
				return false, ledger.ErrInsufficientPoints
			}
			st.Debit(e, r.Cost, now, true, nil)
			e.Reason = "Redeemed " + reward.Name
			e.Lines = []ledger.Line{{Rule: "redemption", Points: -r.Cost, Reason: fmt.Sprintf("%s for %d points", reward.Name, r.Cost)}}
			return true, nil
		})
	if errors.Is(err, ledger.ErrInsufficientPoints) {
		return nil, s.fail(ctx, r, err)
	}
	if err != nil {
		return nil, err
	}
	return r, s.completed(ctx, []*ledger.Entry{e}, p, r, reward, e, head != nil)
}

// completed carries out a paid redemption's effects (the leaderboards of
// entries, then the notification keyed by the debit e), then marks it
// completed: until it is, a retry (or SweepRedemptions) carries them out
// again from their keys. fresh says the redemption was just made, so the
// notification's key is new (inbox.Message.Fresh).
func (s *Service) completed(ctx context.Context, entries []*ledger.Entry, p *program.Program, r *Redemption, reward *Reward, e *ledger.Entry, fresh bool) error {
	note := inbox.Message{MemberID: r.MemberID, Kind: inbox.KindRedemption, Key: e.Key, Fresh: fresh, Related: &inbox.Related{Kind: inbox.RelatedRedemption, ID: r.ID.Hex()},
		Template: texts.RedemptionCompleted, Data: map[string]any{"reward": reward.Name, "code": r.Code, "points": r.Cost}}
	if err := s.effects.CarryOut(ctx, p, entries, note); err != nil {
		return err
	}
	if err := s.Emit(ctx, webhook.RedemptionCreated, r, map[string]any{"status": RedemptionCompleted, "createdAt": r.CreatedAt}); err != nil {
		return err
	}
	r.Status = RedemptionCompleted
	return s.rewards.setRedemption(ctx, r.ID, bson.D{{Key: "status", Value: RedemptionCompleted}})
}

// holdsSlot reports whether the redemption already holds a slot of the
// kind (a resumed redemption claimed it before).
func (s *Service) holdsSlot(ctx context.Context, redemptionID bson.ObjectID, prefix string) bool {
	n, err := s.rewards.slots.CountDocuments(ctx, bson.D{
		{Key: "redemptionId", Value: redemptionID},
		{Key: "_id", Value: bson.D{{Key: "$gte", Value: prefix}, {Key: "$lt", Value: prefix + "\xff"}}},
	})
	return err == nil && n > 0
}

// fail records why a redemption failed and frees what it held.
func (s *Service) fail(ctx context.Context, r *Redemption, cause error) error {
	if err := s.rewards.releaseSlots(ctx, r.ID); err != nil {
		return err
	}
	if err := s.rewards.setRedemption(ctx, r.ID, bson.D{{Key: "status", Value: RedemptionFailed}, {Key: "failure", Value: failureName(cause)}}); err != nil {
		return err
	}
	return cause
}

var failures = []error{ErrOutOfStock, ErrLimitReached, ledger.ErrInsufficientPoints}

func failureName(err error) string {
	for _, f := range failures {
		if errors.Is(err, f) {
			return f.Error()
		}
	}
	return err.Error()
}

func failureError(name string) error {
	for _, f := range failures {
		if f.Error() == name {
			return f
		}
	}
	return errors.New(name)
}

// CancelRedemption refunds a completed redemption's points and returns its
// stock. Cancelling twice refunds once. The status moves first, by one
// conditional update from COMPLETED, so a code fulfilled or expired
// meanwhile is never refunded by a cancellation; cancelling again carries
// out what a failure left undone.
func (s *Service) CancelRedemption(ctx context.Context, id bson.ObjectID, reason string) (*Redemption, error) {
	reason, err := input.Line("reason", reason, MaxReason)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	r, err := s.rewards.transition(ctx, bson.D{{Key: "_id", Value: id}}, RedemptionCompleted,
		bson.D{{Key: "status", Value: RedemptionCancelled}, {Key: "cancelledAt", Value: now}, {Key: "cancelReason", Value: reason}})
	if errors.Is(err, errNotInStatus) {
		r, err = s.rewards.redemption(ctx, bson.D{{Key: "_id", Value: id}})
		if err != nil {
			return nil, input.Wrap("id", err)
		}
		if r.Status != RedemptionCancelled {
			return nil, input.Errorf("id", "a %s redemption cannot be cancelled", r.Status)
		}
		reason = r.CancelReason // the first cancellation's
	} else if err != nil {
		return nil, err
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	e, _, err := s.ledger.Append(ctx, &p, r.MemberID, "redeem:"+r.ID.Hex()+":cancel", ledger.EntryRefund, ledger.Source{Kind: ledger.SourceRedemption, ID: r.ID.Hex()},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			e.Reason = "Redemption cancelled"
			e.Lines = []ledger.Line{{Rule: "redemption-cancelled", Points: r.Cost, Reason: reason}}
			st.Credit(e, r.Cost, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
			return true, nil
		})
	if err != nil {
		return nil, err
	}
	if err := s.rewards.releaseSlots(ctx, r.ID); err != nil {
		return nil, err
	}
	note := inbox.Message{MemberID: r.MemberID, Kind: inbox.KindRedemption, Key: e.Key, Related: &inbox.Related{Kind: inbox.RelatedRedemption, ID: r.ID.Hex()},
		Template: texts.RedemptionCancelled, Data: map[string]any{"points": r.Cost, "reason": reason}}
	if err := s.effects.CarryOut(ctx, &p, []*ledger.Entry{e}, note); err != nil {
		return nil, err
	}
	return r, nil
}

// Redemptions lists a member's redemptions, newest first, after the id after.
func (s *Service) Redemptions(ctx context.Context, memberID, after bson.ObjectID, limit int) ([]*Redemption, bool, error) {
	filter := bson.D{{Key: "memberId", Value: memberID}, {Key: "status", Value: bson.D{{Key: "$in", Value: visible}}}}
	if !after.IsZero() {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: after}}})
	}
	return page.Find[*Redemption](ctx, s.rewards.redemptions, filter, options.Find().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "_id", Value: -1}}), limit)
}

// redemptionCode is what the member shows in store (see randcode.Voucher).
func redemptionCode() string { return randcode.Voucher() }

// RewardsByID returns rewards in the order of ids; missing ones are nil.
func (s *Service) RewardsByID(ctx context.Context, ids []bson.ObjectID) ([]*Reward, error) {
	return byid.Find(ctx, s.rewards.rewards, ids, func(r *Reward) bson.ObjectID { return r.ID })
}

// RedemptionsByID returns redemptions in the order of ids; missing ones are
// nil. Redemptions still PENDING or FAILED are left out, as Redemptions
// leaves them out of a member's list.
func (s *Service) RedemptionsByID(ctx context.Context, ids []bson.ObjectID) ([]*Redemption, error) {
	rs, err := byid.Find(ctx, s.rewards.redemptions, ids, func(r *Redemption) bson.ObjectID { return r.ID })
	for i, r := range rs {
		if r != nil && !slices.Contains(visible, r.Status) {
			rs[i] = nil
		}
	}
	return rs, err
}

// Catalog lists the rewards p may see, after the id after: active ones, or
// all of them for those who manage the program.
func (s *Service) Catalog(ctx context.Context, p member.Principal, after bson.ObjectID, limit int) ([]*Reward, bool, error) {
	return s.Rewards(ctx, !program.ManagesProgram(p), after, limit)
}

// For returns rw as p may see it: an inactive reward does not exist
// (ErrRewardNotFound) for members.
func For(p member.Principal, rw *Reward) (*Reward, error) {
	if !rw.Active && !program.ManagesProgram(p) {
		return nil, ErrRewardNotFound
	}
	return rw, nil
}

// stalePending is how long a redemption may stay PENDING before the sweeper
// takes it for abandoned (its process died half-way).
const stalePending = 2 * time.Minute

// SweepRedemptions finishes redemptions abandoned half-way by a crashed
// process: each is completed if its debit went through, or failed and its
// stock and limit slots released. Safe on several instances at once: every
// step is keyed or idempotent.
func (s *Service) SweepRedemptions(ctx context.Context) (int, error) {
	cur, err := s.rewards.redemptions.Find(ctx, bson.D{
		{Key: "status", Value: RedemptionPending},
		{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: s.now().UTC().Add(-stalePending)}}},
	}, options.Find().SetLimit(500))
	if err != nil {
		return 0, err
	}
	var stuck []*Redemption
	if err := cur.All(ctx, &stuck); err != nil {
		return 0, err
	}
	for _, r := range stuck {
		// A debit already written means the member paid: complete it.
		if e, err := s.ledger.ByKey(ctx, r.MemberID, "redeem:"+r.ID.Hex()); err == nil {
			reward, err := s.rewards.get(ctx, r.RewardID)
			if err != nil {
				return 0, err
			}
			p, err := s.program.Get(ctx)
			if err != nil {
				return 0, err
			}
			if err := s.completed(ctx, nil, &p, r, reward, e, false); err != nil {
				return 0, err
			}
			continue
		} else if !errors.Is(err, mongo.ErrNoDocuments) {
			return 0, err
		}
		if err := s.fail(ctx, r, errAbandoned); err != nil && !errors.Is(err, errAbandoned) {
			return 0, err
		}
	}
	return len(stuck), nil
}

var errAbandoned = errors.New("redemption abandoned half-way; try again")
