package game

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/randcode"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/texts"
)

const referralCodeLength = 7 // 31^7 ≈ 27 billion codes

// NormalizeReferralCode upper-cases a code and drops spaces and dashes, so
// "abc-d efg" as typed matches.
func NormalizeReferralCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
}

// emailKey is an address as a person owns it: its canonical form
// (member.NormalizeEmail), the +tag dropped, and for Gmail the dots too, so
// ann+2@gmail.com cannot refer a.nn@gmail.com.
func emailKey(email string) string {
	if canonical, err := member.NormalizeEmail(email); err == nil {
		email = canonical
	} else {
		email = strings.ToLower(strings.TrimSpace(email))
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok {
		return email
	}
	local, _, _ = strings.Cut(local, "+")
	if domain == "gmail.com" || domain == "googlemail.com" {
		local = strings.ReplaceAll(local, ".", "")
		domain = "gmail.com"
	}
	return local + "@" + domain
}

// Account is the member's place in the program beyond the ledger: their
// referral code and who referred them.
type Account struct {
	MemberID   bson.ObjectID  `bson:"_id"`
	Code       string         `bson:"code"`
	ReferrerID *bson.ObjectID `bson:"referrerId,omitempty"`
	EmailKey   string         `bson:"emailKey"`
	// LeaderboardOptOut hides the member on public leaderboards.
	LeaderboardOptOut bool      `bson:"leaderboardOptOut"`
	CreatedAt         time.Time `bson:"createdAt"`
}

// accountID is an account's member, for batches over accounts.
func accountID(a *Account) bson.ObjectID { return a.MemberID }

// ConversionStatus is how a referral ended.
type ConversionStatus string

const (
	ConversionRewarded ConversionStatus = "REWARDED"
	// ConversionCapped: the referrer hit the monthly cap; only the referee was rewarded.
	ConversionCapped   ConversionStatus = "CAPPED"
	ConversionReversed ConversionStatus = "REVERSED"
)

// Conversion is a referee's first qualifying purchase; there is at most one
// per referee.
type Conversion struct {
	RefereeID  bson.ObjectID    `bson:"_id"`
	ReferrerID bson.ObjectID    `bson:"referrerId"`
	ActivityID bson.ObjectID    `bson:"activityId"`
	Status     ConversionStatus `bson:"status"`
	At         time.Time        `bson:"at"`

	RefereeEntry  *ledger.Entry `bson:"-"`
	ReferrerEntry *ledger.Entry `bson:"-"`
}

type accountStore struct {
	accounts    *mongo.Collection
	conversions *mongo.Collection
	slots       *mongo.Collection
}

func newAccountStore(db *mongo.Database) accountStore {
	return accountStore{accounts: db.Collection("accounts"), conversions: db.Collection("referral_conversions"), slots: db.Collection("referral_slots")}
}

const (
	indexAccountCode         = "code_unique"
	indexAccountReferrer     = "referrerId"
	indexAccountLastPurchase = "lastPurchaseAt"
	indexConversionReferer   = "referrerId"
	indexSlotReferee         = "refereeId_unique"
)

func (s accountStore) accountIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "code", Value: 1}}, Options: options.Index().SetName(indexAccountCode).SetUnique(true)},
		{Keys: bson.D{{Key: "referrerId", Value: 1}}, Options: options.Index().SetName(indexAccountReferrer)},
		// The win-back campaign.
		{Keys: bson.D{{Key: "lastPurchaseAt", Value: 1}}, Options: options.Index().SetName(indexAccountLastPurchase)},
	}
}

func (s accountStore) conversionIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "referrerId", Value: 1}}, Options: options.Index().SetName(indexConversionReferer)},
	}
}

func (s accountStore) slotIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// A referee holds at most one of its referrer's monthly slots.
		{Keys: bson.D{{Key: "refereeId", Value: 1}}, Options: options.Index().SetName(indexSlotReferee).SetUnique(true)},
	}
}

func (s accountStore) get(ctx context.Context, memberID bson.ObjectID) (*Account, error) {
	var a Account
	err := s.accounts.FindOne(ctx, bson.D{{Key: "_id", Value: memberID}}).Decode(&a)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func (s accountStore) byCode(ctx context.Context, code string) (*Account, error) {
	var a Account
	err := s.accounts.FindOne(ctx, bson.D{{Key: "code", Value: code}}).Decode(&a)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrReferralNotFound
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// ensure creates the member's account with a fresh unique code, or returns
// the one that exists.
func (s accountStore) ensure(ctx context.Context, memberID bson.ObjectID, email string, referrer *bson.ObjectID, now time.Time) (*Account, error) {
	for range 10 {
		if a, err := s.get(ctx, memberID); err == nil {
			return a, nil
		} else if !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, err
		}
		a := &Account{MemberID: memberID, Code: randcode.New(referralCodeLength), ReferrerID: referrer, EmailKey: emailKey(email), CreatedAt: now}
		_, err := s.accounts.InsertOne(ctx, a)
		if err == nil {
			return a, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, err
		}
		// A code collision (or a concurrent enrol): go round again.
	}
	return nil, errors.New("could not allot a unique referral code")
}

// errSelfReferral is a code whose owner's address is the new member's under
// another spelling (a +tag, dots): the sign-up goes on without a referrer.
// Refusing it would tell anyone who owns a public code: sign up as
// victim+x@… with the code and see whether it is refused.
var errSelfReferral = errors.New("own referral code")

// errReferralUnusable is the one answer to a code that cannot be used,
// whether no member has it or it is the applicant's own: telling them apart
// would let anyone test which e-mail address owns a public code.
var errReferralUnusable = input.Errorf("referralCode", "is not a referral code you can use")

// Referrer checks a referral code given at sign-up by email and returns the
// referrer. The caller validates the rest of the sign-up first. Nothing is
// written.
func (s *Service) Referrer(ctx context.Context, code, email string) (bson.ObjectID, error) {
	code = NormalizeReferralCode(code)
	if len(code) != referralCodeLength || strings.Trim(code, randcode.Alphabet) != "" {
		return bson.ObjectID{}, errReferralUnusable
	}
	a, err := s.accounts.byCode(ctx, code)
	if errors.Is(err, ErrReferralNotFound) {
		return bson.ObjectID{}, errReferralUnusable
	}
	if err != nil {
		return bson.ObjectID{}, err
	}
	if a.EmailKey == emailKey(email) {
		return bson.ObjectID{}, errSelfReferral
	}
	return a.MemberID, nil
}

// Registrar creates member accounts (member.Service).
type Registrar interface {
	ValidateSignUp(in member.SignUp) error
	ByEmail(ctx context.Context, email string) (*member.Member, error)
	SignUp(ctx context.Context, in member.SignUp) (*member.Session, error)
}

// Join signs a new member up with an optional referral code. The order is
// the rule: the other fields are validated first; a bad code refuses the sign-up before anything is written; then
// the account is created, enrolled in the program with its referrer, and
// greeted with a WELCOME notification (keyed, so a retry never greets twice;
// the account exists by then, so a failed greeting is logged, not returned).
func (s *Service) Join(ctx context.Context, accounts Registrar, in member.SignUp, referralCode string) (*member.Session, error) {
	// Every other field is checked before the referral code, so an answer
	// about the code never comes with one about the rest.
	if err := accounts.ValidateSignUp(in); err != nil {
		return nil, err
	}
	var referrer *bson.ObjectID
	if referralCode != "" {
		// A taken address is refused before the code is looked at, so that
		// the owner's address and any other member's answer alike: the
		// answer never ties the public code to its owner's e-mail.
		if _, err := accounts.ByEmail(ctx, in.Email); err == nil {
			return nil, member.ErrEmailTaken
		} else if !errors.Is(err, member.ErrNotFound) {
			return nil, err
		}
		id, err := s.Referrer(ctx, referralCode, in.Email)
		switch {
		case errors.Is(err, errSelfReferral):
			// Joins like anyone else, with no referrer: no reward for either side.
		case err != nil:
			return nil, err
		default:
			referrer = &id
		}
	}
	sess, err := accounts.SignUp(ctx, in)
	if err != nil {
		return nil, err
	}
	if _, err := s.Enroll(ctx, sess.Member, referrer); err != nil {
		return nil, err
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		logError(ctx, "welcome", err, "member", sess.Member.ID.Hex())
		return sess, nil
	}
	s.send(ctx, inbox.Message{MemberID: sess.Member.ID, Kind: inbox.KindWelcome, Key: "welcome", Locale: p.LocaleOf(sess.Member),
		Template: texts.Welcome, Data: map[string]any{"name": sess.Member.DisplayName}})
	return sess, nil
}

// Enroll gives a new member their referral code and records who referred
// them (at most one referrer, set here and never changed).
func (s *Service) Enroll(ctx context.Context, m *member.Member, referrer *bson.ObjectID) (*Account, error) {
	if referrer != nil && *referrer == m.ID {
		return nil, errReferralUnusable
	}
	return s.accounts.ensure(ctx, m.ID, m.Email, referrer, s.now().UTC())
}

// account returns the member's account, creating it for members who
// predate the program.
func (s *Service) account(ctx context.Context, memberID bson.ObjectID) (*Account, error) {
	a, err := s.accounts.get(ctx, memberID)
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	m, err := s.members.Get(ctx, memberID)
	if err != nil {
		return nil, err
	}
	return s.accounts.ensure(ctx, memberID, m.Email, nil, s.now().UTC())
}

// convertReferral rewards both sides the first time a referred member makes
// a qualifying purchase. The conversion document (one per referee) picks
// that purchase; a numbered monthly slot (unique) enforces the referrer's
// cap; the ledger keys make each side's reward happen once.
func (s *Service) convertReferral(ctx context.Context, fx *effects, p *program.Program, m *member.Member, acct *Account, a *Activity) (*Conversion, error) {
	if acct.ReferrerID == nil || a.AmountMinor < p.Referral.MinPurchaseMinor {
		return nil, nil
	}
	now := s.now().UTC()
	c := &Conversion{RefereeID: m.ID, ReferrerID: *acct.ReferrerID, ActivityID: a.ID, Status: ConversionRewarded, At: now}
	if _, err := s.accounts.conversions.InsertOne(ctx, c); mongo.IsDuplicateKeyError(err) {
		var prior Conversion
		if err := s.accounts.conversions.FindOne(ctx, bson.D{{Key: "_id", Value: m.ID}}).Decode(&prior); err != nil {
			return nil, err
		}
		if prior.ActivityID != a.ID {
			return nil, nil // an earlier purchase was the qualifying one
		}
		c = &prior // a replay: finish what may be unfinished
	} else if err != nil {
		return nil, err
	}

	capped, err := s.claimReferralSlot(ctx, p, c)
	if err != nil {
		return nil, err
	}
	if capped && c.Status != ConversionCapped {
		c.Status = ConversionCapped
		if _, err := s.accounts.conversions.UpdateOne(ctx, bson.D{{Key: "_id", Value: c.RefereeID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: ConversionCapped}}}}); err != nil {
			return nil, err
		}
	}
	src := ledger.Source{Kind: ledger.SourceReferral, ID: a.ID.Hex()}
	if p.Referral.RefereePoints > 0 {
		e, _, err := s.appendEntry(ctx, fx, p, m.ID, "referral:referee", ledger.EntryReferral, src,
			referralCredit(p, p.Referral.RefereePoints, "Welcome reward for joining through a friend"))
		if err != nil {
			return nil, err
		}
		c.RefereeEntry = e
		s.announce(fx, p.LocaleOf(m), e)
	}
	if !capped && p.Referral.ReferrerPoints > 0 {
		e, _, err := s.appendEntry(ctx, fx, p, c.ReferrerID, "referral:"+m.ID.Hex(), ledger.EntryReferral,
			ledger.Source{Kind: ledger.SourceReferral, ID: m.ID.Hex()},
			referralCredit(p, p.Referral.ReferrerPoints, m.DisplayName+" made their first purchase"))
		if err != nil {
			return nil, err
		}
		c.ReferrerEntry = e
		s.announce(fx, "", e)
	}
	if err := s.count(ctx, fx, p, c.ReferrerID, CounterReferralsConverted, 1, m.ID.Hex()); err != nil {
		return nil, err
	}
	return c, nil
}

func referralCredit(p *program.Program, points int64, why string) ledger.Change {
	return func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
		e.Reason = "Referral reward"
		e.Lines = []ledger.Line{{Rule: "referral", Points: points, Reason: why}}
		st.Credit(e, points, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
		st.Earn(p, e, points, now)
		return true, nil
	}
}

// claimReferralSlot takes one of the referrer's numbered slots for the
// conversion's month; capped is true when all are taken.
func (s *Service) claimReferralSlot(ctx context.Context, p *program.Program, c *Conversion) (capped bool, err error) {
	if p.Referral.MonthlyCap == 0 {
		return false, nil
	}
	month := ledger.MonthKey(c.At)
	for n := 1; n <= p.Referral.MonthlyCap; n++ {
		_, err := s.accounts.slots.InsertOne(ctx, bson.D{
			{Key: "_id", Value: fmt.Sprintf("%s:%s:%d", c.ReferrerID.Hex(), month, n)},
			{Key: "refereeId", Value: c.RefereeID},
		})
		if err == nil {
			return false, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return false, err
		}
		// Taken: by this referee before (a replay) or by another.
		if n, _ := s.accounts.slots.CountDocuments(ctx, bson.D{{Key: "refereeId", Value: c.RefereeID}}); n > 0 {
			return false, nil
		}
	}
	return true, nil
}

// reverseReferral takes both sides' referral rewards back when the
// qualifying purchase is refunded inside the reversal window.
func (s *Service) reverseReferral(ctx context.Context, fx *effects, p *program.Program, refund, purchase *Activity, record func(*ledger.Entry, bool, error) error) error {
	var c Conversion
	err := s.accounts.conversions.FindOne(ctx, bson.D{{Key: "_id", Value: purchase.MemberID}, {Key: "activityId", Value: purchase.ID}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return err
	}
	if s.now().After(c.At.AddDate(0, 0, p.Referral.ReversalWindowDays)) {
		return nil
	}
	src := ledger.Source{Kind: ledger.SourceActivity, ID: refund.ID.Hex()}
	sides := []struct {
		member bson.ObjectID
		key    string
	}{{c.RefereeID, "referral:referee"}, {c.ReferrerID, "referral:" + c.RefereeID.Hex()}}
	for _, side := range sides {
		earned, err := s.ledger.ByKey(ctx, side.member, side.key)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return err
		}
		e, created, err := s.appendEntry(ctx, fx, p, side.member, side.key+":reversed", ledger.EntryReferral, src,
			func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
				taken := st.Debit(e, earned.Amount, now, true, &earned.ID)
				e.Shortfall = earned.Amount - taken
				st.Earn(p, e, -earned.Amount, now)
				e.Reason = "Referral reward reversed"
				e.Lines = []ledger.Line{{Rule: "referral-reversal", Points: -taken, Reason: "the qualifying purchase " + purchase.ExternalID + " was refunded"}}
				return true, nil
			})
		if side.member == refund.MemberID {
			if err := record(e, created, err); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	}
	_, err = s.accounts.conversions.UpdateOne(ctx, bson.D{{Key: "_id", Value: c.RefereeID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: ConversionReversed}}}})
	return err
}

// ReferralSummary is what `me { referral }` shows.
type ReferralSummary struct {
	Code         string
	Invited      int64
	Converted    int64
	PointsEarned int64
}

// Referral returns the member's referral code and how it has done.
func (s *Service) Referral(ctx context.Context, memberID bson.ObjectID) (*ReferralSummary, error) {
	a, err := s.account(ctx, memberID)
	if err != nil {
		return nil, err
	}
	invited, err := s.accounts.accounts.CountDocuments(ctx, bson.D{{Key: "referrerId", Value: memberID}})
	if err != nil {
		return nil, err
	}
	converted, err := s.accounts.conversions.CountDocuments(ctx, bson.D{{Key: "referrerId", Value: memberID}, {Key: "status", Value: bson.D{{Key: "$ne", Value: ConversionReversed}}}})
	if err != nil {
		return nil, err
	}
	cur, err := s.ledger.Collection().Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "type", Value: ledger.EntryReferral}},
		options.Find().SetProjection(bson.D{{Key: "amount", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var es []struct {
		Amount int64 `bson:"amount"`
	}
	if err := cur.All(ctx, &es); err != nil {
		return nil, err
	}
	var pts int64
	for _, e := range es {
		pts += e.Amount
	}
	return &ReferralSummary{Code: a.Code, Invited: invited, Converted: converted, PointsEarned: pts}, nil
}
