package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A renewal the server refuses (the database away for a moment) must not
// stop the other members' renewals: a soak would otherwise lose every
// socket whose token was not renewed when its access token expires.
func TestRefreshAllRenewsPastAFailure(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Variables map[string]string `json:"variables"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		calls.Add(1)
		rt := req.Variables["t"]
		answer := fmt.Sprintf(`{"data":{"refreshToken":{"accessToken":"a-%s","refreshToken":"r-%s","member":{"id":"x"}}}}`, rt, rt)
		if strings.HasSuffix(rt, "-1") {
			answer = `{"errors":[{"message":"the database is not answering","extensions":{"code":"UNAVAILABLE"}}]}`
		}
		if _, err := fmt.Fprint(w, answer); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	c := &client{url: srv.URL, http: srv.Client()}
	var members []*member
	for i := range 3 {
		members = append(members, &member{email: fmt.Sprint(i), access: "old", refresh: fmt.Sprintf("rt-%d", i)})
	}
	failed, err := refreshAll(context.Background(), c, members)
	if err == nil || len(failed) != 1 || failed[0] != members[1] {
		t.Fatalf("failed %v, err %v: want member 1 alone, with an error", failed, err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d renewals asked for, want 3", calls.Load())
	}
	for _, i := range []int{0, 2} {
		if want := fmt.Sprintf("r-rt-%d", i); members[i].refresh != want || members[i].access != "a-rt-"+fmt.Sprint(i) {
			t.Errorf("member %d: tokens %q, %q; want renewed", i, members[i].access, members[i].refresh)
		}
	}
	if members[1].refresh != "rt-1" {
		t.Errorf("member 1's refresh token changed to %q on a refused renewal", members[1].refresh)
	}
}

// A member whose session ended (a renewal the server applied but whose
// answer was lost spends the refresh token; using it again revokes the
// session) signs in again instead of losing its socket for the rest of
// the run.
func TestRefreshAllSignsInAgainWhenTheSessionEnded(t *testing.T) {
	var logIns atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query string `json:"query"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		answer := `{"errors":[{"message":"Session revoked","extensions":{"code":"UNAUTHENTICATED"}}]}`
		if strings.Contains(req.Query, "logIn") {
			logIns.Add(1)
			answer = `{"data":{"logIn":{"accessToken":"a-new","refreshToken":"r-new","member":{"id":"x"}}}}`
		}
		if _, err := fmt.Fprint(w, answer); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	c := &client{url: srv.URL, http: srv.Client()}
	m := &member{email: "ann@example.com", access: "old", refresh: "spent"}
	if failed, err := refreshAll(context.Background(), c, []*member{m}); err != nil || len(failed) != 0 {
		t.Fatalf("failed %v, err %v: want renewed by signing in", failed, err)
	}
	if logIns.Load() != 1 || m.access != "a-new" || m.refresh != "r-new" {
		t.Errorf("%d sign-ins, tokens %q %q; want one, a-new and r-new", logIns.Load(), m.access, m.refresh)
	}
}
