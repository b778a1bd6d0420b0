package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

// Apollo Client and urql, set up as README's client section shows, drive the
// real server from Node (testdata/clients/clients.mjs): sign-up, cursor
// paging merged by relayStylePagination and graphcache's relayPagination,
// a live notification over graphql-ws, a node(id:) refetch and automatic
// persisted queries. The script checks each step itself and prints a report
// per client, which is checked here again.
//
// Skips only when node or npm is missing (.ci/run allows that skip and no
// other). The packages are exact versions from package-lock.json, installed
// with npm ci once per lock file into the gitignored .cache/ directory.
func TestClientsInterop(t *testing.T) {
	dir := installClients(t)
	// Every client here is one IP, and the brand's calls one caller: the
	// default limits are for the many phones of production.
	a := startApp(t, map[string]string{"RATE_LIMIT_IP_RPS": "1000", "RATE_LIMIT_IP_BURST": "1000", "RATE_LIMIT_MEMBER_RPS": "1000", "RATE_LIMIT_MEMBER_BURST": "1000"})

	writeReadmeSetups(t, dir, a)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "clients.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HTTP_URL="+a.url, "API_KEY="+testAPIKey, "NODE_ENV=production")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("clients.mjs: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}

	type request struct {
		HashOnly bool    `json:"hashOnly"`
		Code     *string `json:"code"`
	}
	reports := map[string]struct {
		MemberID string   `json:"memberId"`
		Pages    []int    `json:"pages"`
		Merged   []string `json:"merged"`
		Live     struct{ ID, Title string }
		Refetch  struct {
			Typename string `json:"__typename"`
			ID       string `json:"id"`
			Email    string `json:"email"`
		} `json:"refetched"`
		Persisted []request `json:"persistedRequests"`
	}{}
	lines := bufio.NewScanner(bytes.NewReader(out))
	for lines.Scan() {
		var r struct {
			Client string `json:"client"`
		}
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			t.Fatalf("clients.mjs printed %q", lines.Text())
		}
		rep := reports[r.Client]
		if err := json.Unmarshal(lines.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		reports[r.Client] = rep
	}
	// 1 welcome and 4 notifications, two a page, so three pages. Apollo's
	// fetchMore answers each page (2, 2, 1); urql answers each page query
	// with all pages merged so far (2, 4, 5).
	pages := map[string]string{"apollo": "[2,2,1]", "urql": "[2,4,5]"}
	for _, name := range []string{"apollo", "urql"} {
		r, ok := reports[name]
		if !ok {
			t.Errorf("%s: no report in %s", name, out)
			continue
		}
		if jsonString(r.Pages) != pages[name] || len(r.Merged) != 5 {
			t.Errorf("%s paging: pages %v, merged %v", name, r.Pages, r.Merged)
		}
		if r.Live.Title != name+" live" {
			t.Errorf("%s subscription: %+v", name, r.Live)
		}
		if r.Refetch.Typename != "Member" || r.Refetch.ID != r.MemberID || r.Refetch.Email != name+"@example.com" {
			t.Errorf("%s node refetch: %+v", name, r.Refetch)
		}
		if len(r.Persisted) != 3 || !r.Persisted[0].HashOnly || deref(r.Persisted[0].Code) != "PERSISTED_QUERY_NOT_FOUND" ||
			r.Persisted[1].HashOnly || r.Persisted[1].Code != nil || !r.Persisted[2].HashOnly || r.Persisted[2].Code != nil {
			t.Errorf("%s persisted queries: %s", name, jsonString(r.Persisted))
		}
	}
}

// writeReadmeSetups writes README's Apollo and urql set-ups out as modules
// for clients.mjs, as a reader would paste them: only the URLs point at the
// test server, and a few exports are added so the script can use the client.
func writeReadmeSetups(t *testing.T, dir string, a *app) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ file, after, exports string }{
		{"readme-apollo.mjs", "Apollo Client (`npm install", `
export { client };
export const setToken = (t) => { token = t; };
export const closeSocket = () => wsLink.client.dispose();
`},
		{"readme-urql.mjs", "urql (`npm install", `
export { client };
export const setToken = (t) => { token = t; };
export const closeSocket = () => wsClient.dispose();
`},
	} {
		code := readmeCodeAfter(t, string(readme), s.after)
		code = strings.ReplaceAll(code, "http://localhost:8080/graphql", a.url)
		code = strings.ReplaceAll(code, "ws://localhost:8080/graphql", "ws://"+a.Addr()+"/graphql")
		if err := os.WriteFile(filepath.Join(dir, s.file), []byte(code+s.exports), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readmeCodeAfter returns the first ```js block after the line starting with marker.
func readmeCodeAfter(t *testing.T, readme, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "\n"+marker)
	if ok {
		_, rest, ok = strings.Cut(rest, "```js\n")
	}
	code, _, closed := strings.Cut(rest, "\n```")
	if !ok || !closed {
		t.Fatalf("README has no js block after %q", marker)
	}
	return code + "\n"
}

// installClients returns a directory holding clients.mjs and the packages
// of package-lock.json, installed by npm ci unless an earlier run left them.
// It skips t where node or npm is missing, the one skip .ci/run allows.
func installClients(t *testing.T) string {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: skipping the interop test", tool)
		}
	}
	t.Helper()
	src := filepath.Join("testdata", "clients")
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	cache, err := filepath.Abs(filepath.Join("..", ".cache", "clients-"+hex.EncodeToString(sum[:6])))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cache, "node_modules", ".package-lock.json")); err != nil {
		// Install beside the cache, then move it in whole: an interrupted
		// install never passes for a finished one.
		if err := os.MkdirAll(filepath.Dir(cache), 0o755); err != nil {
			t.Fatal(err)
		}
		tmp, err := os.MkdirTemp(filepath.Dir(cache), "install-")
		if err != nil {
			t.Fatal(err)
		}
		testkit.Defer(t, func() error { return os.RemoveAll(tmp) })
		copyFiles(t, src, tmp, "package.json", "package-lock.json")
		install := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		install.Dir = tmp
		if out, err := install.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
		if err := os.RemoveAll(cache); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cache); err != nil {
			t.Fatal(err)
		}
	}
	copyFiles(t, src, cache, "clients.mjs")
	return cache
}

func copyFiles(t *testing.T, from, to string, names ...string) {
	t.Helper()
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only strings are passed
	}
	return string(b)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
