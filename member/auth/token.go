package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/regulars/regulars/member"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Session is what a log-in hands the client.
type Session struct {
	Member                *member.Member
	AccessToken           string
	AccessTokenExpiresAt  time.Time
	RefreshToken          string
	RefreshTokenExpiresAt time.Time
}

// accessClaims are the claims of a short-lived access token.
type accessClaims struct {
	Roles   []member.Role `json:"roles"`
	Session string        `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

const issuer = "regulars"

// tokens signs and verifies access tokens.
type tokens struct {
	secret     []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
}

func (t tokens) sign(m *member.Member, session bson.ObjectID, now time.Time) (string, time.Time, error) {
	exp := now.Add(t.accessTTL)
	claims := accessClaims{
		Roles: m.Roles,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   m.ID.Hex(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	if !session.IsZero() {
		claims.Session = session.Hex()
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	return s, exp, err
}

func (t tokens) verify(token string, now time.Time) (member.Principal, error) {
	var c accessClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return member.Principal{}, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	id, err := bson.ObjectIDFromHex(c.Subject)
	if err != nil {
		return member.Principal{}, fmt.Errorf("%w: bad subject", ErrTokenInvalid)
	}
	p := member.Principal{MemberID: id, Roles: c.Roles, Expires: c.ExpiresAt.Time}
	if c.Session != "" {
		if p.Session, err = bson.ObjectIDFromHex(c.Session); err != nil {
			return member.Principal{}, fmt.Errorf("%w: bad session", ErrTokenInvalid)
		}
	}
	return p, nil
}

// newRefreshSecret returns a random refresh token and the hash it is stored under.
func newRefreshSecret() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefresh(token)
}

func hashRefresh(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// sealChild encrypts the token that replaces parent with a key derived from
// parent, so the record of a spend gives the new token only to whoever
// holds the old one (AES-256-GCM, random nonce first).
func sealChild(parent, child string) ([]byte, error) {
	aead, err := childAEAD(parent)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, []byte(child), nil), nil
}

func openChild(parent string, sealed []byte) (string, error) {
	aead, err := childAEAD(parent)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", ErrTokenInvalid
	}
	child, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	if err != nil {
		return "", ErrTokenInvalid
	}
	return string(child), nil
}

func childAEAD(parent string) (cipher.AEAD, error) {
	key := sha256.Sum256([]byte("regulars/refresh-child/v1\x00" + parent))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
