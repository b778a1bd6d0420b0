package main

import (
	"bufio"
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
