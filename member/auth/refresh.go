package auth

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	indexRefreshFamily  = "family"
	indexFamiliesMember = "member"
)

// refreshToken is one issued refresh token, stored by the hash of its secret.
// Tokens rotated from one log-in share a family; reuse of a rotated token
// revokes the family.
type refreshToken struct {
	Hash      string        `bson:"_id"`
	Family    bson.ObjectID `bson:"family"`
	MemberID  bson.ObjectID `bson:"memberId"`
	CreatedAt time.Time     `bson:"createdAt"`
	ExpiresAt time.Time     `bson:"expiresAt"`
}

// refreshSpend marks a token spent. It is its own document, keyed by the
// token's hash, so the unique _id lets exactly one of any number of
// concurrent refreshes spend a token. It also carries the token that
// replaced it, sealed with a key only the spent token gives (sealChild), so
// a retry within the grace window gets the same new token back.
type refreshSpend struct {
	Hash           string        `bson:"_id"`
	At             time.Time     `bson:"at"`
	Family         bson.ObjectID `bson:"family"`
	MemberID       bson.ObjectID `bson:"memberId"`
	Child          []byte        `bson:"child,omitempty"`
	ChildHash      string        `bson:"childHash,omitempty"`
	ChildExpiresAt time.Time     `bson:"childExpiresAt"`
}

// tokenFamily records the revocation of a whole family in one document, so a
// token minted concurrently with the revocation is refused too.
type tokenFamily struct {
	ID        bson.ObjectID `bson:"_id"`
	MemberID  bson.ObjectID `bson:"memberId"`
	RevokedAt *time.Time    `bson:"revokedAt,omitempty"`
	CreatedAt time.Time     `bson:"createdAt"`
}

type refreshStore struct {
	tokens   *mongo.Collection
	spends   *mongo.Collection
	families *mongo.Collection
}

func (s refreshStore) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "family", Value: 1}}, Options: options.Index().SetName(indexRefreshFamily)},
	}
}

// A member's sessions are revoked together (RevokeSessions).
func (s refreshStore) familyIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{{Keys: bson.D{{Key: "memberId", Value: 1}}, Options: options.Index().SetName(indexFamiliesMember)}}
}

func (s refreshStore) startFamily(ctx context.Context, memberID bson.ObjectID, now time.Time) (bson.ObjectID, error) {
	f := tokenFamily{ID: bson.NewObjectID(), MemberID: memberID, CreatedAt: now}
	_, err := s.families.InsertOne(ctx, f)
	return f.ID, err
}

func (s refreshStore) insert(ctx context.Context, t refreshToken) error {
	_, err := s.tokens.InsertOne(ctx, t)
	return err
}

// errSpent says a refresh token was spent before.
var errSpent = errors.New("refresh token already spent")

// spend records sp, spending its token; exactly one of any number of
// concurrent callers wins. The others get errSpent and the winner's record.
func (s refreshStore) spend(ctx context.Context, sp refreshSpend) (*refreshSpend, error) {
	_, err := s.spends.InsertOne(ctx, sp)
	if mongo.IsDuplicateKeyError(err) {
		var first refreshSpend
		if err := s.spends.FindOne(ctx, bson.D{{Key: "_id", Value: sp.Hash}}).Decode(&first); err != nil {
			return nil, err
		}
		return &first, errSpent
	}
	if err != nil {
		return nil, err
	}
	return &sp, nil
}

// insertChild stores the token a spend minted. Whoever gets there first
// writes it; the document is the same either way.
func (s refreshStore) insertChild(ctx context.Context, sp *refreshSpend) error {
	err := s.insert(ctx, refreshToken{Hash: sp.ChildHash, Family: sp.Family, MemberID: sp.MemberID, CreatedAt: sp.At, ExpiresAt: sp.ChildExpiresAt})
	if mongo.IsDuplicateKeyError(err) {
		return nil
	}
	return err
}

func (s refreshStore) byHash(ctx context.Context, hash string) (*refreshToken, error) {
	var t refreshToken
	err := s.tokens.FindOne(ctx, bson.D{{Key: "_id", Value: hash}}).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrTokenInvalid
	}
	return &t, err
}

func (s refreshStore) revoked(ctx context.Context, family bson.ObjectID) (bool, error) {
	// Only revokedAt, decoded from the raw document: SingleResult.Decode
	// allocates a 4 KB reader per document, garbage on every socket's
	// session check.
	raw, err := s.families.FindOne(ctx, bson.D{{Key: "_id", Value: family}},
		options.FindOne().SetProjection(bson.D{{Key: "revokedAt", Value: 1}})).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	var f struct {
		RevokedAt *time.Time `bson:"revokedAt"`
	}
	if err := bson.Unmarshal(raw, &f); err != nil {
		return false, err
	}
	return f.RevokedAt != nil, nil
}

func (s refreshStore) revoke(ctx context.Context, family bson.ObjectID, now time.Time) error {
	_, err := s.families.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: family}, {Key: "revokedAt", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revokedAt", Value: now}}}})
	return err
}
