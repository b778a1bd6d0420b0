package game

import (
	"context"
	"fmt"
	"testing"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

// A campaign sends a batch at a time: greeting 120 members costs a few
// commands for them all, not a few per member, and each is greeted once
// however often the campaign runs.
func TestCampaignSendsInBatches(t *testing.T) {
	db, commands := testkit.CountingDatabase(t)
	h := newHarnessOn(t, db, func(p *program.Program) { p.Campaigns.Holdout = new(10) })
	ctx := context.Background()
	const n = 120
	today := h.clock.Now()
	ms := make([]*member.Member, n)
	for i := range ms {
		ms[i] = h.members.add(fmt.Sprintf("m%d@example.com", i))
		ms[i].Birthday = &member.Date{Year: 1990, Month: today.Month(), Day: today.Day()}
	}
	bd := birthdayMembers{h.members}
	commands()
	sent, err := h.Rooms().Campaigns.Run(ctx, bd)
	if err != nil {
		t.Fatal(err)
	}
	// The program; per batch of 500 the holdout groups, and the inbox's
	// keys, mutes and sequence numbers read and one insert; the other
	// campaigns' one look each for whom to reach. One at a time it was
	// about 6 per member.
	c := commands()
	t.Logf("the birthday campaign for %d members: %d commands", n, c)
	if c > 20 {
		t.Errorf("the birthday campaign for %d members sent %d commands, want a few for the batch", n, c)
	}
	greeted := 0
	for _, m := range ms {
		switch k := len(h.inboxOf(t, m, inbox.KindBirthday)); k {
		case 0:
		case 1:
			greeted++
		default:
			t.Errorf("%s greeted %d times", m.Email, k)
		}
	}
	if greeted != sent || greeted < n*80/100 || greeted == n {
		t.Errorf("%d greeted, %d reported sent, of %d members with a 10%% holdout", greeted, sent, n)
	}
	if _, err := h.Rooms().Campaigns.Run(ctx, bd); err != nil {
		t.Fatal(err)
	}
	again := 0
	for _, m := range ms {
		again += len(h.inboxOf(t, m, inbox.KindBirthday))
	}
	if again != greeted {
		t.Errorf("a second run: %d greetings, was %d", again, greeted)
	}
}
