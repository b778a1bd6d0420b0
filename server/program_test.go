package main

import (
	"fmt"
	"testing"
)

const updateProgramPatch = `mutation($in: ProgramInput!, $v: Int) { updateProgram(input: $in, expectedVersion: $v) {
  version currency pointsPerUnit escalation returnWindowDays tiers { name } referral { referrerPoints refereePoints }
  streak { freezePrice atRiskHour } campaigns { winBack winBackDays } timezone locale } }`

type programView struct {
	Version          int
	Currency         string
	PointsPerUnit    int
	Escalation       []int
	ReturnWindowDays int
	Tiers            []struct{ Name string }
	Referral         struct{ ReferrerPoints, RefereePoints int }
	Streak           struct{ FreezePrice, AtRiskHour int }
	Campaigns        struct {
		WinBack     bool
		WinBackDays int
	}
	Timezone, Locale string
}

// updateProgram is a patch: what the brand leaves out stays as it was,
// nested rules included; each change is a version in the history.
func TestUpdateProgramIsAPatch(t *testing.T) {
	a := startApp(t, nil)
	var p programView
	a.service(t, updateProgramPatch, map[string]any{"in": map[string]any{"escalation": []int{2, 3, 4}}}).decode(t, "updateProgram", &p)
	// The defaults a fresh program has (README "The program") stay.
	if p.Version != 1 || fmt.Sprint(p.Escalation) != "[2 3 4]" || p.Currency != "USD" || p.PointsPerUnit != 10 || p.ReturnWindowDays != 14 ||
		len(p.Tiers) != 3 || p.Referral.ReferrerPoints != 500 || p.Streak.FreezePrice != 200 || !p.Campaigns.WinBack || p.Timezone != "UTC" || p.Locale != "en" {
		t.Fatalf("after patching escalation: %+v", p)
	}
	a.service(t, updateProgramPatch, map[string]any{"in": map[string]any{
		"returnWindowDays": 0, "referral": map[string]any{"refereePoints": 300}, "campaigns": map[string]any{"winBackDays": 90},
	}}).decode(t, "updateProgram", &p)
	if p.Version != 2 || p.ReturnWindowDays != 0 || fmt.Sprint(p.Escalation) != "[2 3 4]" || p.Referral != (struct{ ReferrerPoints, RefereePoints int }{500, 300}) ||
		p.Campaigns.WinBackDays != 90 || !p.Campaigns.WinBack {
		t.Fatalf("after a nested patch: %+v", p)
	}

	// Bad input names its field and writes nothing.
	r := a.service(t, updateProgramPatch, map[string]any{"in": map[string]any{"pointsPerUnit": 20, "streak": map[string]any{"atRiskHour": 25}}})
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "streak.atRiskHour" {
		t.Fatalf("bad atRiskHour: %+v", r)
	}
	// An update made on an old version is refused; on the current one it lands.
	if r := a.service(t, updateProgramPatch, map[string]any{"in": map[string]any{"pointsPerUnit": 20}, "v": 1}); r.code() != "CONFLICT" {
		t.Fatalf("update on version 1 when 2 is current: %+v", r)
	}
	a.service(t, updateProgramPatch, map[string]any{"in": map[string]any{"pointsPerUnit": 20}, "v": 2}).decode(t, "updateProgram", &p)
	if p.Version != 3 || p.PointsPerUnit != 20 {
		t.Fatalf("update on the current version: %+v", p)
	}

	// The history, newest first, paged.
	const history = `query($after: String) { programHistory(first: 2, after: $after) {
	  edges { node { version pointsPerUnit returnWindowDays } } pageInfo { hasNextPage endCursor } } }`
	type page struct {
		Edges []struct {
			Node struct{ Version, PointsPerUnit, ReturnWindowDays int }
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   string
		}
	}
	var h1, h2 page
	a.service(t, history, nil).decode(t, "programHistory", &h1)
	a.service(t, history, map[string]any{"after": h1.PageInfo.EndCursor}).decode(t, "programHistory", &h2)
	got := fmt.Sprint(append(h1.Edges, h2.Edges...))
	if got != "[{{3 20 0}} {{2 10 0}} {{1 10 14}}]" || !h1.PageInfo.HasNextPage || h2.PageInfo.HasNextPage {
		t.Fatalf("history: %s", got)
	}
}
