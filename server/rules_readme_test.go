package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

// README's "Writing earning rules" requests, posted as written (with the
// ids they name filled in): each answers without an error, and the dry run
// finishes.
func TestReadmeEarningRuleExamplesWork(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start := strings.Index(doc, "## Writing earning rules")
	end := strings.Index(doc[start:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README has no Writing earning rules section")
	}
	bodies := regexp.MustCompile(`(?s)-d '(\{.*?\})'`).FindAllStringSubmatch(doc[start:start+end], -1)
	if len(bodies) != 8 {
		t.Fatalf("found %d requests in the section, want 8", len(bodies))
	}
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	ids := map[string]string{"MEMBER_ID": ann.Member.ID}
	for i, b := range bodies {
		body := b[1]
		for k, v := range ids {
			body = strings.ReplaceAll(body, k, v)
		}
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			t.Fatalf("request %d is not JSON: %v", i, err)
		}
		r := a.service(t, req.Query, req.Variables)
		if len(r.Errors) > 0 {
			t.Fatalf("request %d: %+v", i, r.Errors)
		}
		var out map[string]map[string]any
		if err := json.Unmarshal(mustJSON(t, r.Data), &out); err != nil {
			t.Fatal(err)
		}
		if c := out["createEarningRule"]; c != nil {
			placeholder := map[string]string{"SKU X bonus": "RULE_ID_SKU_X", "Gold Tuesdays": "RULE_ID_GOLD_TUESDAYS"}
			if p := placeholder[req.Variables["in"].(map[string]any)["name"].(string)]; p != "" {
				ids[p] = c["id"].(string)
			}
		}
		if c := out["recordActivity"]; c != nil {
			ids["ACTIVITY_ID"] = c["activity"].(map[string]any)["id"].(string)
		}
		if c := out["simulateRules"]; c != nil {
			ids["SIMULATION_ID"] = c["id"].(string)
			testkit.Eventually(t, 30*time.Second, func() bool {
				var s struct{ Status string }
				a.service(t, `query($id: ID!) { ruleSimulation(id: $id) { status } }`, map[string]any{"id": ids["SIMULATION_ID"]}).decode(t, "ruleSimulation", &s)
				return s.Status == "DONE"
			}, "the README's dry run to finish")
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
