package main

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/regulars/regulars/console"
	"github.com/regulars/regulars/server/config"
)

// Every file of the console's source tree is in the binary, byte for byte:
// a file added to console/ but left out of its go:embed would be a page
// that works from a checkout and 404s from the binary. Go files and the
// browser tests (e2e/) are not part of the app.
func TestConsoleFilesAreEmbedded(t *testing.T) {
	app, graphiql := console.FS(), console.GraphiQL()
	n := 0
	err := filepath.WalkDir("../console", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel("../console", path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "e2e" {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(rel, ".go") {
			return nil
		}
		want, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		from, name := app, rel
		if after, ok := strings.CutPrefix(rel, "graphiql/"); ok {
			from, name = graphiql, after
		}
		got, err := fs.ReadFile(from, name)
		if err != nil {
			t.Errorf("console/%s is not embedded (add it to the go:embed in console/console.go): %v", rel, err)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("console/%s: the embedded copy differs from the file", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d console files found", n)
	}
}

// /console serves the app with a Content-Security-Policy that allows its
// own origin only (scripts, styles, GraphQL and the socket to this host);
// /graphiql is there in development.
func TestConsoleServedWithCSP(t *testing.T) {
	a := startApp(t, nil)
	for _, path := range []string{"/console", "/console/", "/console/app.js", "/console/pages/events.js"} {
		status, ctype, body := a.getFile(t, path, "")
		if status != 200 || body == "" {
			t.Fatalf("GET %s: %d", path, status)
		}
		if strings.HasSuffix(path, ".js") != strings.Contains(ctype, "javascript") {
			t.Errorf("GET %s: Content-Type %q", path, ctype)
		}
	}
	res, err := http.DefaultClient.Do(newRequest(t, http.MethodGet, "http://"+a.Addr()+"/console/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Body.Close(); err != nil {
		t.Fatal(err)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self' ws://" + a.Addr() + " wss://" + a.Addr(), "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "*") {
		t.Errorf("CSP %q allows more than the console's origin", csp)
	}
	if status, _, body := a.getFile(t, "/graphiql", ""); status != 200 || !strings.Contains(body, "/graphiql/vendor/graphiql.min.js") {
		t.Errorf("GET /graphiql in development: %d", status)
	}
	if status, _, _ := a.getFile(t, "/graphiql/vendor/react.production.min.js", ""); status != 200 {
		t.Errorf("GraphiQL's assets are not served locally: %d", status)
	}
}

// GraphiQL is a development page: production does not serve it.
func TestGraphiQLNotInProduction(t *testing.T) {
	app := fiber.New()
	(&Main{Config: config.Config{Env: "production"}}).mountConsole(app)
	for path, want := range map[string]int{"/graphiql": 404, "/graphiql/index.html": 404, "/console/index.html": 200} {
		res, err := app.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != want {
			t.Errorf("production GET %s: %d, want %d", path, res.StatusCode, want)
		}
	}
}
