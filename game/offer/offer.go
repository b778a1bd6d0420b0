// Package offer is members-only offers: the brand defines one (a benefit
// and who it targets), publishes it (every targeted member notified once, in
// resumable batches), and members claim its coupon, once. It owns the
// collections offers and offer_claims. A coupon's points price or bonus is a
// ledger entry keyed by the offer, carried out on the game's one effects
// path (Effects); who the members are and what targeting asks of them come
// from the game through Audience and Facts.
package offer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/holdout"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/batch"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/randcode"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/webhook"
)

var (
	ErrOfferNotFound    = fault.New(fault.NotFound, "offer not found")
	ErrOfferUnavailable = fault.New(fault.Conflict, "offer not running now")
)

// Audience is who offers reach: the members with a game account, walked in
// id order.
type Audience interface {
	// Count estimates how many members there are.
	Count(ctx context.Context) (int64, error)
	// Step runs work on the next size members after the member id after,
	// up to workers at once, and reports how far it got (see internal/batch).
	Step(ctx context.Context, after bson.ObjectID, size, workers int, work func(ctx context.Context, memberID bson.ObjectID) (bool, error)) (batch.Result, error)
	// Enroll gives the member a game account if they have none yet, so a
	// member who never bought may still list and claim offers.
	Enroll(ctx context.Context, memberID bson.ObjectID) error
}

// Facts answers what targeting asks of a member; each is asked only when an
// offer targets by it.
type Facts interface {
	// HasBadge reports whether the member has earned the badge.
	HasBadge(ctx context.Context, memberID, badgeID bson.ObjectID) (bool, error)
	// BadgeExists reports whether the brand has such a badge.
	BadgeExists(ctx context.Context, badgeID bson.ObjectID) (bool, error)
	// LastPurchase is when the member last bought (zero: never).
	LastPurchase(ctx context.Context, memberID bson.ObjectID) (time.Time, error)
}

// Members is what offers need of accounts: birthdays and timezones.
type Members interface {
	Get(ctx context.Context, id bson.ObjectID) (*member.Member, error)
}

// Notifier announces a published offer to members.
type Notifier interface {
	Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error)
	// SendBatch sends a batch of messages (inbox.Inbox.SendBatch): ns[i]
	// is message i's notification, nil if its member muted offers; done
	// counts the messages, from the first, that are settled.
	SendBatch(ctx context.Context, ms []inbox.Message) (ns []*inbox.Notification, done int, err error)
}

// Effects carries out what follows ledger entries (their leaderboard
// scores) on the game's one effects path; see reward.Effects.
type Effects interface {
	CarryOut(ctx context.Context, p *program.Program, entries []*ledger.Entry, notes ...inbox.Message) error
}

// Deps is what the offers use of the rest of the game.
type Deps struct {
	Program  program.Store
	Ledger   *ledger.Ledger
	Members  Members
	Audience Audience
	Facts    Facts
	Notify   Notifier
	Effects  Effects
	// Holdouts records who a publication reaches and who it holds out.
	Holdouts *holdout.Store
	// Kick wakes the background jobs when an offer starts publishing.
	Kick func()
	// Changed, if set, is told an offer's id after this instance changed
	// its status or progress, so live views (game/offer/offerlive) read it
	// at once. It must return at once.
	Changed func(id bson.ObjectID)
	// Now is the clock, read at every call.
	Now func() time.Time
	// Webhooks records events for the brand's endpoints (nil: none):
	// coupon.redeemed, keyed by the coupon.
	Webhooks Webhooks
}

// Webhooks records events for the brand's endpoints (webhook.Service),
// keyed by cause: emitting again changes nothing.
type Webhooks interface {
	Emit(ctx context.Context, e webhook.Event) error
}

// Service is the offers over one database.
type Service struct {
	Deps
	offers offerStore
}

// New returns the offers over db.
func New(db *mongo.Database, d Deps) *Service {
	return &Service{Deps: d, offers: offerStore{offers: db.Collection("offers"), claims: db.Collection("offer_claims")}}
}

func (s *Service) now() time.Time { return s.Now() }

func (s *Service) changed(id bson.ObjectID) {
	if s.Changed != nil {
		s.Changed(id)
	}
}

// EnsureIndexes creates the indexes of offers and offer_claims; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	if err := mongoindex.Ensure(ctx, s.offers.offers, append(s.offers.offerIndexes(), s.offers.listIndexes()...)...); err != nil {
		return err
	}
	return mongoindex.Ensure(ctx, s.offers.claims, s.offers.claimIndexes()...)
}

// BenefitKind is what an offer gives.
type BenefitKind string

const (
	BenefitPercentOff  BenefitKind = "PERCENT_OFF"  // Value: percent
	BenefitAmountOff   BenefitKind = "AMOUNT_OFF"   // Value: minor units of the program currency
	BenefitBonusPoints BenefitKind = "BONUS_POINTS" // Value: points credited on claim
	BenefitPointsPrice BenefitKind = "POINTS_PRICE" // Value: points the coupon costs
)

// Benefit is an offer's benefit.
type Benefit struct {
	Kind  BenefitKind `bson:"kind"`
	Value int64       `bson:"value"`
}

// Targeting says who an offer is for; every condition given must hold.
// With none, the offer is for everyone.
type Targeting struct {
	Tiers             []string        `bson:"tiers,omitempty"`
	BadgeID           *bson.ObjectID  `bson:"badgeId,omitempty"`
	BirthdayThisMonth bool            `bson:"birthdayThisMonth,omitempty"`
	InactiveDays      int             `bson:"inactiveDays,omitempty"`
	Members           []bson.ObjectID `bson:"members,omitempty"`
}

// OfferStatus is where an offer stands.
type OfferStatus string

const (
	OfferDraft      OfferStatus = "DRAFT"
	OfferPublishing OfferStatus = "PUBLISHING"
	OfferPublished  OfferStatus = "PUBLISHED"
)

// Progress is how far publishing got.
type Progress struct {
	Notified     int64 `bson:"notified"`
	batch.Cursor `bson:",inline"`
}

// Offer is a members-only offer the brand publishes.
type Offer struct {
	ID              bson.ObjectID `bson:"_id"`
	Title           string        `bson:"title"`
	Body            string        `bson:"body"`
	ImageURL        string        `bson:"imageUrl,omitempty"`
	Benefit         Benefit       `bson:"benefit"`
	StartsAt        time.Time     `bson:"startsAt"`
	EndsAt          time.Time     `bson:"endsAt"`
	CouponValidDays int           `bson:"couponValidDays"`
	Target          Targeting     `bson:"target"`
	// HoldoutPercent of targeted members (0 to holdout.MaxPercent) are
	// held out: not notified, not offered (game/holdout draws them).
	HoldoutPercent int         `bson:"holdoutPercent,omitempty"`
	Status         OfferStatus `bson:"status"`
	Progress       Progress    `bson:"progress"`
	CreatedAt      time.Time   `bson:"createdAt"`
}

// OfferInput is an offer as the brand defines it.
type OfferInput struct {
	Title           string
	Body            string
	ImageURL        string
	Benefit         Benefit
	StartsAt        time.Time
	EndsAt          time.Time
	CouponValidDays int
	Target          Targeting
	HoldoutPercent  int
}

func (s *Service) validateOffer(ctx context.Context, in *OfferInput) error {
	var err error
	if in.Title, err = input.Line("title", in.Title, inbox.MaxTitle); err != nil {
		return err
	}
	if in.Body, err = input.Paragraph("body", in.Body, inbox.MaxBody); err != nil {
		return err
	}
	switch {
	case len(in.ImageURL) > 2048 || (in.ImageURL != "" && !strings.HasPrefix(in.ImageURL, "https://")):
		return input.Errorf("imageUrl", "must be an https URL")
	case !in.EndsAt.After(in.StartsAt):
		return input.Errorf("endsAt", "must be after the start")
	case in.CouponValidDays < 1 || in.CouponValidDays > 365:
		return input.Errorf("couponValidDays", "must be between 1 and 365")
	case in.Target.InactiveDays < 0 || in.Target.InactiveDays > 3650:
		return input.Errorf("target.inactiveDays", "must be between 0 and 3650")
	case in.HoldoutPercent < 0 || in.HoldoutPercent > holdout.MaxPercent:
		return input.Errorf("holdoutPercent", "must be between 0 and %d", holdout.MaxPercent)
	case len(in.Target.Members) > 10000:
		return input.Errorf("target.members", "at most 10000 members; target a tier or badge for more")
	}
	switch b := in.Benefit; b.Kind {
	case BenefitPercentOff:
		if b.Value < 1 || b.Value > 100 {
			return input.Errorf("benefit.value", "a percentage from 1 to 100")
		}
	case BenefitAmountOff, BenefitBonusPoints, BenefitPointsPrice:
		if b.Value < 1 || b.Value > program.MaxPoints {
			return input.Errorf("benefit.value", "must be between 1 and %d", program.MaxPoints)
		}
	default:
		return input.Errorf("benefit.kind", "unknown benefit %q", b.Kind)
	}
	p, err := s.Program.Get(ctx)
	if err != nil {
		return err
	}
	for i, t := range in.Target.Tiers {
		if _, ok := p.TierNamed(t); !ok {
			return input.Errorf(fmt.Sprintf("target.tiers[%d]", i), "no tier is called %q", t)
		}
	}
	if id := in.Target.BadgeID; id != nil {
		if ok, err := s.Facts.BadgeExists(ctx, *id); err != nil {
			return err
		} else if !ok {
			return input.Errorf("target.badgeId", "no such badge")
		}
	}
	return nil
}

type offerStore struct {
	offers *mongo.Collection
	claims *mongo.Collection
}

const (
	indexOfferStatus = "status_endsAt"
	indexClaimMember = "member_claimedAt"
	indexClaimExpiry = "expiresAt"
	indexClaimCode   = "code_unique"
	indexClaimOrder  = "redemption_order"
	indexClaimUsed   = "redemption_at"
)

func (s offerStore) offerIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{{Keys: bson.D{{Key: "status", Value: 1}, {Key: "endsAt", Value: 1}}, Options: options.Index().SetName(indexOfferStatus)}}
}

func (s offerStore) claimIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "claimedAt", Value: -1}}, Options: options.Index().SetName(indexClaimMember)},
		{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: options.Index().SetName(indexClaimExpiry)},
		// The till looks a coupon up by its code.
		{Keys: bson.D{{Key: "code", Value: 1}}, Options: options.Index().SetName(indexClaimCode).SetUnique(true)},
		// Offer revenue: the coupons used on an order (the purchase's externalId).
		{Keys: bson.D{{Key: "redemption.orderExternalId", Value: 1}}, Options: options.Index().SetName(indexClaimOrder).SetSparse(true)},
		// AnnounceCouponRedemptions finds uses a crash left unannounced.
		{Keys: bson.D{{Key: "redemption.at", Value: 1}}, Options: options.Index().SetName(indexClaimUsed).SetSparse(true)},
	}
}

func (s offerStore) get(ctx context.Context, id bson.ObjectID) (*Offer, error) {
	var o Offer
	err := s.offers.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&o)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrOfferNotFound
	}
	return &o, err
}

// CreateOffer stores an offer as a draft.
func (s *Service) CreateOffer(ctx context.Context, in OfferInput) (*Offer, error) {
	if err := s.validateOffer(ctx, &in); err != nil {
		return nil, err
	}
	o := &Offer{ID: bson.NewObjectID(), Title: in.Title, Body: in.Body, ImageURL: in.ImageURL, Benefit: in.Benefit,
		StartsAt: in.StartsAt, EndsAt: in.EndsAt, CouponValidDays: in.CouponValidDays, Target: in.Target,
		HoldoutPercent: in.HoldoutPercent, Status: OfferDraft, CreatedAt: s.now().UTC()}
	_, err := s.offers.offers.InsertOne(ctx, o)
	return o, err
}

// PublishOffer starts notifying every eligible member and returns at once;
// PublishOffers (the background job) does the sending, with progress on the offer.
func (s *Service) PublishOffer(ctx context.Context, id bson.ObjectID) (*Offer, error) {
	o, err := s.offers.get(ctx, id)
	if err != nil {
		return nil, input.Wrap("id", err)
	}
	if o.Status != OfferDraft {
		return o, nil // publishing is idempotent
	}
	total, err := s.Audience.Count(ctx)
	if err != nil {
		return nil, err
	}
	o.Status, o.Progress.Total = OfferPublishing, total
	if _, err := s.offers.offers.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: OfferDraft}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: o.Status}, {Key: "progress.total", Value: total}}}}); err != nil {
		return nil, err
	}
	s.changed(id)
	if s.Kick != nil {
		s.Kick()
	}
	return o, nil
}

// PublishOffers sends the next batch of every offer being published. Each
// member's notification is keyed by the offer, so a crash or two instances
// at once never notify anyone twice; muted members are skipped.
func (s *Service) PublishOffers(ctx context.Context, batch int) (int, error) {
	cur, err := s.offers.offers.Find(ctx, bson.D{{Key: "status", Value: OfferPublishing}})
	if err != nil {
		return 0, err
	}
	var publishing []*Offer
	if err := cur.All(ctx, &publishing); err != nil {
		return 0, err
	}
	sent := 0
	for _, o := range publishing {
		for {
			n, done, err := s.publishBatch(ctx, o, batch)
			sent += n
			if err != nil || done || ctx.Err() != nil {
				if err != nil {
					return sent, err
				}
				break
			}
		}
	}
	return sent, nil
}

func (s *Service) publishBatch(ctx context.Context, o *Offer, size int) (int, bool, error) {
	p, err := s.Program.Get(ctx)
	if err != nil {
		return 0, false, err
	}
	// Targeting may read a member's tier, badges or last purchase, so the
	// members of a batch are walked in parallel; the batch's holdout draws
	// and notifications are then written together, a few round trips per
	// batch, not per member. Every write is keyed, so a retry repeats
	// nothing, and progress moves past the members up to the first failure
	// (internal/batch), so a batch that keeps failing somewhere still advances.
	var mu sync.Mutex
	var walked []walkedMember
	r, stepErr := s.Audience.Step(ctx, o.Progress.After, size, publishWorkers,
		func(ctx context.Context, memberID bson.ObjectID) (bool, error) {
			ok, err := s.targets(ctx, &p, o, memberID)
			if err == nil {
				mu.Lock()
				walked = append(walked, walkedMember{memberID, ok})
				mu.Unlock()
			}
			return ok, err
		})
	// Step walks members in id order and completes those up to r.Last.
	walked = slices.DeleteFunc(walked, func(w walkedMember) bool { return r.Done == 0 || bytes.Compare(w.id[:], r.Last[:]) > 0 })
	slices.SortFunc(walked, func(a, b walkedMember) int { return bytes.Compare(a.id[:], b.id[:]) })
	settled, notified, sendErr := s.announceTo(ctx, o, walked)
	if settled < len(walked) {
		// Progress stops before the first member not yet announced to.
		r = batch.Result{Done: settled, Finished: false}
		if settled > 0 {
			r.Last = walked[settled-1].id
		}
	}
	r.Counted = notified
	if r.Moved() {
		o.Progress.Advance(r)
		o.Progress.Notified += int64(r.Counted)
		set := bson.D{{Key: "progress", Value: o.Progress}}
		if r.Finished {
			o.Status = OfferPublished
			set = append(set, bson.E{Key: "status", Value: OfferPublished})
		}
		if _, err := s.offers.offers.UpdateOne(ctx, bson.D{{Key: "_id", Value: o.ID}}, bson.D{{Key: "$set", Value: set}}); err != nil {
			return r.Counted, false, err
		}
		s.changed(o.ID)
	}
	return r.Counted, r.Finished, errors.Join(sendErr, stepErr)
}

// walkedMember is a member a publishing batch walked, and whether the
// offer targets them.
type walkedMember struct {
	id       bson.ObjectID
	targeted bool
}

// announceTo draws the holdout of the targeted members among walked and
// notifies the others, for the whole batch at once. settled counts the
// members, from the first, that are done with (announced to, held out,
// muted or not targeted); notified counts those announced to among them.
func (s *Service) announceTo(ctx context.Context, o *Offer, walked []walkedMember) (settled, notified int, err error) {
	var targeted []bson.ObjectID
	for _, w := range walked {
		if w.targeted {
			targeted = append(targeted, w.id)
		}
	}
	held := map[bson.ObjectID]bool{}
	if s.Holdouts != nil && len(targeted) > 0 {
		groups, err := s.Holdouts.AssignAll(ctx, Campaign(o.ID), "offer:"+o.ID.Hex(), targeted, o.HoldoutPercent, s.now())
		if err != nil {
			return 0, 0, err
		}
		for id, g := range groups {
			held[id] = g == holdout.Held
		}
	}
	var ms []inbox.Message
	at := map[bson.ObjectID]int{} // a member's message
	for _, id := range targeted {
		if !held[id] {
			at[id] = len(ms)
			ms = append(ms, inbox.Message{MemberID: id, Kind: inbox.KindOfferAvailable, Key: "offer:" + o.ID.Hex(),
				Title: o.Title, Body: o.Body, DeepLink: "app://offers/" + o.ID.Hex(), Related: &inbox.Related{Kind: inbox.RelatedOffer, ID: o.ID.Hex()},
				ExpiresAt: &o.EndsAt})
		}
	}
	ns, done, err := s.Notify.SendBatch(ctx, ms)
	for _, w := range walked {
		if i, ok := at[w.id]; ok {
			if i >= done {
				break
			}
			if ns[i] != nil {
				notified++
			}
		}
		settled++
	}
	return settled, notified, err
}

// publishWorkers is how many members of a batch are notified at once.
const publishWorkers = 16

// Campaign is the offer's campaign name: the key of its holdout draw.
func Campaign(id bson.ObjectID) string { return "offer:" + id.Hex() }

// eligible reports whether the offer is for the member now: it targets
// them and they are not in its holdout.
func (s *Service) eligible(ctx context.Context, p *program.Program, o *Offer, memberID bson.ObjectID) (bool, error) {
	if holdout.Draw(memberID, Campaign(o.ID), o.HoldoutPercent) {
		return false, nil
	}
	return s.targets(ctx, p, o, memberID)
}

// targets reports whether the offer's targeting takes in the member now.
func (s *Service) targets(ctx context.Context, p *program.Program, o *Offer, memberID bson.ObjectID) (bool, error) {
	t := o.Target
	if len(t.Members) > 0 && !slices.Contains(t.Members, memberID) {
		return false, nil
	}
	if len(t.Tiers) > 0 {
		st, _, err := s.Ledger.Head(ctx, memberID)
		if err != nil {
			return false, err
		}
		ts := ledger.StatusOf(st, p, s.now())
		if !slices.ContainsFunc(t.Tiers, func(n string) bool { return strings.EqualFold(n, ts.Current.Name) }) {
			return false, nil
		}
	}
	if t.BadgeID != nil {
		if has, err := s.Facts.HasBadge(ctx, memberID, *t.BadgeID); err != nil || !has {
			return false, err
		}
	}
	if t.BirthdayThisMonth || t.InactiveDays > 0 {
		m, err := s.Members.Get(ctx, memberID)
		if errors.Is(err, member.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if t.BirthdayThisMonth && (m.Birthday == nil || m.Birthday.Month != s.now().In(m.Location()).Month()) {
			return false, nil
		}
		if t.InactiveDays > 0 {
			last, err := s.Facts.LastPurchase(ctx, memberID)
			if err != nil {
				return false, err
			}
			if !last.IsZero() && last.After(s.now().AddDate(0, 0, -t.InactiveDays)) {
				return false, nil
			}
		}
	}
	return true, nil
}

// OffersFor lists the published offers running now that target the member.
func (s *Service) OffersFor(ctx context.Context, memberID bson.ObjectID) ([]*Offer, error) {
	now := s.now().UTC()
	cur, err := s.offers.offers.Find(ctx, bson.D{
		{Key: "status", Value: bson.D{{Key: "$in", Value: []OfferStatus{OfferPublishing, OfferPublished}}}},
		{Key: "endsAt", Value: bson.D{{Key: "$gt", Value: now}}},
	}, options.Find().SetSort(bson.D{{Key: "status", Value: 1}, {Key: "endsAt", Value: 1}}).SetLimit(200))
	if err != nil {
		return nil, err
	}
	var running []*Offer
	if err := cur.All(ctx, &running); err != nil {
		return nil, err
	}
	if err := s.Audience.Enroll(ctx, memberID); err != nil {
		return nil, err
	}
	p, err := s.Program.Get(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Offer
	for _, o := range running {
		if o.StartsAt.After(now) {
			continue
		}
		ok, err := s.eligible(ctx, &p, o, memberID)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, o)
		}
	}
	return out, nil
}

// Claim is a member's coupon for an offer; one per member and offer.
type Claim struct {
	ID        string        `bson:"_id"` // offer:member
	OfferID   bson.ObjectID `bson:"offerId"`
	MemberID  bson.ObjectID `bson:"memberId"`
	Code      string        `bson:"code"`
	ClaimedAt time.Time     `bson:"claimedAt"`
	ExpiresAt time.Time     `bson:"expiresAt"`
	// Redemption is the coupon's use at the till; nil: not used yet.
	Redemption *CouponRedemption `bson:"redemption,omitempty"`
	// Announced says what follows the use (the member's notification) was
	// carried out; AnnounceCouponRedemptions finishes it after a crash.
	Announced bool `bson:"announced,omitempty"`
}

// ClaimOffer gives the member the offer's coupon, once: claiming again
// returns the same coupon. A points price is paid, bonus points credited,
// each once through the ledger.
func (s *Service) ClaimOffer(ctx context.Context, memberID, offerID bson.ObjectID) (*Claim, error) {
	id := offerID.Hex() + ":" + memberID.Hex()
	var prior Claim
	if err := s.offers.claims.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&prior); err == nil {
		return &prior, nil
	} else if !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	o, err := s.offers.get(ctx, offerID)
	if err != nil {
		return nil, input.Wrap("offerId", err)
	}
	now := s.now().UTC()
	if o.Status == OfferDraft || now.Before(o.StartsAt) || !now.Before(o.EndsAt) {
		return nil, ErrOfferUnavailable
	}
	if err := s.Audience.Enroll(ctx, memberID); err != nil {
		return nil, err
	}
	p, err := s.Program.Get(ctx)
	if err != nil {
		return nil, err
	}
	if ok, err := s.eligible(ctx, &p, o, memberID); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrOfferNotFound // not for this member: as if it did not exist
	}
	key := "offer:" + offerID.Hex()
	switch o.Benefit.Kind {
	case BenefitPointsPrice:
		if err := s.appendOne(ctx, &p, memberID, key, ledger.EntryRedeem, ledger.Source{Kind: ledger.SourceOffer, ID: offerID.Hex()},
			func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
				if st.Available(now) < o.Benefit.Value {
					return false, input.Wrap("offerId", fmt.Errorf("%w: the coupon costs %d", ledger.ErrInsufficientPoints, o.Benefit.Value))
				}
				st.Debit(e, o.Benefit.Value, now, true, nil)
				e.Reason, e.Lines = "Coupon: "+o.Title, []ledger.Line{{Rule: "offer", Points: -o.Benefit.Value, Reason: o.Title}}
				return true, nil
			}); err != nil {
			return nil, err
		}
	case BenefitBonusPoints:
		if err := s.appendOne(ctx, &p, memberID, key, ledger.EntryEarn, ledger.Source{Kind: ledger.SourceOffer, ID: offerID.Hex()},
			func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
				st.Credit(e, o.Benefit.Value, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
				st.Earn(&p, e, o.Benefit.Value, now)
				e.Reason, e.Lines = "Offer: "+o.Title, []ledger.Line{{Rule: "offer", Points: o.Benefit.Value, Reason: o.Title}}
				return true, nil
			}); err != nil {
			return nil, err
		}
	}
	c := &Claim{ID: id, OfferID: offerID, MemberID: memberID, Code: randcode.Voucher(), ClaimedAt: now,
		ExpiresAt: now.AddDate(0, 0, o.CouponValidDays)}
	if _, err := s.offers.claims.InsertOne(ctx, c); mongo.IsDuplicateKeyError(err) {
		return s.ClaimOffer(ctx, memberID, offerID) // a concurrent claim won
	} else if err != nil {
		return nil, err
	}
	return c, nil
}

// Offer returns one offer.
func (s *Service) Offer(ctx context.Context, id bson.ObjectID) (*Offer, error) {
	return s.offers.get(ctx, id)
}

// appendOne appends the claim's one entry and carries out its effects at once.
func (s *Service) appendOne(ctx context.Context, p *program.Program, memberID bson.ObjectID, key string, typ ledger.EntryType, src ledger.Source, ch ledger.Change) error {
	e, _, err := s.Ledger.Append(ctx, p, memberID, key, typ, src, ch)
	if err != nil {
		return err
	}
	return s.Effects.CarryOut(ctx, p, []*ledger.Entry{e})
}

// ClaimsExpiring lists the coupons that expire after from and at or before
// to (the coupon-expiring campaign's reminders).
func (s *Service) ClaimsExpiring(ctx context.Context, from, to time.Time) ([]Claim, error) {
	// A coupon used at the till is done with: nothing to remind of.
	cur, err := s.offers.claims.Find(ctx, bson.D{{Key: "expiresAt", Value: bson.D{
		{Key: "$gt", Value: from}, {Key: "$lte", Value: to}}}, {Key: "redemption", Value: nil}})
	if err != nil {
		return nil, err
	}
	var claims []Claim
	if err := cur.All(ctx, &claims); err != nil {
		return nil, err
	}
	return claims, nil
}
