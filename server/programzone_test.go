package main

import "testing"

// The brand and moderators read the program's timezone (the console shows
// times in it); a customer may not; a program with none set is in UTC.
func TestProgramTimezoneForStaff(t *testing.T) {
	a := startApp(t, nil)
	const q = `{ programTimezone }`
	var zone string
	a.service(t, q, nil).decode(t, "programTimezone", &zone)
	if zone != "UTC" {
		t.Fatalf("no timezone set: %q, want UTC", zone)
	}
	a.service(t, `mutation { updateProgram(input: {timezone: "America/New_York"}) { version } }`, nil).decode(t, "updateProgram", &struct{}{})
	for _, role := range []string{"MODERATOR", "BRAND"} {
		s := a.signUp(t, role+"@example.com")
		a.service(t, `mutation($id: ID!, $r: Role!) { grantRole(memberId: $id, role: $r) { roles } }`, map[string]any{"id": s.Member.ID, "r": role}).decode(t, "grantRole", &struct{}{})
		a.do(t, "", `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`, map[string]any{"t": s.RefreshToken}).decode(t, "refreshToken", &s)
		a.do(t, s.bearer(), q, nil).decode(t, "programTimezone", &zone)
		if zone != "America/New_York" {
			t.Fatalf("%s reads %q, want America/New_York", role, zone)
		}
	}
	ann := a.signUp(t, "ann@example.com")
	if r := a.do(t, ann.bearer(), q, nil); r.code() != "FORBIDDEN" {
		t.Fatalf("a customer reading the program's timezone: %+v", r.Errors)
	}
}
