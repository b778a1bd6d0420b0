package referral

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/batch"
	"github.com/regulars/regulars/member"
)

// What the rest of the game reads and writes of accounts.

// Count estimates how many members have an account.
func (s *Service) Count(ctx context.Context) (int64, error) {
	return s.store.accounts.EstimatedDocumentCount(ctx)
}

// Step runs work on the members of the next size accounts after the
// member id after, up to workers at once, and reports how far it got
// (see internal/batch).
func (s *Service) Step(ctx context.Context, after bson.ObjectID, size, workers int, work func(ctx context.Context, memberID bson.ObjectID) (bool, error)) (batch.Result, error) {
	return batch.Step(ctx, s.store.accounts, after, size, workers, func(a *Account) bson.ObjectID { return a.MemberID },
		func(ctx context.Context, a *Account) (bool, error) { return work(ctx, a.MemberID) })
}

// OnPublicBoards says whether the member shows on public leaderboards (has
// not opted out); a member without an account yet does.
func (s *Service) OnPublicBoards(ctx context.Context, memberID bson.ObjectID) (bool, error) {
	a, err := s.store.get(ctx, memberID)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !a.LeaderboardOptOut, nil
}

// MaySeePublicMember says whether caller may see the public face of the
// member memberID (the API's PublicMember, as leaderboards show it): their
// own always, another member's only while that member shows on public
// boards (OnPublicBoards: not opted out).
func (s *Service) MaySeePublicMember(ctx context.Context, caller member.Principal, memberID bson.ObjectID) (bool, error) {
	if !caller.MemberID.IsZero() && caller.MemberID == memberID {
		return true, nil
	}
	return s.OnPublicBoards(ctx, memberID)
}

// SetLeaderboardOptOut records that the member hides on public boards (or
// shows again), creating their account if they have none.
func (s *Service) SetLeaderboardOptOut(ctx context.Context, memberID bson.ObjectID, out bool) error {
	if _, err := s.Account(ctx, memberID); err != nil {
		return err
	}
	_, err := s.store.accounts.UpdateOne(ctx, bson.D{{Key: "_id", Value: memberID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "leaderboardOptOut", Value: out}}}})
	return err
}

// Purchased keeps the account's last purchase time, which the win-back
// campaign selects on ($max: a late report never moves it back), and
// returns the account as it is after: one findAndModify, and a read and
// an update only for a member who has no account yet (Account makes it).
func (s *Service) Purchased(ctx context.Context, memberID bson.ObjectID, at time.Time) (*Account, error) {
	for range 2 {
		var a Account
		err := s.store.accounts.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: memberID}},
			bson.D{{Key: "$max", Value: bson.D{{Key: "lastPurchaseAt", Value: at}}}},
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&a)
		if err == nil {
			return &a, nil
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, err
		}
		if _, err := s.Account(ctx, memberID); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("referral: the account made for a purchase is gone")
}

// Idle is a member who last bought at LastPurchaseAt.
type Idle struct {
	MemberID       bson.ObjectID `bson:"_id"`
	LastPurchaseAt time.Time     `bson:"lastPurchaseAt"`
}

// IdleSince returns the members whose last purchase is before cutoff
// (backed by IndexAccountLastPurchase).
func (s *Service) IdleSince(ctx context.Context, cutoff time.Time) ([]Idle, error) {
	cur, err := s.store.accounts.Find(ctx, bson.D{{Key: "lastPurchaseAt", Value: bson.D{{Key: "$lt", Value: cutoff}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "lastPurchaseAt", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var idle []Idle
	return idle, cur.All(ctx, &idle)
}
