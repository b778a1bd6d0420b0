package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/regulars/regulars/internal/testkit"
)

// TestMongoCommandsPerOperation counts, through the API, the MongoDB
// commands (round trips) of the operations a loyalty app sends most
// (issue 19): what regulars_graphql_operation_mongodb_commands reports
// for each named operation on /metrics, so what a client pays, resolvers
// and dataloaders included. Background loops are not counted: they run on
// their own contexts. BENCHMARKS.md lists the figures and why each
// command is needed.
func TestMongoCommandsPerOperation(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	const people = 4
	var members []session
	for i := range people {
		members = append(members, a.signUp(t, fmt.Sprintf("rt%d@example.com", i)))
	}
	var reward struct{ ID string }
	a.service(t, `mutation CreateReward { createReward(input: {name: "Coffee", cost: 100}) { id } }`, nil).decode(t, "createReward", &reward)

	// The load test's own documents (loadtest/run.go), named. A member's
	// second check-in of a day answers the first: only the first is counted.
	ops := []struct {
		name   string
		run    func(i, k int) *gqlResponse
		field  string
		rounds int
	}{
		{"Purchase", func(i, k int) *gqlResponse {
			return a.service(t, `mutation Purchase($in: RecordActivityInput!) { recordActivity(input: $in) { entries { amount } } }`,
				purchaseVars(members[i].Member.ID, fmt.Sprintf("rt-%d-%d", i, k), 2500))
		}, "recordActivity", 3},
		{"CheckIn", func(i, _ int) *gqlResponse {
			return a.do(t, members[i].bearer(), `mutation CheckIn { checkIn { entries { amount } } }`, nil)
		}, "checkIn", 1},
		{"Redeem", func(i, k int) *gqlResponse {
			return a.do(t, members[i].bearer(), `mutation Redeem($r: ID!, $k: String!) { redeemReward(rewardId: $r, idempotencyKey: $k) { id } }`,
				map[string]any{"r": reward.ID, "k": fmt.Sprintf("rt-%d-%d", i, k)})
		}, "redeemReward", 3},
		{"Me", func(i, _ int) *gqlResponse {
			return a.do(t, members[i].bearer(), `query Me { me { displayName points { balance available } tier { current { name } } } }`, nil)
		}, "me", 3},
		{"Leaderboard", func(i, _ int) *gqlResponse {
			return a.do(t, members[i].bearer(), `query Leaderboard { leaderboard(period: WEEKLY, first: 10) { edges { node { rank score member { displayName } } } } }`, nil)
		}, "leaderboard", 3},
	}
	for k := range 3 {
		for _, op := range ops {
			for i := range people {
				if k >= op.rounds {
					break
				}
				if r := op.run(i, k); len(r.Errors) > 0 || len(r.Data[op.field]) == 0 {
					t.Fatalf("%s (member %d, round %d): %+v", op.name, i, k, r.Errors)
				}
			}
		}
	}

	sums, counts := commandFigures(t, a)
	// Bounds: the figures measured, with room for a read of what an
	// instance caches for a time (the program, the rule set) coming due
	// (BENCHMARKS.md lists the commands). Before: `me` 4.2 (the ledger's
	// head read three times), a check-in 19 (then 17), a redemption 14, a
	// purchase 18: a purchase and a check-in that do not ask for their
	// streak or badges are now answered once their points are written,
	// the rest of their effects following the answer
	// (game.ActivityInput.AnswerFirst).
	bounds := map[string]float64{"Purchase": 6.5, "CheckIn": 5.5, "Redeem": 11, "Me": 3, "Leaderboard": 3.5}
	var report []string
	for _, op := range ops {
		if want := float64(people * op.rounds); counts[op.name] != want {
			t.Fatalf("%s: %v operations counted, want %v", op.name, counts[op.name], want)
		}
		per := sums[op.name] / counts[op.name]
		report = append(report, fmt.Sprintf("%s %.1f", op.name, per))
		if per > bounds[op.name] {
			t.Errorf("%s sends %.1f MongoDB commands, more than %.0f", op.name, per, bounds[op.name])
		}
		if per < 1 {
			t.Errorf("%s sends %.1f MongoDB commands: the count misses its reads", op.name, per)
		}
	}
	t.Logf("MongoDB commands per operation: %s", strings.Join(report, ", "))
}

// commandFigures reads regulars_graphql_operation_mongodb_commands' sum
// and count per operation from /metrics.
func commandFigures(t *testing.T, a *app) (sums, counts map[string]float64) {
	t.Helper()
	status, body := scrapeMetrics(t, a)
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d %s", status, body)
	}
	sums, counts = map[string]float64{}, map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		name, rest, ok := strings.Cut(line, `{operation="`)
		if !ok {
			continue
		}
		op, value, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		switch name {
		case "regulars_graphql_operation_mongodb_commands_sum":
			sums[op] = v
		case "regulars_graphql_operation_mongodb_commands_count":
			counts[op] = v
		}
	}
	return sums, counts
}

// Operations named in a GET's document keep their names on /metrics:
// Fiber's query values point into a request buffer the next request
// reuses, and a label kept from one was rewritten by later requests (two
// series came to share a name, and /metrics answered 500 from then on).
func TestGetOperationNamesSurviveLaterRequests(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "get@example.com")
	names := []string{"Abcdef", "NoTokGet", "ZZZZZZ", "QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "abcdefghijklmnopqrstuvwxyz", "ViaGet"}
	for round := range 3 {
		for i, name := range names {
			req, err := http.NewRequest(http.MethodGet, a.url+"?query="+url.QueryEscape("query "+name+" { me { id } }"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if (i+round)%2 == 0 {
				req.Header.Set("Authorization", ann.bearer())
			}
			if _, err := roundTrip(req); err != nil {
				t.Fatal(err)
			}
		}
	}
	status, body := scrapeMetrics(t, a)
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d %s", status, body)
	}
	for _, name := range names {
		if !strings.Contains(string(body), `regulars_graphql_operations_total{operation="`+name+`",transport="http"} 3`) {
			t.Errorf("%s is not counted 3 times under its own name:\n%s", name, body)
		}
	}
}

// scrapeMetrics reads the server's /metrics: its status and text.
func scrapeMetrics(t *testing.T, a *app) (int, []byte) {
	t.Helper()
	res, err := http.Get("http://" + a.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, testkit.Must(readBody(res))(t)
}
