package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

// The reference graphql-ws client (the one Apollo Client's GraphQLWsLink
// wraps) runs a query and a subscription against the real server. Needs
// node and npm; the packages are TestClientsInterop's, exact versions from
// testdata/clients/package-lock.json.
func TestReferenceClientInterop(t *testing.T) {
	// The pinned packages of testdata/clients include graphql-ws and ws.
	dir := installClients(t)
	copyFiles(t, filepath.Join("testdata", "graphql-ws"), dir, "client.mjs")
	a := startApp(t, nil)

	ann := a.signUp(t, "ann@example.com")
	cmd := exec.Command("node", "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WS_URL=ws://"+a.Addr()+"/graphql", "TOKEN="+ann.AccessToken)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testkit.Defer(t, func() error {
		if err := cmd.Process.Kill(); !errors.Is(err, os.ErrProcessDone) {
			return err
		}
		return nil
	})

	events := map[string]json.RawMessage{}
	lines := bufio.NewScanner(out)
	deadline := time.Now().Add(30 * time.Second)
	for lines.Scan() && time.Now().Before(deadline) {
		var ev struct {
			Event string          `json:"event"`
			Data  json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
			t.Fatalf("client printed %q", lines.Text())
		}
		events[ev.Event] = ev.Data
		if ev.Event == "subscribed" {
			a.waitSubscribers(t, ann.Member.ID, 1)
			a.service(t, `mutation($id: ID!) { sendNotification(memberId: $id, title: "from the brand", body: "hi") { id } }`,
				map[string]any{"id": ann.Member.ID}).decode(t, "sendNotification", &struct{}{})
		}
		if ev.Event == "notification" || ev.Event == "error" || ev.Event == "timeout" {
			break
		}
	}
	if !strings.Contains(string(events["query"]), "ann@example.com") {
		t.Errorf("query over the socket: %s", events["query"])
	}
	if !strings.Contains(string(events["notification"]), "from the brand") {
		t.Fatalf("subscription: %v", events)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("client exited: %v", err)
	}
}

// The README's live snippet, run as pasted (its four app functions filled
// in) under the pinned graphql-ws: the server it is connected to stops and
// starts again on the same port and database. The client must come back by
// itself and resume after the newest notification it showed, so one stored
// (through another instance) while the server was down arrives once, and
// the next one live after it.
func TestReadmeLiveSnippetSurvivesRestart(t *testing.T) {
	dir := installClients(t)
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, nil)
	addr, dbName := a.Addr(), a.Config.MongoDatabase
	snippet := readmeCodeAfter(t, string(readme), "The socket speaks [graphql-transport-ws]")
	snippet = strings.ReplaceAll(snippet, "ws://localhost:8080/graphql", "ws://"+addr+"/graphql")
	// The snippet's error handler is console.error: shadowed, so the test
	// hears of a subscription that ended.
	prelude := `const say = (event, data) => process.stdout.write(JSON.stringify({ event, data }) + '\n');
const console = { ...globalThis.console, error: (e) => say('error', String(e?.message ?? e)) };
const getAccessToken = () => process.env.TOKEN;
const loadCursor = () => process.env.CURSOR;
const saveCursor = () => {};
const show = (n) => say('notification', n);
`
	epilogue := `client.on('connected', () => say('connected', null));
client.on('error', () => say('refused', null));
`
	if err := os.WriteFile(filepath.Join(dir, "readme-live.mjs"), []byte(prelude+snippet+epilogue), 0o644); err != nil {
		t.Fatal(err)
	}

	ann := a.signUp(t, "ann@example.com")
	// First launch: the cursor of the newest notification in the inbox (the WELCOME).
	var inbox struct {
		Edges []struct{ Cursor string } `json:"edges"`
	}
	a.do(t, ann.bearer(), `{ notifications(first: 1) { edges { cursor } } }`, nil).decode(t, "notifications", &inbox)
	if len(inbox.Edges) != 1 {
		t.Fatalf("inbox: %+v", inbox)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "readme-live.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TOKEN="+ann.AccessToken, "CURSOR="+inbox.Edges[0].Cursor)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testkit.Defer(t, func() error {
		if err := cmd.Process.Kill(); !errors.Is(err, os.ErrProcessDone) {
			return err
		}
		return cmd.Wait()
	})
	type event struct {
		Event string
		Data  json.RawMessage
		Title string
	}
	events := make(chan event)
	go func() {
		defer close(events)
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			var ev event
			if json.Unmarshal(lines.Bytes(), &ev) != nil {
				ev = event{Event: "garbage: " + lines.Text()}
			}
			var n struct{ Title string }
			if json.Unmarshal(ev.Data, &n) == nil {
				ev.Title = n.Title
			}
			events <- ev
		}
	}()
	var next func(want string) event
	next = func(want string) event {
		t.Helper()
		select {
		case ev, ok := <-events:
			if ok && ev.Event == "refused" && want != "refused" {
				return next(want) // a reconnection attempt refused while the server was down
			}
			if !ok || ev.Event != want {
				t.Fatalf("waiting for %s, the client said %s %s (open %v); stderr:\n%s", want, ev.Event, ev.Data, ok, stderr.String())
			}
			return ev
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; stderr:\n%s", want, ctx.Err(), stderr.String())
		}
		return event{}
	}
	notify := func(via *app, title string) {
		t.Helper()
		via.service(t, `mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "hi") { id } }`,
			map[string]any{"id": ann.Member.ID, "t": title}).decode(t, "sendNotification", &struct{}{})
	}

	next("connected")
	a.waitSubscribers(t, ann.Member.ID, 1)
	notify(a, "before")
	if ev := next("notification"); ev.Title != "before" {
		t.Fatalf("first notification: %+v", ev)
	}

	// The server stops; another instance on the same database stores a
	// notification meanwhile; the server starts again where it was.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	other := startApp(t, map[string]string{"MONGODB_DATABASE": dbName})
	notify(other, "while down")
	// The client tried to reconnect and was refused: graphql-ws gives up
	// here unless told to retry.
	next("refused")
	restarted := startApp(t, map[string]string{"MONGODB_DATABASE": dbName, "HTTP_ADDR": addr})

	next("connected")
	if ev := next("notification"); ev.Title != "while down" {
		t.Fatalf("after the restart: %+v, want the notification sent while the server was down", ev)
	}
	restarted.waitSubscribers(t, ann.Member.ID, 1)
	notify(restarted, "after")
	// The next one follows directly: nothing came twice in between.
	if ev := next("notification"); ev.Title != "after" {
		t.Fatalf("after the restart: %+v, want the next notification", ev)
	}
}
