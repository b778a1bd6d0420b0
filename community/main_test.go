package community_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// economy is the game as the server wires it for the community.
type economy struct{ g *game.Service }

func (e economy) Program(ctx context.Context) (program.Program, error) {
	return e.g.Rooms().Program.Get(ctx)
}
func (e economy) Standing(ctx context.Context, id bson.ObjectID) (community.Standing, error) {
	st, err := e.g.Economy().CommunityStanding(ctx, id)
	return community.Standing(st), err
}
func (e economy) RecordPost(ctx context.Context, memberID, postID bson.ObjectID, at time.Time) error {
	_, err := e.g.Economy().RecordPost(ctx, memberID, postID, at)
	return err
}
func (e economy) ReversePost(ctx context.Context, memberID, postID bson.ObjectID, reason string) error {
	_, err := e.g.Economy().ReversePost(ctx, memberID, postID, reason)
	return err
}

type harness struct {
	*community.Service
	db      *mongo.Database
	members *member.Service
	auth    *auth.Service
	game    *game.Service
	inbox   *inbox.Inbox
	clock   *testkit.Clock
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	db := testkit.Database(t)
	c := testkit.NewClock(time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC))
	// Members joined a month before the test's now: past the new-member level.
	monthAgo := func() time.Time { return c.Now().Add(-30 * 24 * time.Hour) }
	ms := member.New(db, monthAgo)
	signin, err := auth.New(db, ms, auth.Config{JWTSecret: []byte("0123456789abcdef0123456789abcdef"), BcryptCost: 4, Now: monthAgo})
	if err != nil {
		t.Fatal(err)
	}
	in := inbox.New(db, inbox.NewMemoryBroker())
	g := game.New(db, ms, in)
	g.SetClock(c.Now)
	in.SetClock(c.Now)
	s := community.New(db, community.Deps{Economy: economy{g}, Members: ms, Notify: in})
	s.SetClock(c.Now)
	testkit.EnsureIndexes(t, ms.EnsureIndexes, signin.EnsureIndexes, in.EnsureIndexes, g.EnsureIndexes, s.EnsureIndexes)
	return &harness{Service: s, db: db, members: ms, auth: signin, game: g, inbox: in, clock: c}
}

// member signs a member up; joined a month ago, so past the new-member level.
func (h *harness) member(t *testing.T, name string) (*member.Member, member.Principal) {
	t.Helper()
	sess := testkit.Must(h.auth.SignUp(context.Background(), member.SignUp{Email: name + bson.NewObjectID().Hex() + "@example.com",
		Password: "correct horse battery", DisplayName: name, Timezone: "UTC"}))(t)
	m := sess.Member
	return m, member.Principal{MemberID: m.ID, Roles: m.Roles}
}

var brand = member.Principal{Service: true}
