package game

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/accrual"
	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/effects"
	"github.com/regulars/regulars/game/engagement"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/referral"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/game/streak"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/texts"
)

// ActivityInput is an activity as reported.
type ActivityInput struct {
	MemberID    bson.ObjectID
	Kind        program.ActivityKind
	ExternalID  string
	AmountMinor int64
	Currency    string
	OccurredAt  time.Time
	// RefundOf is the externalId of the purchase a REFUND takes back.
	RefundOf string
	Items    []activity.LineItem
	// serverKeyed: the key is the server's, not a client's (the app's
	// check-in, CheckIn, keyed by the member's day), so there is no
	// client request to hold it to: a replay is never a reuse.
	serverKeyed bool
	// community is set by Economy.RecordPost: only the community reports
	// COMMUNITY_POST, keyed by a post it stored.
	community bool
	// member is MemberID's member when the caller has just read it
	// (CheckIn), so it is not read again.
	member *member.Member
	// AnswerFirst lets RecordActivity answer once the activity and its
	// ledger entries are written (with the account and a referral the
	// purchase converts), and carry out its other effects right after,
	// in the background: engagement (counters, the streak, badge levels
	// and their bonus points), leaderboard scores, webhook events and
	// notifications. The result then has no Streak or Badges; everything
	// else is as without it. A caller that reads the member on this
	// instance afterwards sees those effects once Settle returns; the
	// effects are exactly-once as always (each is keyed, and what fails
	// or is cut by a crash is finished by Jobs.ResumeEffects). Ignored
	// on a replay, which answers after finishing what was left.
	AnswerFirst bool
}

// fingerprint digests what an activity's (kind, externalId) stands for:
// the member, amount and currency, when it occurred (to the millisecond,
// as stored), the purchase a refund names and the line items. A replay
// with another fingerprint is another request under a used key.
func (in *ActivityInput) fingerprint() string {
	return ledger.Fingerprint(in.MemberID.Hex(), string(in.Kind), in.ExternalID, in.AmountMinor, in.Currency,
		in.OccurredAt.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano), in.RefundOf, in.Items)
}

// ActivityResult is everything an activity did.
type ActivityResult struct {
	Activity *activity.Activity
	// Entries are the activity's effects on the member's ledger.
	Entries []*ledger.Entry
	// Referral is the referral outcome when this purchase qualified one.
	Referral *referral.Conversion
	// Streak is what the activity did to the member's streak (nil: it
	// does not count toward streaks), and StreakCurrent the streak after it.
	Streak        *streak.Event
	StreakCurrent int
	// Badges are the badge levels the activity unlocked.
	Badges []engagement.EarnedBadge
	// Replayed says the activity had been recorded before; nothing changed.
	Replayed bool
	// head is the member's ledger head as read just before a new activity
	// was recorded (nil: none read, or a replay), so its first entry is
	// appended without reading it again (ledger.AppendAfter).
	head *ledger.Entry
	// answerFirst: the effects after the ledger may be left to the
	// background (ActivityInput.AnswerFirst).
	answerFirst bool
}

// Points is the net change of the member's points.
func (r *ActivityResult) Points() int64 {
	var n int64
	for _, e := range r.Entries {
		n += e.Amount
	}
	return n
}

// TierChange is the tier move the activity caused, if any.
func (r *ActivityResult) TierChange() *ledger.TierChange {
	var from, to string
	for _, e := range r.Entries {
		if e.TierChange != nil {
			if from == "" {
				from = e.TierChange.From
			}
			to = e.TierChange.To
		}
	}
	if to == "" || from == to {
		return nil
	}
	return &ledger.TierChange{From: from, To: to}
}

const (
	maxExternalID = 128
	maxItems      = 200
	// futureSkew tolerates clocks that run a little ahead.
	futureSkew  = 5 * time.Minute
	maxLateDays = 366
)

func (in *ActivityInput) validate(p *program.Program, now time.Time) error {
	if !in.Kind.Valid() {
		return input.Errorf("kind", "unknown kind %q", in.Kind)
	}
	if (in.Kind == program.ActivityCommunityPost) != in.community {
		return input.Errorf("kind", "%s is recorded by the community when a member posts", program.ActivityCommunityPost)
	}
	var err error
	if in.ExternalID, err = input.Identifier("externalId", in.ExternalID, maxExternalID); err != nil {
		return err
	}
	if in.RefundOf != "" {
		if in.RefundOf, err = input.Identifier("refundOf", in.RefundOf, maxExternalID); err != nil {
			return err
		}
	}
	switch {
	case in.OccurredAt.IsZero():
		return input.Errorf("occurredAt", "is required")
	case in.OccurredAt.After(now.Add(futureSkew)):
		return input.Errorf("occurredAt", "is in the future")
	case in.OccurredAt.Before(now.AddDate(0, 0, -maxLateDays)):
		return input.Errorf("occurredAt", "is more than %d days ago", maxLateDays)
	case len(in.Items) > maxItems:
		return input.Errorf("items", "at most %d line items", maxItems)
	}
	money := in.Kind == program.ActivityPurchase || in.Kind == program.ActivityRefund
	if money {
		in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
		switch {
		case in.AmountMinor <= 0:
			return input.Errorf("amountMinor", "must be positive for a %s", in.Kind)
		case in.AmountMinor > program.MaxAmountMinor:
			return input.Errorf("amountMinor", "must be at most %d", program.MaxAmountMinor)
		case !program.ValidISO(in.Currency):
			return input.Errorf("currency", "%q is not an ISO 4217 currency", in.Currency)
		case in.Currency != p.Currency:
			return input.Errorf("currency", "the program earns in %s, not %s", p.Currency, in.Currency)
		}
	} else if in.AmountMinor != 0 || in.Currency != "" {
		return input.Errorf("amountMinor", "a %s has no amount", in.Kind)
	}
	if in.Kind == program.ActivityPurchase {
		if most := p.MostPoints(in.AmountMinor); most > program.MaxActivityPoints {
			return input.Errorf("amountMinor", "could earn up to %d points under this program; one activity earns at most %d", most, program.MaxActivityPoints)
		}
	}
	if in.Kind == program.ActivityRefund && strings.TrimSpace(in.RefundOf) == "" {
		return input.Errorf("refundOf", "a REFUND names the purchase it refunds")
	}
	if in.Kind != program.ActivityRefund && in.RefundOf != "" {
		return input.Errorf("refundOf", "only a REFUND refunds a purchase")
	}
	for i, it := range in.Items {
		f := fmt.Sprintf("items[%d]", i)
		if in.Items[i].SKU, err = input.Identifier(f+".sku", it.SKU, maxExternalID); err != nil {
			return err
		}
		if it.Category != "" {
			if in.Items[i].Category, err = input.Identifier(f+".category", it.Category, maxExternalID); err != nil {
				return err
			}
		}
		switch {
		case it.Quantity <= 0 || it.Quantity > program.MaxQuantity:
			return input.Errorf(f+".quantity", "must be between 1 and %d", program.MaxQuantity)
		case it.PriceMinor < 0 || it.PriceMinor > program.MaxAmountMinor:
			return input.Errorf(f+".priceMinor", "must be between 0 and %d", program.MaxAmountMinor)
		}
	}
	return nil
}

// RecordActivity ingests an activity exactly once: a replay of (kind,
// externalId), however many at once, returns the original result and
// changes nothing. A replay also finishes what a crashed first attempt
// left undone, since every effect has its own key.
func (s *Service) RecordActivity(ctx context.Context, in ActivityInput) (*ActivityResult, error) {
	now := s.now().UTC()
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(&p, now); err != nil {
		return nil, err
	}
	m := in.member
	if m == nil {
		m, err = s.members.Get(ctx, in.MemberID)
	}
	if err == nil && m.DeletedAt != nil {
		err = member.ErrNotFound // a deleted member earns nothing more (a QR shown before the deletion, say)
	}
	if errors.Is(err, member.ErrNotFound) {
		return nil, input.Wrap("memberId", err)
	}
	if err != nil {
		return nil, err
	}
	var head *ledger.Entry
	if in.Kind == program.ActivityPurchase {
		if head, err = s.roomFor(ctx, in.MemberID, "amountMinor", p.MostPoints(in.AmountMinor)); err != nil {
			return nil, err
		}
	}
	a := &activity.Activity{
		ID: bson.NewObjectID(), Kind: in.Kind, ExternalID: in.ExternalID, MemberID: in.MemberID,
		AmountMinor: in.AmountMinor, Currency: in.Currency, OccurredAt: in.OccurredAt.UTC().Truncate(time.Millisecond), Items: in.Items, CreatedAt: now.Truncate(time.Millisecond),
		EffectsPending: true, Fingerprint: in.fingerprint(),
	}
	if head != nil {
		// The tier the purchase's own entry will be evaluated in, when it
		// is appended to this head (applyLedger corrects it otherwise):
		// written with the activity, so a dry run has it without a
		// snapshot.
		a.Tier = p.TierOf(head.State.Tier.Name)
	}
	if in.Kind == program.ActivityCheckIn {
		loc := m.Location()
		a.CheckInDay = in.MemberID.Hex() + ":" + loc.String() + ":" + a.OccurredAt.In(loc).Format(time.DateOnly)
	}
	var purchase *activity.Activity
	if in.Kind == program.ActivityRefund {
		purchase, err = s.acts.ByExternalID(ctx, program.ActivityPurchase, in.RefundOf)
		if errors.Is(err, activity.ErrNotFound) {
			return nil, input.Wrap("refundOf", err)
		}
		if err != nil {
			return nil, err
		}
		if purchase.MemberID != in.MemberID {
			return nil, input.Errorf("refundOf", "purchase %q is another member's", in.RefundOf)
		}
		a.RefundOf = &purchase.ID
	}

	replayed := false
	if err := s.acts.Insert(ctx, a); errors.Is(err, activity.ErrDuplicate) {
		prior, err := s.acts.ByExternalID(ctx, in.Kind, in.ExternalID)
		if errors.Is(err, activity.ErrNotFound) && a.CheckInDay != "" {
			// Another report of the member's check-in that day: the app's
			// checkIn and the brand's CHECK_IN count once between them.
			prior, err = s.acts.ByCheckInDay(ctx, a.CheckInDay)
		}
		if err != nil {
			return nil, err
		}
		if prior.MemberID != in.MemberID {
			return nil, input.Wrap("externalId", fmt.Errorf("%s %q was recorded for another member: %w", in.Kind, in.ExternalID, ledger.ErrIdempotencyReuse))
		}
		if !in.serverKeyed && prior.ExternalID == in.ExternalID && prior.Fingerprint != "" && prior.Fingerprint != a.Fingerprint {
			return nil, input.Wrap("externalId", fmt.Errorf("%s %q: %w", in.Kind, in.ExternalID, ledger.ErrIdempotencyReuse))
		}
		a, replayed = prior, true
		if a.RefundOf != nil {
			if purchase, err = s.acts.ByID(ctx, *a.RefundOf); err != nil {
				return nil, err
			}
		}
	} else if err != nil {
		return nil, err
	}

	res := &ActivityResult{Activity: a, Replayed: replayed}
	if !replayed {
		res.head = head
		res.answerFirst = in.AnswerFirst
	}
	if err := s.applyAll(ctx, &p, m, a, purchase, res); err != nil {
		if errors.Is(err, accrual.ErrRefundExceedsPurchase) && !replayed {
			// Refused on the one check only the ledger can make, before
			// any effect was written: take the activity back out. Any
			// other failure leaves it marked effectsPending, so a retry
			// replays it and ResumeEffects finishes it: what was written
			// stays written once.
			if delErr := s.acts.Delete(ctx, a.ID); delErr != nil {
				return nil, errors.Join(err, delErr)
			}
		}
		return nil, err
	}
	if replayed {
		// The result is what the ledger holds for this activity, whoever wrote it.
		if res.Entries, err = s.ledger.BySource(ctx, a.MemberID, a.ID.Hex()); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// applyAll carries out the activity's effects and then clears its
// EffectsPending mark. With res.answerFirst those after the ledger are
// left to the background when it has room (afterAnswer), and the result
// is returned without them.
func (s *Service) applyAll(ctx context.Context, p *program.Program, m *member.Member, a *activity.Activity, purchase *activity.Activity, res *ActivityResult) error {
	fx := &effects.Cause{Activity: a, Fresh: !res.Replayed}
	if err := s.applyLedger(ctx, fx, p, m, a, purchase, res); err != nil {
		return err
	}
	ea := engagement.Activity{ID: a.ID, Kind: a.Kind, AmountMinor: a.AmountMinor, OccurredAt: a.OccurredAt, New: !res.Replayed}
	if ea.New {
		ea.LedgerHead = newestOf(res.Entries, m.ID)
	}
	pending := a.EffectsPending
	rest := func(ctx context.Context, out *ActivityResult) error {
		if err := s.engage(ctx, p, m, ea, fx, out); err != nil {
			return err
		}
		if err := s.path.Run(ctx, p, fx); err != nil {
			return err
		}
		if !pending {
			return nil
		}
		return s.acts.Done(ctx, a.ID)
	}
	// In the background the rest fills a result of its own: the caller
	// reads res as soon as it is returned. A failure (most often a
	// database too busy to answer in time) is tried again a few times as
	// ResumeEffects would, from the keys, before it is left to that job.
	if res.answerFirst && s.after.Go(m.ID, a.ID, func(ctx context.Context) error {
		err := rest(ctx, &ActivityResult{})
		for _, wait := range afterAnswerRetries {
			if err == nil || !sleep(ctx, wait) {
				break
			}
			err = s.applyAll(ctx, p, m, a, purchase, &ActivityResult{Activity: a, Replayed: true})
		}
		return err
	}) {
		return nil
	}
	return rest(ctx, res)
}

// ResumeEffects carries out again the effects of activities recorded more
// than grace ago whose effects are still pending (a failed notification, a
// leaderboard write, a crash half-way): every effect is keyed, so what was
// done is not repeated. It runs in the background jobs.
func (j *Jobs) ResumeEffects(ctx context.Context, grace time.Duration) (int, error) {
	pending, err := j.s.acts.Pending(ctx, j.s.now().UTC().Add(-grace), 500)
	if err != nil {
		return 0, err
	}
	p, err := j.s.program.Get(ctx)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, a := range pending {
		m, err := j.s.members.Get(ctx, a.MemberID)
		if err != nil {
			return done, err
		}
		var purchase *activity.Activity
		if a.RefundOf != nil {
			if purchase, err = j.s.acts.ByID(ctx, *a.RefundOf); err != nil {
				return done, err
			}
		}
		if err := j.s.applyAll(ctx, &p, m, a, purchase, &ActivityResult{Activity: a, Replayed: true}); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// engage carries out the activity's engagement (counters, the streak,
// badge levels, keyed), recording in fx what it did and in res the streak
// and the badges it unlocked.
func (s *Service) engage(ctx context.Context, p *program.Program, m *member.Member, ea engagement.Activity, fx *effects.Cause, res *ActivityResult) error {
	e, out, err := s.engagement.Engage(ctx, p, m, ea)
	if err != nil {
		return err
	}
	fx.Engaged(out)
	if e != nil {
		res.Streak, res.StreakCurrent = e.Streak, e.State.Streak.Current
	}
	switch {
	case !fx.Badges(): // without badges in the program there is nothing to look up
	case ea.New:
		// Every award under this activity was made (or found) just now.
		res.Badges = out.Unlocked
	default:
		if res.Badges, err = s.engagement.CausedBy(ctx, m.ID, ea.ID.Hex()); err != nil {
			return err
		}
	}
	return nil
}

// newestOf is the member's entry with the highest number among entries
// (nil: none).
func newestOf(entries []*ledger.Entry, memberID bson.ObjectID) *ledger.Entry {
	var newest *ledger.Entry
	for _, e := range entries {
		if e.MemberID == memberID && (newest == nil || e.Seq > newest.Seq) {
			newest = e
		}
	}
	return newest
}

// applyLedger writes the activity's ledger entries (and the account's
// last purchase), queuing their notifications in fx.
func (s *Service) applyLedger(ctx context.Context, fx *effects.Cause, p *program.Program, m *member.Member, a *activity.Activity, purchase *activity.Activity, res *ActivityResult) error {
	src := ledger.Source{Kind: ledger.SourceActivity, ID: a.ID.Hex()}
	key := "act:" + a.ID.Hex()
	// Notifications carry the entry's key, so announcing again after a
	// crash or on a replay never notifies twice.
	record := func(e *ledger.Entry, _ bool, err error) error {
		if err != nil {
			return err
		}
		if e != nil {
			res.Entries = append(res.Entries, e)
			s.announce(fx, p.LocaleOf(m), e)
		}
		return nil
	}

	set, snap, err := s.ruleInputs(ctx, p, m, a)
	if err != nil {
		return err
	}
	// The program's built-in rules: those of the purchase's own entry are
	// evaluated inside it (earnPurchase); the others each make an entry.
	prog := s.rules.Program(p)
	ra := a.ForRules()
	var own []rules.Line
	year := birthdayYear(m, a)
	if a.Kind != program.ActivityRefund {
		for _, l := range prog.Evaluate(&ra, &rules.Snapshot{BirthdayYear: year}, nil) {
			if !rules.OnPurchaseEntry(l.Rule) {
				own = append(own, l)
			}
		}
	}
	switch a.Kind {
	case program.ActivityPurchase:
		// A new purchase builds on the head read before it was recorded
		// (roomFor); its Change only reads (the position by date).
		earn := accrual.Purchase(ctx, p, prog, s.acts, joinedFrom(m), a, &ra)
		tier := a.Tier
		e, created, err := s.ledger.AppendAfter(ctx, p, a.MemberID, res.head, key, ledger.EntryEarn, src, func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			tier = p.TierOf(st.Tier.Name) // the tier its built-in rules see
			return earn(st, e, now)
		})
		if err == nil {
			fx.Entry(e)
		}
		if err := record(e, created, err); err != nil {
			return err
		}
		if created && tier != a.Tier {
			// Appended to another head than the one read before the
			// insert (a concurrent entry of the member's, or a retry
			// after a crash): the activity says the tier it really was.
			if err := s.acts.SetTier(ctx, a.ID, tier); err != nil {
				return err
			}
			a.Tier = tier
		}
		// One write of the account (the win-back time) answers it for
		// the referral and the leaderboards.
		acct, err := s.referrals.Purchased(ctx, a.MemberID, a.OccurredAt)
		if err != nil {
			return err
		}
		fx.KnownOptOut(a.MemberID, acct.LeaderboardOptOut)
		for _, pr := range p.Promotions {
			for _, l := range own {
				if l.Rule == rules.RulePromotion+pr.ID {
					if err := record(s.appendOwn(ctx, fx, p, a.MemberID, key+":promo:"+pr.ID, ledger.EntryEarn, src, accrual.BuiltIn(p, a, l, pr.Name))); err != nil {
						return err
					}
				}
			}
		}
		conv, err := s.convertReferral(ctx, fx, p, m, acct, a)
		if err != nil {
			return err
		}
		res.Referral = conv
		if conv != nil && conv.RefereeEntry != nil {
			res.Entries = append(res.Entries, conv.RefereeEntry)
		}
	case program.ActivityRefund:
		if err := record(s.appendEntry(ctx, fx, p, a.MemberID, key, ledger.EntryRefund, src, accrual.Refund(ctx, p, s.ledger, a, purchase))); err != nil {
			return err
		}
		reversed, err := s.referrals.Reverse(ctx, p, a.ID, referral.Purchase{ID: purchase.ID, MemberID: purchase.MemberID, ExternalID: purchase.ExternalID})
		if err != nil {
			return err
		}
		for _, e := range reversed {
			fx.Entry(e)
			if e.MemberID == a.MemberID {
				if err := record(e, false, nil); err != nil {
					return err
				}
			}
		}
	case program.ActivityCommunityPost:
		if err := record(s.appendOwn(ctx, fx, p, a.MemberID, key, ledger.EntryEarn, src, accrual.CommunityPost(p, m, a))); err != nil {
			return err
		}
	default: // check-in, review, event attendance: their points
		for _, l := range own {
			if l.Rule != rules.RuleBirthday {
				if err := record(s.appendOwn(ctx, fx, p, a.MemberID, key, ledger.EntryEarn, src, accrual.BuiltIn(p, a, l, "Points for your "+l.Rule))); err != nil {
					return err
				}
			}
		}
	}
	if err := s.applyRules(ctx, fx, p, a, set, snap, record); err != nil {
		return err
	}
	for _, l := range own {
		if l.Rule == rules.RuleBirthday {
			// Once a year, keyed by the year of the member's birthday month.
			e, fresh, err := s.appendEntry(ctx, fx, p, m.ID, "birthday:"+strconv.Itoa(year), ledger.EntryEarn,
				ledger.Source{Kind: ledger.SourceBirthday, ID: a.ID.Hex()}, accrual.BuiltIn(p, a, l, "Happy birthday!"))
			if err == nil && e != nil && e.Source.ID != a.ID.Hex() {
				return nil // the year's bonus came with an earlier activity: not this one's entry
			}
			return record(e, fresh, err)
		}
	}
	return nil
}

// entryRelated points a notification at the ledger entry it tells of (for
// a tier change, the entry that moved the member's tier).
func entryRelated(e *ledger.Entry) *inbox.Related {
	return &inbox.Related{Kind: inbox.RelatedLedgerEntry, ID: e.ID.Hex()}
}

// announce queues the notifications of an entry that changed the member's
// points or tier, in locale ("": the member's).
func (s *Service) announce(fx *effects.Cause, locale string, e *ledger.Entry) {
	if e.Amount > 0 {
		fx.Notify(inbox.Message{MemberID: e.MemberID, Kind: inbox.KindRewardEarned, Key: e.Key, Locale: locale, Related: entryRelated(e),
			Template: texts.PointsEarned, Data: map[string]any{"points": e.Amount, "reason": e.Reason, "balance": e.State.Balance}})
	}
	if e.TierChange != nil && e.TierChange.From != "" {
		fx.Notify(inbox.Message{MemberID: e.MemberID, Kind: inbox.KindTierChanged, Key: "tier:" + e.Key, Locale: locale, Related: entryRelated(e),
			Template: texts.TierChanged, Data: map[string]any{"from": e.TierChange.From, "to": e.TierChange.To}})
	}
}

// convertReferral converts the referral of m, if this purchase is the one
// that qualifies it (referral.Convert): both sides' rewards are entries of
// the purchase's cause, announced, and the conversion counts toward the
// referrer's badges.
func (s *Service) convertReferral(ctx context.Context, fx *effects.Cause, p *program.Program, m *member.Member, acct *referral.Account, a *activity.Activity) (*referral.Conversion, error) {
	c, err := s.referrals.Convert(ctx, p, m, acct, referral.Purchase{ID: a.ID, MemberID: a.MemberID, ExternalID: a.ExternalID, AmountMinor: a.AmountMinor})
	if err != nil || c == nil {
		return nil, err
	}
	if e := c.RefereeEntry; e != nil {
		fx.Entry(e)
		s.announce(fx, p.LocaleOf(m), e)
	}
	if e := c.ReferrerEntry; e != nil {
		fx.Entry(e)
		s.announce(fx, "", e)
	}
	out, err := s.engagement.Add(ctx, p, c.ReferrerID, engagement.CounterReferralsConverted, 1, m.ID.Hex())
	if err != nil {
		return nil, err
	}
	fx.Engaged(out)
	return c, nil
}

// roomFor refuses, naming field, a credit of up to points that could take
// the member's balance past program.MaxBalance. (The ledger refuses such a
// credit too, ErrBalanceCap, should two credits race past this check.)
// It returns the member's head entry it read.
func (s *Service) roomFor(ctx context.Context, memberID bson.ObjectID, field string, points int64) (*ledger.Entry, error) {
	head, err := s.ledger.Newest(ctx, memberID)
	if err != nil {
		return nil, err
	}
	if head.State.Balance+points > program.MaxBalance {
		return nil, input.Errorf(field, "would take the balance past %d points (now %d)", program.MaxBalance, head.State.Balance)
	}
	return head, nil
}

// CheckIn records the signed-in member's app check-in, once per day: a day
// is a calendar date in the member's timezone at the moment, and after a
// change of timezone the days since the last check-in are counted as the
// streak counts them (streak.PeriodsBetween), so a move neither grants a
// second check-in within one lived day nor refuses the next day's. A
// check-in within the day of the last one answers that one, replayed; so
// does one the brand already reported that day as a CHECK_IN activity
// (Activity.CheckInDay). With answerFirst, a new check-in is answered
// before its effects past the ledger, as ActivityInput.AnswerFirst says.
func (s *Service) CheckIn(ctx context.Context, memberID bson.ObjectID, answerFirst bool) (*ActivityResult, error) {
	m, err := s.members.Get(ctx, memberID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	last, err := s.acts.LastOfKind(ctx, memberID, program.ActivityCheckIn)
	if err != nil && !errors.Is(err, activity.ErrNotFound) {
		return nil, err
	}
	if last != nil {
		lastLoc := m.Location()
		if tz, ok := checkInZone(last.ExternalID); ok {
			if loc, err := time.LoadLocation(tz); err == nil {
				lastLoc = loc
			}
		}
		if streak.PeriodsBetween(program.StreakDaily, last.OccurredAt, lastLoc, now, m.Location()) <= 0 {
			return s.RecordActivity(ctx, ActivityInput{
				MemberID: memberID, Kind: program.ActivityCheckIn, ExternalID: last.ExternalID, OccurredAt: last.OccurredAt, serverKeyed: true, member: m,
				AnswerFirst: answerFirst,
			})
		}
	}
	// Keyed by zone and date: no two check-ins share a date of one zone.
	day := now.In(m.Location()).Format(time.DateOnly)
	return s.RecordActivity(ctx, ActivityInput{
		MemberID: memberID, Kind: program.ActivityCheckIn, ExternalID: "app:" + memberID.Hex() + ":" + m.Location().String() + ":" + day, OccurredAt: now,
		serverKeyed: true, member: m, AnswerFirst: answerFirst,
	})
}

// checkInZone reads the zone out of a check-in's key ("app:<member>:<zone>:<date>");
// keys from before zones were recorded ("app:<member>:<date>") have none.
func checkInZone(externalID string) (string, bool) {
	parts := strings.Split(externalID, ":")
	if len(parts) != 4 {
		return "", false
	}
	return parts[2], true
}

// RecordEventAttendance records a member's attendance at an event as an
// EVENT_ATTENDANCE activity keyed by the RSVP (rsvpID), through the same
// path as a purchase: eventAttendancePoints, the EVENTS_ATTENDED counter
// and streak credit, once however often it is reported
// (community/events.Activities).
func (g *Economy) RecordEventAttendance(ctx context.Context, memberID bson.ObjectID, rsvpID string, at time.Time) error {
	_, err := g.s.RecordActivity(ctx, ActivityInput{MemberID: memberID, Kind: program.ActivityEventAttendance, ExternalID: "rsvp:" + rsvpID, OccurredAt: at})
	return err
}

// joinedFrom is when a member's purchases start to count toward escalation
// and the first-purchase bonus (rules.JoinedFrom of their join date).
func joinedFrom(m *member.Member) time.Time { return rules.JoinedFrom(m.CreatedAt) }

// birthdayYear is the year of the member's birthday month in which a earns
// the birthday reward (rules.Snapshot.BirthdayYear), 0 for none: a is
// dated and recorded in that month, in the member's timezone, and is no
// refund; a purchase must count (dated from their join: rules.Counted). So
// a purchase dated the day before the month began, or one of an imported
// history, earns none.
func birthdayYear(m *member.Member, a *activity.Activity) int {
	if m.Birthday == nil || a.Kind == program.ActivityRefund ||
		(a.Kind == program.ActivityPurchase && !rules.Counted(a.OccurredAt, joinedFrom(m))) {
		return 0
	}
	loc := m.Location()
	y := rules.BirthdayYear(a.CreatedAt, loc, m.Birthday.Month)
	if y == 0 || rules.BirthdayYear(a.OccurredAt, loc, m.Birthday.Month) != y {
		return 0
	}
	return y
}
