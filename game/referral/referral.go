// Package referral is the member's account in the program and the
// referrals between members. It owns the collections accounts (each
// member's referral code, referrer, leaderboard opt-out and last
// purchase), referral_conversions (a referee's qualifying purchase, one
// per referee) and referral_slots (the referrer's monthly cap, as numbered
// slots claimed by unique inserts).
//
// The rewards are ledger entries keyed by the referee, so each side is
// rewarded once however often a purchase is replayed; Convert and Reverse
// return them for the purchase's effects path to carry out, and the game
// counts the conversion toward the referrer's badges.
package referral

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/randcode"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
	"github.com/regulars/regulars/texts"
)

var ErrReferralNotFound = fault.New(fault.Invalid, "referral code not found")

const codeLength = 7 // 31^7 ≈ 27 billion codes

// NormalizeCode upper-cases a code and drops spaces and dashes, so
// "abc-d efg" as typed matches.
func NormalizeCode(code string) string {
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

// Members is what referrals need of accounts: the address of a member who
// predates the program.
type Members interface {
	Get(ctx context.Context, id bson.ObjectID) (*member.Member, error)
}

// Effects carries out what follows ledger entries and notifications on the
// game's one effects path (see reward.Effects).
type Effects interface {
	CarryOut(ctx context.Context, p *program.Program, entries []*ledger.Entry, notes ...inbox.Message) error
}

// Deps is what referrals use of the rest of the game.
type Deps struct {
	Program program.Store
	Ledger  *ledger.Ledger
	Members Members
	Effects Effects
	// Now is the clock, read at every call.
	Now func() time.Time
}

// Service is the accounts and referrals over one database.
type Service struct {
	Deps
	store store
}

// New returns the accounts and referrals over db.
func New(db *mongo.Database, d Deps) *Service {
	return &Service{Deps: d, store: store{accounts: db.Collection("accounts"), conversions: db.Collection("referral_conversions"), slots: db.Collection("referral_slots")}}
}

type store struct {
	accounts    *mongo.Collection
	conversions *mongo.Collection
	slots       *mongo.Collection
}

const (
	IndexAccountCode         = "code_unique"
	IndexAccountReferrer     = "referrerId"
	IndexAccountLastPurchase = "lastPurchaseAt"
	IndexConversionReferrer  = "referrerId"
	IndexSlotReferee         = "refereeId_unique"
)

// EnsureIndexes creates the indexes of accounts, referral_conversions and
// referral_slots; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return mongoindex.EnsureAll(ctx,
		mongoindex.Set{C: s.store.accounts, Models: []mongo.IndexModel{
			{Keys: bson.D{{Key: "code", Value: 1}}, Options: options.Index().SetName(IndexAccountCode).SetUnique(true)},
			// Invited (Summary).
			{Keys: bson.D{{Key: "referrerId", Value: 1}}, Options: options.Index().SetName(IndexAccountReferrer)},
			// The win-back campaign (IdleSince).
			{Keys: bson.D{{Key: "lastPurchaseAt", Value: 1}}, Options: options.Index().SetName(IndexAccountLastPurchase)},
		}},
		// Converted (Summary).
		mongoindex.Set{C: s.store.conversions, Models: []mongo.IndexModel{{Keys: bson.D{{Key: "referrerId", Value: 1}}, Options: options.Index().SetName(IndexConversionReferrer)}}},
		// A referee holds at most one of its referrer's monthly slots.
		mongoindex.Set{C: s.store.slots, Models: []mongo.IndexModel{{Keys: bson.D{{Key: "refereeId", Value: 1}}, Options: options.Index().SetName(IndexSlotReferee).SetUnique(true)}}},
	)
}

func (s store) get(ctx context.Context, memberID bson.ObjectID) (*Account, error) {
	var a Account
	err := s.accounts.FindOne(ctx, bson.D{{Key: "_id", Value: memberID}}).Decode(&a)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func (s store) byCode(ctx context.Context, code string) (*Account, error) {
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
func (s store) ensure(ctx context.Context, memberID bson.ObjectID, email string, referrer *bson.ObjectID, now time.Time) (*Account, error) {
	for range 10 {
		if a, err := s.get(ctx, memberID); err == nil {
			return a, nil
		} else if !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, err
		}
		a := &Account{MemberID: memberID, Code: randcode.New(codeLength), ReferrerID: referrer, EmailKey: emailKey(email), CreatedAt: now}
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

// errUnusable is the one answer to a code that cannot be used, whether no
// member has it or it is the applicant's own: telling them apart would let
// anyone test which e-mail address owns a public code.
var errUnusable = input.Errorf("referralCode", "is not a referral code you can use")

// Referrer checks a referral code given at sign-up by email and returns the
// referrer. The caller validates the rest of the sign-up first. Nothing is
// written.
func (s *Service) Referrer(ctx context.Context, code, email string) (bson.ObjectID, error) {
	code = NormalizeCode(code)
	if len(code) != codeLength || strings.Trim(code, randcode.Alphabet) != "" {
		return bson.ObjectID{}, errUnusable
	}
	a, err := s.store.byCode(ctx, code)
	if errors.Is(err, ErrReferralNotFound) {
		return bson.ObjectID{}, errUnusable
	}
	if err != nil {
		return bson.ObjectID{}, err
	}
	if a.EmailKey == emailKey(email) {
		return bson.ObjectID{}, errSelfReferral
	}
	return a.MemberID, nil
}

// Registrar creates member accounts (member/auth.Service signs up, and
// looks the address up in member.Service).
type Registrar interface {
	ValidateSignUp(in member.SignUp) error
	ByEmail(ctx context.Context, email string) (*member.Member, error)
	SignUp(ctx context.Context, in member.SignUp) (*auth.Session, error)
}

// Join signs a new member up with an optional referral code. The order is
// the rule: the other fields are validated first; a bad code refuses the
// sign-up before anything is written; then the account is created,
// enrolled in the program with its referrer, and greeted with a WELCOME
// notification (keyed, so a retry never greets twice; the account exists
// by then, so a failed greeting is logged, not returned).
func (s *Service) Join(ctx context.Context, accounts Registrar, in member.SignUp, referralCode string) (*auth.Session, error) {
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
	p, err := s.Program.Get(ctx)
	if err == nil {
		// Fresh: the member was just made, so the greeting is inserted
		// first and its key read only if that collides (a resumed call),
		// sparing each sign-up a read the embedded database makes a scan
		// of every member's notifications.
		err = s.Effects.CarryOut(ctx, &p, nil, inbox.Message{MemberID: sess.Member.ID, Kind: inbox.KindWelcome, Key: "welcome", Fresh: true,
			Locale: p.LocaleOf(sess.Member), Template: texts.Welcome, Data: map[string]any{"name": sess.Member.DisplayName}})
	}
	if err != nil {
		slog.ErrorContext(ctx, "referral: welcome", "member", sess.Member.ID.Hex(), "err", err)
	}
	return sess, nil
}

// Enroll gives a new member their referral code and records who referred
// them (at most one referrer, set here and never changed).
func (s *Service) Enroll(ctx context.Context, m *member.Member, referrer *bson.ObjectID) (*Account, error) {
	if referrer != nil && *referrer == m.ID {
		return nil, errUnusable
	}
	return s.store.ensure(ctx, m.ID, m.Email, referrer, s.Now().UTC())
}

// Account returns the member's account, creating it for members who
// predate the program.
func (s *Service) Account(ctx context.Context, memberID bson.ObjectID) (*Account, error) {
	a, err := s.store.get(ctx, memberID)
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	m, err := s.Members.Get(ctx, memberID)
	if err != nil {
		return nil, err
	}
	return s.store.ensure(ctx, memberID, m.Email, nil, s.Now().UTC())
}

// Purchase is what referrals read of a purchase.
type Purchase struct {
	ID          bson.ObjectID
	MemberID    bson.ObjectID
	ExternalID  string
	AmountMinor int64
}

// Convert rewards both sides the first time a referred member m, whose
// account is acct, makes a qualifying purchase, and returns the conversion
// with the entries it appended (nil when the purchase converts nothing:
// no referrer, too small, or an earlier purchase converted). The
// conversion document (one per referee) picks that purchase; a numbered
// monthly slot (unique) enforces the referrer's cap; the ledger keys make
// each side's reward happen once, so a replay returns the same conversion.
func (s *Service) Convert(ctx context.Context, p *program.Program, m *member.Member, acct *Account, a Purchase) (*Conversion, error) {
	if acct.ReferrerID == nil || a.AmountMinor < p.Referral.MinPurchaseMinor {
		return nil, nil
	}
	c := &Conversion{RefereeID: m.ID, ReferrerID: *acct.ReferrerID, ActivityID: a.ID, Status: ConversionRewarded, At: s.Now().UTC()}
	if _, err := s.store.conversions.InsertOne(ctx, c); mongo.IsDuplicateKeyError(err) {
		var prior Conversion
		if err := s.store.conversions.FindOne(ctx, bson.D{{Key: "_id", Value: m.ID}}).Decode(&prior); err != nil {
			return nil, err
		}
		if prior.ActivityID != a.ID {
			return nil, nil // an earlier purchase was the qualifying one
		}
		c = &prior // a replay: finish what may be unfinished
	} else if err != nil {
		return nil, err
	}

	capped, err := s.claimSlot(ctx, p, c)
	if err != nil {
		return nil, err
	}
	if capped && c.Status != ConversionCapped {
		c.Status = ConversionCapped
		if err := s.setStatus(ctx, c.RefereeID, ConversionCapped); err != nil {
			return nil, err
		}
	}
	if p.Referral.RefereePoints > 0 {
		if c.RefereeEntry, _, err = s.Ledger.Append(ctx, p, m.ID, "referral:referee", ledger.EntryReferral, ledger.Source{Kind: ledger.SourceReferral, ID: a.ID.Hex()},
			credit(p, p.Referral.RefereePoints, "Welcome reward for joining through a friend")); err != nil {
			return nil, err
		}
	}
	if !capped && p.Referral.ReferrerPoints > 0 {
		if c.ReferrerEntry, _, err = s.Ledger.Append(ctx, p, c.ReferrerID, "referral:"+m.ID.Hex(), ledger.EntryReferral, ledger.Source{Kind: ledger.SourceReferral, ID: a.ID.Hex()},
			credit(p, p.Referral.ReferrerPoints, m.DisplayName+" made their first purchase")); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (s *Service) setStatus(ctx context.Context, refereeID bson.ObjectID, status ConversionStatus) error {
	_, err := s.store.conversions.UpdateOne(ctx, bson.D{{Key: "_id", Value: refereeID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: status}}}})
	return err
}

func credit(p *program.Program, points int64, why string) ledger.Change {
	return func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
		e.Reason = "Referral reward"
		e.Lines = []ledger.Line{{Rule: "referral", Points: points, Reason: why}}
		st.Credit(e, points, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
		st.Earn(p, e, points, now)
		return true, nil
	}
}

// claimSlot takes one of the referrer's numbered slots for the
// conversion's month; capped is true when all are taken.
func (s *Service) claimSlot(ctx context.Context, p *program.Program, c *Conversion) (capped bool, err error) {
	if p.Referral.MonthlyCap == 0 {
		return false, nil
	}
	month := ledger.MonthKey(c.At)
	for n := 1; n <= p.Referral.MonthlyCap; n++ {
		_, err := s.store.slots.InsertOne(ctx, bson.D{
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
		if n, _ := s.store.slots.CountDocuments(ctx, bson.D{{Key: "refereeId", Value: c.RefereeID}}); n > 0 {
			return false, nil
		}
	}
	return true, nil
}

// Reverse takes both sides' referral rewards back when purchase, the
// qualifying one, is refunded (by the activity refundID) inside the
// reversal window. It returns the entries it appended or found again,
// each keyed by the reward it reverses, so a replay reverses nothing twice.
func (s *Service) Reverse(ctx context.Context, p *program.Program, refundID bson.ObjectID, purchase Purchase) ([]*ledger.Entry, error) {
	var c Conversion
	err := s.store.conversions.FindOne(ctx, bson.D{{Key: "_id", Value: purchase.MemberID}, {Key: "activityId", Value: purchase.ID}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if s.Now().After(c.At.AddDate(0, 0, p.Referral.ReversalWindowDays)) {
		return nil, nil
	}
	src := ledger.Source{Kind: ledger.SourceActivity, ID: refundID.Hex()}
	var entries []*ledger.Entry
	for _, side := range []struct {
		member bson.ObjectID
		key    string
	}{{c.RefereeID, "referral:referee"}, {c.ReferrerID, "referral:" + c.RefereeID.Hex()}} {
		earned, err := s.Ledger.ByKey(ctx, side.member, side.key)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, err
		}
		e, _, err := s.Ledger.Append(ctx, p, side.member, side.key+":reversed", ledger.EntryReferral, src,
			func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
				taken := st.Debit(e, earned.Amount, now, true, &earned.ID)
				e.Shortfall = earned.Amount - taken
				st.Earn(p, e, -earned.Amount, now)
				e.Reason = "Referral reward reversed"
				e.Lines = []ledger.Line{{Rule: "referral-reversal", Points: -taken, Reason: "the qualifying purchase " + purchase.ExternalID + " was refunded"}}
				return true, nil
			})
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, s.setStatus(ctx, c.RefereeID, ConversionReversed)
}

// Summary is what `me { referral }` shows.
type Summary struct {
	Code         string
	Invited      int64
	Converted    int64
	PointsEarned int64
}

// Summary returns the member's referral code and how it has done.
func (s *Service) Summary(ctx context.Context, memberID bson.ObjectID) (*Summary, error) {
	a, err := s.Account(ctx, memberID)
	if err != nil {
		return nil, err
	}
	invited, err := s.store.accounts.CountDocuments(ctx, bson.D{{Key: "referrerId", Value: memberID}})
	if err != nil {
		return nil, err
	}
	converted, err := s.store.conversions.CountDocuments(ctx, bson.D{{Key: "referrerId", Value: memberID}, {Key: "status", Value: bson.D{{Key: "$ne", Value: ConversionReversed}}}})
	if err != nil {
		return nil, err
	}
	pts, err := s.Ledger.Total(ctx, memberID, ledger.EntryReferral)
	if err != nil {
		return nil, err
	}
	return &Summary{Code: a.Code, Invited: invited, Converted: converted, PointsEarned: pts}, nil
}
