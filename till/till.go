// Package till is what a store's till needs to know who stands at it: each
// member's card, a short printed code for typing and a QR payload that
// rotates, and Identify, which turns either back into the member with their
// tier and spendable points. It owns the collection member_codes.
//
// The printed code is 10 characters of Crockford's base32 (no I, L, O or U;
// typed in any case, with or without the hyphen, I and L read as 1, O as 0),
// 9 random and one Luhn mod 32 check character, so a mistyped character or
// two neighbours swapped (but 0 and Z) are refused before any look-up. It
// is given lazily, the first time the member's card is read (so existing
// members need no migration), and is unique (the collection's _id).
//
// The QR payload is "RQ1." and base64url of the member id, an expiry (Unix
// seconds) and an HMAC-SHA-256 over both with the server's secret: it is
// valid QRLifetime (60 s), so a screenshot shared in a group chat stops
// working, and cannot be forged.
package till

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/member"
)

// QRLifetime is how long a QR payload identifies its member.
const QRLifetime = 60 * time.Second

// ErrMemberNotFound answers a well-formed code that names no member.
var ErrMemberNotFound = fault.New(fault.NotFound, "no member has this code")

// ExpiredQR refuses a QR payload past its expiry: BAD_USER_INPUT on code
// with extensions.reason QR_EXPIRED and extensions.expiredAt, so the till
// can ask the member to show their card again.
type ExpiredQR struct{ At time.Time }

func (e *ExpiredQR) Error() string {
	return fmt.Sprintf("the QR code expired at %s: ask the member to show their card again", e.At.UTC().Format(time.RFC3339))
}

// ErrorCode is Invalid: the code sent no longer identifies anyone.
func (e *ExpiredQR) ErrorCode() fault.Code { return fault.Invalid }

// Extensions say it expired, and when.
func (e *ExpiredQR) Extensions() map[string]any {
	return map[string]any{"reason": "QR_EXPIRED", "expiredAt": e.At.UTC().Format(time.RFC3339)}
}

// Members is what the till needs of accounts.
type Members interface {
	Get(ctx context.Context, id bson.ObjectID) (*member.Member, error)
}

// Standing is a member's tier and spendable points, from the game.
type Standing interface {
	Standing(ctx context.Context, memberID bson.ObjectID) (tier string, availablePoints int64, err error)
}

// Service is the members' cards over one database.
type Service struct {
	codes    *mongo.Collection
	secret   []byte
	members  Members
	standing Standing
	now      func() time.Time
}

// New returns the cards over db; secret keys the QR payloads' HMAC (at
// least 32 bytes, the same on every instance); now is the clock.
func New(db *mongo.Database, secret []byte, members Members, standing Standing, now func() time.Time) *Service {
	return &Service{codes: db.Collection("member_codes"), secret: secret, members: members, standing: standing, now: now}
}

const indexCodeMember = "memberId_unique"

// EnsureIndexes creates the indexes of member_codes (the code is the _id,
// unique by itself; one code per member); safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return mongoindex.Ensure(ctx, s.codes, mongo.IndexModel{Keys: bson.D{{Key: "memberId", Value: 1}},
		Options: options.Index().SetName(indexCodeMember).SetUnique(true)})
}

// EraseMember retires a deleted member's card: its code identifies no one
// any more (identifyMember answers NOT_FOUND). Safe to repeat.
func (s *Service) EraseMember(ctx context.Context, memberID bson.ObjectID) error {
	_, err := s.codes.DeleteMany(ctx, bson.D{{Key: "memberId", Value: memberID}})
	return err
}

// Card is what the member shows at the till.
type Card struct {
	// Code is printed on the card, as XXXXX-XXXXX.
	Code string
	// QRPayload is the text of the QR code, valid until QRExpiresAt.
	QRPayload   string
	QRExpiresAt time.Time
}

type codeDoc struct {
	Code      string        `bson:"_id"` // canonical: 10 characters, no hyphen
	MemberID  bson.ObjectID `bson:"memberId"`
	CreatedAt time.Time     `bson:"createdAt"`
}

// Card returns the member's card, giving them a code the first time (a
// concurrent first read gets the same one), with a fresh QR payload.
func (s *Service) Card(ctx context.Context, memberID bson.ObjectID) (*Card, error) {
	code, err := s.code(ctx, memberID)
	if err != nil {
		return nil, err
	}
	exp := s.now().Add(QRLifetime).Truncate(time.Second)
	return &Card{Code: code[:5] + "-" + code[5:], QRPayload: s.qr(memberID, exp), QRExpiresAt: exp.UTC()}, nil
}

func (s *Service) code(ctx context.Context, memberID bson.ObjectID) (string, error) {
	for {
		var d codeDoc
		err := s.codes.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}}).Decode(&d)
		if err == nil {
			return d.Code, nil
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return "", err
		}
		// A duplicate is either this member's code given at the same
		// moment (read it next round) or another member's code (draw again).
		_, err = s.codes.InsertOne(ctx, codeDoc{Code: newCode(), MemberID: memberID, CreatedAt: s.now().UTC()})
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return "", err
		}
	}
}

// Identified is the member at the till: enough to greet them and say what
// they can spend.
type Identified struct {
	MemberID        bson.ObjectID
	DisplayName     string
	Tier            string
	AvailablePoints int64
	// ByQR tells a QR payload from a typed code.
	ByQR bool
}

// Identify returns the member a printed code or a QR payload names.
// Refusals, all naming the field code: a malformed code or a wrong check
// character, and a QR payload not signed by this server, BAD_USER_INPUT;
// an expired QR payload *ExpiredQR; a well-formed code nobody has
// ErrMemberNotFound (NOT_FOUND).
func (s *Service) Identify(ctx context.Context, code string) (*Identified, error) {
	memberID, byQR, err := s.parse(ctx, code)
	if err != nil {
		return nil, err
	}
	m, err := s.members.Get(ctx, memberID)
	if errors.Is(err, member.ErrNotFound) || (err == nil && m.DeletedAt != nil) {
		// A QR shown before the member's deletion names them still.
		return nil, input.Wrap("code", ErrMemberNotFound)
	} else if err != nil {
		return nil, err
	}
	tier, points, err := s.standing.Standing(ctx, memberID)
	if err != nil {
		return nil, err
	}
	return &Identified{MemberID: memberID, DisplayName: m.DisplayName, Tier: tier, AvailablePoints: points, ByQR: byQR}, nil
}

const qrPrefix = "RQ1."

// maxCode bounds what Identify reads: a QR payload is 63 characters.
const maxCode = 100

func (s *Service) parse(ctx context.Context, code string) (bson.ObjectID, bool, error) {
	code = strings.TrimSpace(code)
	if len(code) > maxCode {
		return bson.ObjectID{}, false, input.Errorf("code", "is not a member code (at most %d characters)", maxCode)
	}
	if strings.HasPrefix(code, qrPrefix) {
		id, err := s.parseQR(code)
		return id, true, err
	}
	c, err := canonical(code)
	if err != nil {
		return bson.ObjectID{}, false, err
	}
	var d codeDoc
	err = s.codes.FindOne(ctx, bson.D{{Key: "_id", Value: c}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return bson.ObjectID{}, false, input.Wrap("code", ErrMemberNotFound)
	}
	return d.MemberID, false, err
}

// qr is the payload naming memberID until exp.
func (s *Service) qr(memberID bson.ObjectID, exp time.Time) string {
	raw := make([]byte, 0, 12+8+qrMAC)
	raw = append(raw, memberID[:]...)
	raw = binary.BigEndian.AppendUint64(raw, uint64(exp.Unix()))
	return qrPrefix + base64.RawURLEncoding.EncodeToString(append(raw, s.mac(raw)...))
}

// qrMAC is how many bytes of HMAC-SHA-256 a QR payload carries.
const qrMAC = 16

func (s *Service) mac(raw []byte) []byte {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte("regulars/member-card/v1"))
	h.Write(raw)
	return h.Sum(nil)[:qrMAC]
}

func (s *Service) parseQR(code string) (bson.ObjectID, error) {
	raw, err := base64.RawURLEncoding.DecodeString(code[len(qrPrefix):])
	if err != nil || len(raw) != 20+qrMAC || !hmac.Equal(raw[20:], s.mac(raw[:20])) {
		return bson.ObjectID{}, input.Errorf("code", "is not a QR code of this program's member cards")
	}
	var id bson.ObjectID
	copy(id[:], raw[:12])
	exp := time.Unix(int64(binary.BigEndian.Uint64(raw[12:20])), 0)
	if !s.now().Before(exp) {
		return bson.ObjectID{}, input.Wrap("code", &ExpiredQR{At: exp})
	}
	return id, nil
}

// crockford is Crockford's base32 alphabet.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// codeLen is a printed code's length without its hyphen: 9 random
// characters (45 bits) and a check character.
const codeLen = 10

func newCode() string {
	b := make([]byte, codeLen-1)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = crockford[b[i]&31]
	}
	return string(b) + string(crockford[check(string(b))])
}

// check is the Luhn mod 32 check character's value of digits: it catches
// any one mistyped character and any two adjacent ones swapped, but for
// 0 and Z (Luhn's blind spot, as 09 and 90 in the decimal one).
func check(digits string) int {
	sum, factor := 0, 2
	for i := len(digits) - 1; i >= 0; i-- {
		add := factor * strings.IndexByte(crockford, digits[i])
		sum += add/32 + add%32
		factor = 3 - factor
	}
	return (32 - sum%32) % 32
}

// canonical reads a typed code as Crockford's base32 reads it (case
// ignored, I and L as 1, O as 0, hyphens and spaces skipped) and checks
// its length and check character: BAD_USER_INPUT on code otherwise.
func canonical(code string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'I' || r == 'L':
			r = '1'
		case r == 'O':
			r = '0'
		}
		if r > 0x7f || strings.IndexByte(crockford, byte(r)) < 0 {
			return "", input.Errorf("code", "is not a member code: %q is not one of its characters (0-9 and A-Z without I, L, O, U)", r)
		}
		b.WriteRune(r)
	}
	c := b.String()
	if len(c) != codeLen {
		return "", input.Errorf("code", "is not a member code: it has %d characters, not %d (XXXXX-XXXXX)", len(c), codeLen)
	}
	if crockford[check(c[:codeLen-1])] != c[codeLen-1] {
		return "", input.Errorf("code", "is not a member code: a character is mistyped (its check character does not match)")
	}
	return c, nil
}

// ErrNotYourCard refuses a member's card to anyone but the member.
var ErrNotYourCard = fault.New(fault.Forbidden, "only the member may read their card")
