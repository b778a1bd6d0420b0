package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/regulars/regulars/fault"
)

// SignatureHeader carries a delivery's signature, in the style of Stripe's
// Stripe-Signature: "t=<unix seconds>,v1=<hex HMAC-SHA256>", the HMAC keyed
// by the endpoint's secret over "<t>.<body>".
const SignatureHeader = "Regulars-Signature"

// Sign returns the header value signing body with secret at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// ErrBadSignature is what Verify answers for a header that does not sign
// the body with the secret, or is older than the tolerance.
var ErrBadSignature = fault.New(fault.Unauthenticated, "webhook: signature does not verify")

// Verify checks a Regulars-Signature header against body and secret: one
// of its v1 signatures must match, and its timestamp must be within
// tolerance of now (replays of old deliveries are refused). Receivers in
// Go may use it; the README shows the same steps without this package.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrBadSignature
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return ErrBadSignature
}
