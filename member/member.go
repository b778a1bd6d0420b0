// Package member holds members' profiles and roles, who a caller is
// (Principal) and whose data they may reach (policy.go). Signing in
// (passwords, tokens, sessions, the log-in back-off, emailed links) is in
// member/auth.
package member

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // timezones must validate even in a container without zoneinfo
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/texts"
)

// Role is what a signed-in caller may do beyond their own data.
type Role string

const (
	RoleCustomer  Role = "CUSTOMER"
	RoleModerator Role = "MODERATOR"
	RoleBrand     Role = "BRAND"
	// RoleStaff checks members in at the door of the brand's events.
	RoleStaff Role = "STAFF"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleCustomer || r == RoleModerator || r == RoleBrand || r == RoleStaff
}

// Limits on profile fields.
const (
	MaxDisplayName = 50
	MaxAvatarURL   = 2048
	MaxEmail       = 254
)

var (
	ErrNotFound   = fault.New(fault.NotFound, "member not found")
	ErrEmailTaken = fault.New(fault.Conflict, "email already registered")
)

// ErrSessionEnded answers a change or a live connection (a socket) of a
// member whose account is deleted or being deleted, or whose session
// ended (member/auth's CheckSession): they must sign in again.
var ErrSessionEnded = fault.New(fault.Unauthenticated, "session ended: sign in again")

// Date is a calendar date without a time or zone, such as a birthday.
type Date struct {
	Year  int        `bson:"year"`
	Month time.Month `bson:"month"`
	Day   int        `bson:"day"`
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("want a date as YYYY-MM-DD, got %q", s)
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Member is a customer or staff account of the brand's app.
type Member struct {
	ID           bson.ObjectID `bson:"_id"`
	Email        string        `bson:"email"`
	PasswordHash []byte        `bson:"passwordHash"`
	DisplayName  string        `bson:"displayName"`
	// NameKey is DisplayName as Search compares it (nameKey).
	NameKey          string `bson:"nameKey"`
	AvatarURL        string `bson:"avatarUrl,omitempty"`
	Birthday         *Date  `bson:"birthday,omitempty"`
	Timezone         string `bson:"timezone"`
	MarketingConsent bool   `bson:"marketingConsent"`
	// Locale picks the language of the member's notifications (one of
	// texts.Locales); empty: the program's.
	Locale    string    `bson:"locale,omitempty"`
	Roles     []Role    `bson:"roles"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
	// Unannounced is set when the member signs up and cleared once the
	// member.created webhook event is written (Unannounced, Announced):
	// the sign-up's own document is its outbox, so a crash loses none.
	Unannounced bool `bson:"unannounced,omitempty"`
	// EmailVerifiedAt is when the member proved they read Email (VerifyEmail,
	// or a password reset); nil: not verified.
	EmailVerifiedAt *time.Time `bson:"emailVerifiedAt,omitempty"`
	// DeletedAt is when the member's deletion began; ErasedAt when their
	// personal data was gone (EraseMember, last of the erasers).
	DeletedAt *time.Time `bson:"deletedAt,omitempty"`
	ErasedAt  *time.Time `bson:"erasedAt,omitempty"`
}

// EmailVerified reports whether the member proved they read their address.
func (m *Member) EmailVerified() bool { return m.EmailVerifiedAt != nil }

// Location is the member's timezone; their day starts and ends there.
func (m *Member) Location() *time.Location {
	loc, err := time.LoadLocation(m.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// NormalizeEmail returns the canonical form of an address and checks it:
// trimmed, the whole address in Unicode NFC, the local part lower-cased, and
// the domain in IDNA's lookup form (lower-case ASCII, "xn--" labels for
// non-ASCII names). Two addresses that print the same have one canonical
// form, and every look-up (sign-up, log-in, uniqueness, referral checks)
// uses it. Errors are input errors on "email".
//
// The local part is refused, rather than cleaned, if it holds a character
// that prints nothing or reorders text (controls, format characters such
// as U+200B zero-width space, U+00AD soft hyphen, U+2060 word joiner and
// the bidi controls, variation selectors, other default-ignorable code
// points, blanks other than the ASCII space), or a compatibility character
// that NFKC would replace (full-width ｊｏｓé, ligatures such as ﬁ,
// superscripts): such an address prints like another one, and the mailbox
// it names is not the look-alike's, so neither mapping it nor keeping it
// is safe. The domain needs no such check: IDNA's lookup maps ignorable
// and full-width characters away and refuses bidi controls.
func NormalizeEmail(raw string) (string, error) {
	e := norm.NFC.String(strings.TrimSpace(raw))
	if e == "" {
		return "", input.Errorf("email", "is required")
	}
	if !utf8.ValidString(e) || len(e) > 4*MaxEmail {
		return "", input.Errorf("email", "is not a valid email address")
	}
	at := strings.LastIndexByte(e, '@')
	if at <= 0 {
		return "", input.Errorf("email", "is not a valid email address")
	}
	for _, r := range e[:at] {
		if unprintable(r) {
			return "", input.Errorf("email", "must not contain invisible or formatting characters (%U)", r)
		}
	}
	if local := e[:at]; norm.NFKC.String(local) != local {
		return "", input.Errorf("email", "must not contain full-width or other compatibility characters: type it in plain letters")
	} else if mixedScripts(local) {
		return "", input.Errorf("email", "must not mix letters of different alphabets (such as Latin and Cyrillic) before the @")
	}
	domain, err := idna.Lookup.ToASCII(e[at+1:])
	if err != nil || !strings.Contains(domain, ".") {
		return "", input.Errorf("email", "is not a valid email address")
	}
	e = strings.ToLower(e[:at]) + "@" + strings.ToLower(domain)
	if n := utf8.RuneCountInString(e); n > MaxEmail {
		return "", input.Errorf("email", "must be at most %d characters", MaxEmail)
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e {
		return "", input.Errorf("email", "is not a valid email address")
	}
	return e, nil
}

// confusableScripts are the alphabets whose letters print alike; a local
// part mixing them (a Cyrillic а among Latin letters) looks like another
// member's address. This is the single-script restriction of Unicode
// Technical Standard #39 for these scripts; one alphabet alone is fine.
var confusableScripts = []*unicode.RangeTable{unicode.Latin, unicode.Cyrillic, unicode.Greek, unicode.Armenian, unicode.Cherokee}

// mixedScripts says whether s has letters of more than one of
// confusableScripts.
func mixedScripts(s string) bool {
	seen := -1
	for _, r := range s {
		for i, t := range confusableScripts {
			if unicode.Is(t, r) {
				if seen >= 0 && seen != i {
					return true
				}
				seen = i
			}
		}
	}
	return false
}

// unprintable reports whether r prints nothing or only changes how the
// text around it is shown.
func unprintable(r rune) bool {
	return r != ' ' && (unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Z, unicode.Variation_Selector,
		unicode.Other_Default_Ignorable_Code_Point, unicode.Bidi_Control, unicode.Join_Control) ||
		r == '\u2800' || r == utf8.RuneError)
}

// validDisplayName applies the text policy (input.Text): a display name
// shows on leaderboards, so it may neither be invisible nor reorder text.
func validDisplayName(name string) (string, error) {
	return input.Line("displayName", name, MaxDisplayName)
}

// ValidTimezone checks an IANA zone name such as Europe/Paris.
func ValidTimezone(tz string) error {
	if tz == "" {
		return input.Errorf("timezone", "is required (an IANA name such as Europe/Paris)")
	}
	// LoadLocation accepts "Local" and paths; only real zone names make sense here.
	if tz == "Local" || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
		return input.Errorf("timezone", "%q is not an IANA timezone", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return input.Errorf("timezone", "%q is not an IANA timezone", tz)
	}
	return nil
}

// ValidLocale checks a locale the member's notifications can be written in
// (texts.Locales); empty means the program's.
func ValidLocale(locale string) error {
	if locale != "" && !texts.Supported(locale) {
		return input.Errorf("locale", "unsupported locale %q; supported: %s", locale, strings.Join(texts.Locales, ", "))
	}
	return nil
}

func validAvatarURL(raw string) error {
	if raw == "" {
		return nil
	}
	if len(raw) > MaxAvatarURL {
		return input.Errorf("avatarUrl", "must be at most %d characters", MaxAvatarURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return input.Errorf("avatarUrl", "must be an http or https URL")
	}
	return nil
}

func validBirthday(d *Date, now time.Time) error {
	if d == nil {
		return nil
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	if t.Year() != d.Year || t.Month() != d.Month || t.Day() != d.Day {
		return input.Errorf("birthday", "is not a calendar date")
	}
	if t.After(now) || d.Year < now.Year()-130 {
		return input.Errorf("birthday", "must be in the past 130 years")
	}
	return nil
}
