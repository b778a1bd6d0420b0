package request

import (
	"context"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/member"
)

// One operation reads a member's ledger once for every field of their
// points and tier, and again after ForgetLedgers (a mutation's next root
// field), so a balance a write moved is never answered from before it.
func TestLedgerReadOncePerOperationUntilForgotten(t *testing.T) {
	var reads atomic.Int64
	balance := int64(100)
	ctx := WithLoaders(context.Background(),
		func(context.Context, []bson.ObjectID) ([]*member.Member, error) { return nil, nil },
		func(context.Context, []bson.ObjectID) ([]*reward.Reward, error) { return nil, nil },
		func(_ context.Context, ids []bson.ObjectID) ([]*ledger.Current, error) {
			reads.Add(1)
			out := make([]*ledger.Current, len(ids))
			for i, id := range ids {
				out[i] = &ledger.Current{MemberID: id, State: ledger.State{Balance: balance}}
			}
			return out, nil
		})
	ann := bson.NewObjectID()
	for range 3 {
		if c, err := LoadLedger(ctx, ann); err != nil || c.State.Balance != 100 {
			t.Fatalf("LoadLedger = %+v, %v", c, err)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("%d reads for three fields, want 1", n)
	}
	balance = 40 // a redemption of the operation's
	ForgetLedgers(ctx)
	if c, err := LoadLedger(ctx, ann); err != nil || c.State.Balance != 40 {
		t.Fatalf("after ForgetLedgers: %+v, %v, want the balance of 40", c, err)
	}
	if n := reads.Load(); n != 2 {
		t.Fatalf("%d reads, want 2", n)
	}
}
