package effects

import (
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
)

// A board a later entry of the same member scores is left to that entry:
// its score, as of a higher sequence number, is the one the board keeps.
func TestBoardsToScoreLeavesEachBoardToTheNewestEntry(t *testing.T) {
	ann, bob := bson.NewObjectID(), bson.NewObjectID()
	entries := []*ledger.Entry{
		{MemberID: ann, Seq: 4, Boards: []string{"WEEKLY:2026-W48", "MONTHLY:2026-11", "ALL_TIME"}}, // the purchase, dated last week
		{MemberID: bob, Seq: 9, Boards: []string{"WEEKLY:2026-W49", "MONTHLY:2026-11", "ALL_TIME"}}, // a referrer's bonus
		{MemberID: ann, Seq: 5, Boards: []string{"WEEKLY:2026-W49", "MONTHLY:2026-11", "ALL_TIME"}}, // a badge's bonus, this week
		{MemberID: ann, Seq: 3, Boards: []string{"ALL_TIME"}},                                       // found again, older
	}
	want := [][]string{{"WEEKLY:2026-W48"}, {"WEEKLY:2026-W49", "MONTHLY:2026-11", "ALL_TIME"}, {"WEEKLY:2026-W49", "MONTHLY:2026-11", "ALL_TIME"}, {}}
	var x Path
	for i := range entries {
		if got := x.boardsToScore(entries, i); !slices.Equal(got, want[i]) {
			t.Errorf("entry %d scores %v, want %v", i, got, want[i])
		}
	}
	if !slices.Equal(entries[0].Boards, []string{"WEEKLY:2026-W48", "MONTHLY:2026-11", "ALL_TIME"}) {
		t.Errorf("the entry's own boards changed: %v", entries[0].Boards)
	}
}
