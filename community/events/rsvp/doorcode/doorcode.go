// Package doorcode makes and reads the codes members show at an event's
// door: the QR code, the event and member ids signed with an HMAC under
// the server's secret, and the short door code typed when no camera reads
// it, drawn at random per RSVP and kept in its door key
// ("<event id>:<code>"). Pure functions: package rsvp stores the keys and
// admits the holders.
package doorcode

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/randcode"
)

// macLen is how many bytes of HMAC-SHA-256 a QR code carries.
const macLen = 12

// Len is the length of a door code: about 39.6 bits of randcode.Alphabet,
// drawn at random (so one event's code tells nothing of another's).
const Len = 8

// Sign returns the QR code of member's answer to event: the two ids with
// an HMAC over them, base64url. It cannot be forged without secret and
// names nothing a stranger could use.
func Sign(secret []byte, event, member bson.ObjectID) string {
	raw := append(event[:], member[:]...)
	return base64.RawURLEncoding.EncodeToString(append(raw, mac(secret, raw)...))
}

func mac(secret, raw []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("regulars/event-check-in/v1"))
	h.Write(raw)
	return h.Sum(nil)[:macLen]
}

// Verify returns the event and member a QR code names; ok is false for
// anything Sign did not make with secret.
func Verify(secret []byte, code string) (event, member bson.ObjectID, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(code)
	if err != nil || len(raw) != 24+macLen || !hmac.Equal(raw[24:], mac(secret, raw[:24])) {
		return event, member, false
	}
	copy(event[:], raw[:12])
	copy(member[:], raw[12:24])
	return event, member, true
}

// NewKey draws the door key of an RSVP to event: "<event hex>:<code>".
func NewKey(event bson.ObjectID) string { return event.Hex() + ":" + randcode.New(Len) }

// Key is the door key the door code typed at event's door names.
func Key(event bson.ObjectID, code string) string { return event.Hex() + ":" + code }

// Show returns a door key's code grouped by four ("K7QM-3XHP"); ok is
// false for a key without one (an RSVP made before door codes).
func Show(key string) (code string, ok bool) {
	_, c, ok := strings.Cut(key, ":")
	if !ok || len(c) != Len {
		return "", false
	}
	return c[:4] + "-" + c[4:], true
}

// Parse returns the canonical door code of what the door typed (upper
// case, no spaces or dashes), and whether it is one.
func Parse(typed string) (string, bool) {
	c := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(typed))
	if len(c) != Len || strings.Trim(c, randcode.Alphabet) != "" {
		return "", false
	}
	return c, true
}
