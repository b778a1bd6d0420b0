package member

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// memberStore keeps members in the "members" collection.
type memberStore struct{ c *mongo.Collection }

// Index names, checked by the tests.
const (
	indexEmail         = "email_unique"
	indexBirthday      = "birthday"
	indexNameKey       = "name_key"
	indexRefreshFamily = "family"
	indexUnannounced   = "unannounced"
)

func (s memberStore) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// Log-in looks members up by email; unique so two sign-ups race safely.
		{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetName(indexEmail).SetUnique(true)},
		// Search by the start of a display name (email prefixes use email_unique).
		{Keys: bson.D{{Key: "nameKey", Value: 1}}, Options: options.Index().SetName(indexNameKey)},
		// The birthday campaign.
		{Keys: bson.D{{Key: "birthday.month", Value: 1}, {Key: "birthday.day", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName(indexBirthday)},
		// Sign-ups not yet announced to webhooks; sparse: cleared once done.
		{Keys: bson.D{{Key: "unannounced", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName(indexUnannounced).SetSparse(true)},
	}
}

func (s memberStore) insert(ctx context.Context, m *Member) error {
	_, err := s.c.InsertOne(ctx, m)
	if mongo.IsDuplicateKeyError(err) {
		return ErrEmailTaken
	}
	return err
}

func (s memberStore) byID(ctx context.Context, id bson.ObjectID) (*Member, error) {
	return s.one(ctx, bson.D{{Key: "_id", Value: id}})
}

func (s memberStore) byEmail(ctx context.Context, email string) (*Member, error) {
	return s.one(ctx, bson.D{{Key: "email", Value: email}})
}

func (s memberStore) one(ctx context.Context, filter bson.D) (*Member, error) {
	var m Member
	err := s.c.FindOne(ctx, filter).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func (s memberStore) byIDs(ctx context.Context, ids []bson.ObjectID) ([]*Member, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, err
	}
	var ms []*Member
	if err := cur.All(ctx, &ms); err != nil {
		return nil, err
	}
	return ms, nil
}

// update applies set (and unset) to one member and returns it as it is after.
func (s memberStore) update(ctx context.Context, id bson.ObjectID, update bson.D) (*Member, error) {
	return s.updateWhere(ctx, bson.D{{Key: "_id", Value: id}}, update)
}

// updateLive updates a member whose deletion has not begun: a change made
// with a deleted member's token in the moment before it is refused
// everywhere (ErrNotFound) must not write their data back.
func (s memberStore) updateLive(ctx context.Context, id bson.ObjectID, update bson.D) (*Member, error) {
	return s.updateWhere(ctx, bson.D{{Key: "_id", Value: id}, {Key: "deletedAt", Value: bson.D{{Key: "$exists", Value: false}}}}, update)
}

func (s memberStore) updateWhere(ctx context.Context, filter, update bson.D) (*Member, error) {
	var m Member
	err := s.c.FindOneAndUpdate(ctx, filter, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

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
	var f tokenFamily
	err := s.families.FindOne(ctx, bson.D{{Key: "_id", Value: family}}).Decode(&f)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return true, nil
	}
	if err != nil {
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
