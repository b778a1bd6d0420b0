// Package leaderboard ranks members by points earned in a period: weekly
// (ISO week in the brand's timezone), monthly and all-time boards, with
// exact standard competition ranks ("1224") whatever the number of members.
//
// It owns the collections leaderboard_scores (one document per member and
// board) and leaderboard_tree (the Fenwick tree of each board). The ledger
// (game/) decides the scores; this package keeps and ranks them.
package leaderboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
)

// Period is a leaderboard's span.
type Period string

const (
	PeriodWeekly  Period = "WEEKLY"  // ISO week in the brand's timezone
	PeriodMonthly Period = "MONTHLY" // calendar month in the brand's timezone
	PeriodAllTime Period = "ALL_TIME"
)

// Periods lists every period.
var Periods = []Period{PeriodWeekly, PeriodMonthly, PeriodAllTime}

// Valid reports whether p is a known period.
func (p Period) Valid() bool { return slices.Contains(Periods, p) }

// Key names the board of period holding the instant at, in the brand's
// timezone loc: "WEEKLY:2026-W09", "MONTHLY:2026-03", "ALL_TIME".
func Key(loc *time.Location, period Period, at time.Time) string {
	l := at.In(loc)
	switch period {
	case PeriodWeekly:
		y, w := l.ISOWeek()
		return fmt.Sprintf("WEEKLY:%04d-W%02d", y, w)
	case PeriodMonthly:
		return "MONTHLY:" + l.Format("2006-01")
	}
	return "ALL_TIME"
}

// End is when a board's period ends; ALL_TIME never does.
func End(loc *time.Location, key string) (time.Time, bool) {
	kind, id, _ := strings.Cut(key, ":")
	switch Period(kind) {
	case PeriodWeekly:
		var y, w int
		if _, err := fmt.Sscanf(id, "%d-W%d", &y, &w); err != nil {
			return time.Time{}, false
		}
		// ISO week 1 holds 4 January.
		jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, loc)
		monday := jan4.AddDate(0, 0, -((int(jan4.Weekday())+6)%7)+(w-1)*7)
		return monday.AddDate(0, 0, 7), true
	case PeriodMonthly:
		t, err := time.ParseInLocation("2006-01", id, loc)
		if err != nil {
			return time.Time{}, false
		}
		return t.AddDate(0, 1, 0), true
	}
	return time.Time{}, false
}

// Final reports whether a board's standings can no longer change: its
// period and the grace after it have passed.
func Final(loc *time.Location, grace time.Duration, key string, now time.Time) bool {
	end, ok := End(loc, key)
	return ok && now.After(end.Add(grace))
}

// Board is a leaderboard of one period.
type Board struct {
	Key    string
	Period Period
	// Final once the period and its grace have passed.
	Final bool
}

// Scores are ranked with a Fenwick tree over score values kept in MongoDB:
// node i holds how many visible members score in (i - lowbit(i), i]. A rank
// reads at most treeBits+1 nodes in one query and an update changes at most
// 2×treeBits, whatever the number of members: exact ranks never cost time
// proportional to the members above.
const treeBits = 32

// MaxScore is the highest score a board holds: the ledger keeps a member's
// score at most this (2^31 - 1, GraphQL's Int), and the tree ranks every
// score up to 2^32. A score above 2^32 stored before these bounds is
// counted at 2^32: it ranks above every other, tied with any other such.
const MaxScore = 1<<31 - 1

// errUnrepairable says a board's tree still disagreed with its scores
// after a rebuild: not the caller's fault, so no code (see Unrepairable).
var errUnrepairable = errors.New("leaderboard: the tree disagrees with the scores even after a rebuild")

// Unrepairable reports whether err is Repair's report of a board it could
// not repair; the repair job reports it and goes on to the next board.
func Unrepairable(err error) bool { return errors.Is(err, errUnrepairable) }

// treeScore is where the tree counts a score.
func treeScore(score int64) int64 { return min(score, 1<<treeBits) }

// Boards keeps the scores of every board and their trees. Its methods
// answer for one board, named by its key (see Key).
type Boards struct {
	scores *mongo.Collection
	tree   *mongo.Collection
}

// New returns the boards kept in db (leaderboard_scores, leaderboard_tree).
func New(db *mongo.Database) *Boards {
	return &Boards{scores: db.Collection("leaderboard_scores"), tree: db.Collection("leaderboard_tree")}
}

// IndexOrder is the index that pages a board.
const IndexOrder = "board_order"

// EnsureIndexes creates the index the board queries rely on; safe to repeat.
func (s *Boards) EnsureIndexes(ctx context.Context) error {
	return mongoindex.Ensure(ctx, s.scores, s.indexes()...)
}

func (s *Boards) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// Pages and neighbours: visible members by score, ties by member id.
		{Keys: bson.D{{Key: "board", Value: 1}, {Key: "hidden", Value: 1}, {Key: "score", Value: -1}, {Key: "memberId", Value: 1}},
			Options: options.Index().SetName(IndexOrder)},
		// Repair: has the board been written lately?
		{Keys: bson.D{{Key: "board", Value: 1}, {Key: "at", Value: -1}}, Options: options.Index().SetName("board_written")},
	}
}

// boardScore is one member's score on one board.
type boardScore struct {
	ID       string        `bson:"_id"` // board:memberId
	Board    string        `bson:"board"`
	MemberID bson.ObjectID `bson:"memberId"`
	Score    int64         `bson:"score"`
	Seq      int64         `bson:"seq"` // the ledger entry the score is as of
	Hidden   bool          `bson:"hidden"`
	// At is when the score or its visibility was last written: Repair
	// leaves a board alone while a write may still have its tree move in
	// flight.
	At time.Time `bson:"at"`
}

func scoreID(board string, m bson.ObjectID) string { return board + ":" + m.Hex() }

func nodeID(board string, i int64) string { return fmt.Sprintf("%s#%d", board, i) }

// updatePath lists the tree nodes that count a member at score (≥ 1).
func updatePath(score int64) []int64 {
	var path []int64
	for i := treeScore(score); i > 0 && i <= 1<<treeBits; i += i & -i {
		path = append(path, i)
	}
	return path
}

// prefixPath lists the nodes whose counts add up to the members scoring at
// most score.
func prefixPath(score int64) []int64 {
	var path []int64
	for i := min(score, 1<<treeBits); i > 0; i -= i & -i {
		path = append(path, i)
	}
	return path
}

// treeRoot counts every member on the board.
const treeRoot = int64(1) << treeBits

// treeAdd adds delta members at score (score ≥ 1).
func (s *Boards) treeAdd(ctx context.Context, board string, score, delta int64) error {
	return s.treeMove(ctx, board, 0, score, delta)
}

// treeMove moves delta members from score `from` to score `to` (0: not on
// the board). Above the point where the two paths meet the changes cancel,
// so a small change of score touches only a few nodes.
func (s *Boards) treeMove(ctx context.Context, board string, from, to, delta int64) error {
	return s.writeTree(ctx, moveOps(board, from, to, delta))
}

// moveOps are the node updates of treeMove.
func moveOps(board string, from, to, delta int64) []mongo.WriteModel {
	deltas := map[int64]int64{}
	for _, i := range updatePath(from) {
		deltas[i] -= delta
	}
	for _, i := range updatePath(to) {
		deltas[i] += delta
	}
	var ops []mongo.WriteModel
	for i, d := range deltas {
		if d != 0 {
			ops = append(ops, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: nodeID(board, i)}}).
				SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "c", Value: d}}}}).SetUpsert(true))
		}
	}
	return ops
}

// writeTree applies node updates, of one board or several, in one
// unordered bulk write (one update command on MongoDB).
func (s *Boards) writeTree(ctx context.Context, ops []mongo.WriteModel) error {
	// Two first upserts of one node collide on _id (MongoDB does this
	// too); the losers are retried, now as updates of the existing node.
	for range 5 {
		if len(ops) == 0 {
			return nil
		}
		_, err := s.tree.BulkWrite(ctx, ops, options.BulkWrite().SetOrdered(false))
		var bwe mongo.BulkWriteException
		if err == nil || !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			return err
		}
		var retry []mongo.WriteModel
		for _, we := range bwe.WriteErrors {
			if !mongo.IsDuplicateKeyError(we) {
				return err
			}
			retry = append(retry, ops[we.Index])
		}
		ops = retry
	}
	return errors.New("leaderboard: node upserts kept colliding")
}

// above counts visible members scoring more than score.
func (s *Boards) above(ctx context.Context, board string, score int64) (int64, error) {
	m, err := s.countsAbove(ctx, board, []int64{score})
	return m[score], err
}

// countsAbove answers above for several scores with one query.
func (s *Boards) countsAbove(ctx context.Context, board string, scores []int64) (map[int64]int64, error) {
	ids := []string{nodeID(board, treeRoot)}
	for _, sc := range scores {
		for _, i := range prefixPath(sc) {
			ids = append(ids, nodeID(board, i))
		}
	}
	cur, err := s.tree.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, err
	}
	var nodes []struct {
		ID string `bson:"_id"`
		C  int64  `bson:"c"`
	}
	if err := cur.All(ctx, &nodes); err != nil {
		return nil, err
	}
	count := make(map[string]int64, len(nodes))
	for _, n := range nodes {
		count[n.ID] = n.C
	}
	total := count[nodeID(board, treeRoot)]
	out := make(map[int64]int64, len(scores))
	for _, sc := range scores {
		var atOrBelow int64
		for _, i := range prefixPath(sc) {
			atOrBelow += count[nodeID(board, i)]
		}
		out[sc] = total - atOrBelow
	}
	return out, nil
}

// SetScore records a member's score on a board as of ledger entry seq.
// The seq guard makes it idempotent and order-proof: a stale or repeated
// update changes nothing, and only the update that moves the score moves
// the member in the tree.
func (s *Boards) SetScore(ctx context.Context, board string, m bson.ObjectID, score, seq int64, hidden bool, at time.Time) error {
	return s.SetScores(ctx, m, []Score{{Board: board, Score: score}}, seq, hidden, at)
}

// Score is a member's score on one board.
type Score struct {
	Board string
	Score int64
}

// SetScores records a member's scores on several boards as of ledger
// entry seq, as SetScore does each: one findAndModify per board, then the
// tree moves of every board in one bulk write.
func (s *Boards) SetScores(ctx context.Context, m bson.ObjectID, scores []Score, seq int64, hidden bool, at time.Time) error {
	var ops []mongo.WriteModel
	for _, sc := range scores {
		move, err := s.setScore(ctx, sc.Board, m, sc.Score, seq, hidden, at)
		if err != nil {
			return err
		}
		ops = append(ops, move...)
	}
	return s.writeTree(ctx, ops)
}

// setScore writes one score under the seq guard and returns the tree
// moves it calls for.
func (s *Boards) setScore(ctx context.Context, board string, m bson.ObjectID, score, seq int64, hidden bool, at time.Time) ([]mongo.WriteModel, error) {
	var before boardScore
	err := s.scores.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: scoreID(board, m)}, {Key: "seq", Value: bson.D{{Key: "$lt", Value: seq}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "board", Value: board}, {Key: "memberId", Value: m}, {Key: "score", Value: score}, {Key: "seq", Value: seq}, {Key: "at", Value: at}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "hidden", Value: hidden}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.Before),
	).Decode(&before)
	switch {
	case mongo.IsDuplicateKeyError(err):
		return nil, nil // a newer score is already there
	case errors.Is(err, mongo.ErrNoDocuments):
		before = boardScore{Hidden: hidden} // inserted
	case err != nil:
		return nil, err
	}
	if before.Hidden || before.Score == score {
		return nil, nil
	}
	return moveOps(board, before.Score, score, 1), nil
}

// Hide hides (out) or shows again a member on every board: the tree stops
// or starts counting them. Their own score and rank stay readable. at is
// the time of the change.
func (s *Boards) Hide(ctx context.Context, memberID bson.ObjectID, out bool, at time.Time) error {
	cur, err := s.scores.Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "hidden", Value: !out}})
	if err != nil {
		return err
	}
	var scores []boardScore
	if err := cur.All(ctx, &scores); err != nil {
		return err
	}
	delta := int64(1)
	if out {
		delta = -1
	}
	for _, sc := range scores {
		res, err := s.scores.UpdateOne(ctx, bson.D{{Key: "_id", Value: sc.ID}, {Key: "hidden", Value: !out}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "hidden", Value: out}, {Key: "at", Value: at}}}})
		if err != nil {
			return err
		}
		if res.ModifiedCount == 1 {
			if err := s.treeAdd(ctx, sc.Board, sc.Score, delta); err != nil {
				return err
			}
		}
	}
	return nil
}

// Settle is how long after a score is written Repair leaves its board
// alone. A score and its tree nodes are separate writes (there are no
// transactions), so a board read between them looks broken; a rebuild
// then would count the in-flight move twice. A move lands within a few
// operations, each bounded by MONGODB_TIMEOUT, well inside Settle.
const Settle = time.Minute

// Repair checks a board's tree against its scores and rebuilds a tree that
// disagrees, as one left by a process that died between writing a score
// and its tree nodes. A board with a score written after quietSince (now
// minus Settle) is busy: it is left for a later run, as a write may be
// between its score and its tree. Repair reports whether it rebuilt; a
// tree still wrong after a rebuild that no write overlapped is an error
// naming the board (see Unrepairable).
func (s *Boards) Repair(ctx context.Context, board string, quietSince time.Time) (bool, error) {
	ok, err := s.consistent(ctx, board)
	if err != nil || ok {
		return false, err
	}
	if busy, err := s.writtenSince(ctx, board, quietSince); err != nil || busy {
		return false, err
	}
	if err := s.rebuild(ctx, board); err != nil {
		return true, err
	}
	if ok, err = s.consistent(ctx, board); err != nil || ok {
		return true, err
	}
	// A write that began during the rebuild may have been counted twice
	// or not at all: the next run judges the board again once it is quiet.
	if busy, err := s.writtenSince(ctx, board, quietSince); err != nil || busy {
		return true, err
	}
	return true, fmt.Errorf("board %s: %w", board, errUnrepairable)
}

// writtenSince reports whether a score of the board was written at or
// after since.
func (s *Boards) writtenSince(ctx context.Context, board string, since time.Time) (bool, error) {
	err := s.scores.FindOne(ctx, bson.D{{Key: "board", Value: board}, {Key: "at", Value: bson.D{{Key: "$gte", Value: since}}}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	return err == nil, err
}

// Standing is one row of a leaderboard.
type Standing struct {
	MemberID bson.ObjectID
	Score    int64
	// Rank is standard competition ranking: ties share a rank, the next
	// rank skips ("1224"). Within a tie rows are ordered by member id.
	Rank int64
}

// Top returns a page of the board: visible members from the best, after
// the (score, member) position given (nil: from the top).
func (s *Boards) Top(ctx context.Context, b Board, after *Standing, limit int) ([]Standing, bool, error) {
	filter := bson.D{{Key: "board", Value: b.Key}, {Key: "hidden", Value: false}, {Key: "score", Value: bson.D{{Key: "$gt", Value: 0}}}}
	if after != nil {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "score", Value: bson.D{{Key: "$lt", Value: after.Score}}}},
			bson.D{{Key: "score", Value: after.Score}, {Key: "memberId", Value: bson.D{{Key: "$gt", Value: after.MemberID}}}},
		}})
	}
	rows, err := s.standings(ctx, b, filter, bson.D{{Key: "board", Value: 1}, {Key: "hidden", Value: 1}, {Key: "score", Value: -1}, {Key: "memberId", Value: 1}}, limit+1)
	if err != nil {
		return nil, false, err
	}
	rows, more := page.Cut(rows, limit)
	return rows, more, nil
}

func (s *Boards) standings(ctx context.Context, b Board, filter, sort bson.D, limit int) ([]Standing, error) {
	cur, err := s.scores.Find(ctx, filter, options.Find().SetSort(sort).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var docs []boardScore
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	var distinct []int64
	for _, d := range docs {
		if !slices.Contains(distinct, d.Score) {
			distinct = append(distinct, d.Score)
		}
	}
	above, err := s.countsAbove(ctx, b.Key, distinct)
	if err != nil {
		return nil, err
	}
	rows := make([]Standing, len(docs))
	for i, d := range docs {
		rows[i] = Standing{MemberID: d.MemberID, Score: d.Score, Rank: above[d.Score] + 1}
	}
	return rows, nil
}

// RankOf returns a member's exact score and rank on the board, also when
// they opted out of public boards; a member who scored nothing has rank 0.
func (s *Boards) RankOf(ctx context.Context, b Board, memberID bson.ObjectID) (Standing, error) {
	var sc boardScore
	err := s.scores.FindOne(ctx, bson.D{{Key: "_id", Value: scoreID(b.Key, memberID)}}).Decode(&sc)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && sc.Score == 0) {
		return Standing{MemberID: memberID}, nil
	}
	if err != nil {
		return Standing{}, err
	}
	n, err := s.above(ctx, b.Key, sc.Score)
	if err != nil {
		return Standing{}, err
	}
	return Standing{MemberID: memberID, Score: sc.Score, Rank: n + 1}, nil
}

// AroundMe returns up to radius visible members above and below the
// member, with the member in the middle.
func (s *Boards) AroundMe(ctx context.Context, b Board, memberID bson.ObjectID, radius int) ([]Standing, error) {
	if radius < 1 || radius > 50 {
		return nil, input.Errorf("radius", "must be between 1 and 50")
	}
	me, err := s.RankOf(ctx, b, memberID)
	if err != nil || me.Rank == 0 {
		return nil, err
	}
	base := bson.D{{Key: "board", Value: b.Key}, {Key: "hidden", Value: false}, {Key: "memberId", Value: bson.D{{Key: "$ne", Value: memberID}}}}
	aboveF := append(slices.Clone(base), bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: "score", Value: bson.D{{Key: "$gt", Value: me.Score}}}},
		bson.D{{Key: "score", Value: me.Score}, {Key: "memberId", Value: bson.D{{Key: "$lt", Value: memberID}}}},
	}})
	belowF := append(slices.Clone(base), bson.E{Key: "score", Value: bson.D{{Key: "$gt", Value: 0}}}, bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: "score", Value: bson.D{{Key: "$lt", Value: me.Score}}}},
		bson.D{{Key: "score", Value: me.Score}, {Key: "memberId", Value: bson.D{{Key: "$gt", Value: memberID}}}},
	}})
	up, err := s.standings(ctx, b, aboveF, bson.D{{Key: "board", Value: 1}, {Key: "hidden", Value: 1}, {Key: "score", Value: 1}, {Key: "memberId", Value: -1}}, radius)
	if err != nil {
		return nil, err
	}
	down, err := s.standings(ctx, b, belowF, bson.D{{Key: "board", Value: 1}, {Key: "hidden", Value: 1}, {Key: "score", Value: -1}, {Key: "memberId", Value: 1}}, radius)
	if err != nil {
		return nil, err
	}
	slices.Reverse(up)
	return append(append(up, me), down...), nil
}

// consistent compares the tree's total with the visible members scoring.
func (s *Boards) consistent(ctx context.Context, board string) (bool, error) {
	var root struct {
		C int64 `bson:"c"`
	}
	err := s.tree.FindOne(ctx, bson.D{{Key: "_id", Value: nodeID(board, treeRoot)}}).Decode(&root)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return false, err
	}
	n, err := s.scores.CountDocuments(ctx, bson.D{{Key: "board", Value: board}, {Key: "hidden", Value: false}, {Key: "score", Value: bson.D{{Key: "$gt", Value: 0}}}})
	return err == nil && n == root.C, err
}

// rebuild recomputes a board's tree from its scores.
func (s *Boards) rebuild(ctx context.Context, board string) error {
	cur, err := s.scores.Find(ctx, bson.D{{Key: "board", Value: board}, {Key: "hidden", Value: false}, {Key: "score", Value: bson.D{{Key: "$gt", Value: 0}}}},
		options.Find().SetProjection(bson.D{{Key: "score", Value: 1}}))
	if err != nil {
		return err
	}
	counts := map[int64]int64{}
	for cur.Next(ctx) {
		var sc struct {
			Score int64 `bson:"score"`
		}
		if err := cur.Decode(&sc); err != nil {
			return err
		}
		for _, n := range updatePath(sc.Score) {
			counts[n]++
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	var ops []mongo.WriteModel
	for n, c := range counts {
		ops = append(ops, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: nodeID(board, n)}}).
			SetReplacement(bson.D{{Key: "_id", Value: nodeID(board, n)}, {Key: "c", Value: c}}).SetUpsert(true))
	}
	// Nodes no score reaches any more are zeroed, not left stale.
	stale, err := s.tree.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: board + "#"}, {Key: "$lt", Value: board + "$"}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return err
	}
	var ids []struct {
		ID string `bson:"_id"`
	}
	if err := stale.All(ctx, &ids); err != nil {
		return err
	}
	for _, id := range ids {
		var n int64
		if _, err := fmt.Sscanf(strings.TrimPrefix(id.ID, board+"#"), "%d", &n); err == nil && counts[n] == 0 {
			ops = append(ops, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: id.ID}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "c", Value: 0}}}}))
		}
	}
	if len(ops) == 0 {
		return nil
	}
	_, err = s.tree.BulkWrite(ctx, ops, options.BulkWrite().SetOrdered(false))
	return err
}
