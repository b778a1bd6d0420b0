package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/till"
)

// newTill is the members' cards over db, their QR payloads signed with a
// key derived from the token secret (so every instance sharing JWT_SECRET
// accepts the others' payloads), standings from the game.
func (m *Main) newTill(db *mongo.Database, secret []byte) *till.Service {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("regulars/till/member-card"))
	return till.New(db, h.Sum(nil), m.members, m.game.Economy(), m.tillClock)
}

// tillClock is the till's clock: time.Now unless a test set tillNow.
func (m *Main) tillClock() time.Time {
	if m.tillNow != nil {
		return m.tillNow()
	}
	return time.Now()
}
