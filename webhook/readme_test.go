package webhook

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The README's receiver (the Go block after "A receiver in Go") accepts
// what Sign makes and refuses a tampered body, another secret and an old
// timestamp: its verifySignature is compiled and run against the signer.
func TestReadmeReceiverVerifiesTheSigner(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "**A receiver in Go**")
	if !ok {
		t.Fatal("README: no receiver example")
	}
	_, rest, ok = strings.Cut(rest, "```go\n")
	code, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 || !strings.Contains(code, "func verifySignature(") {
		t.Fatal("README: the receiver example has no verifySignature")
	}

	const secret = "whsec_readme_0123456789"
	body := []byte(`{"id":"evt_1","type":"member.created","created":"2030-01-01T00:00:00Z","data":{}}`)
	now := time.Now()
	header := Sign(secret, now, body)
	old := Sign(secret, now.Add(-10*time.Minute), body)
	cases := []struct {
		secret, header string
		body           []byte
		want           bool
	}{
		{secret, header, body, true},
		{secret, header + ",v1=00", body, true}, // several signatures (a secret rolled): one matching is enough
		{secret, header, append([]byte(" "), body...), false},
		{"whsec_another_secret_000", header, body, false},
		{secret, old, body, false},
		{secret, "v1=" + strings.SplitN(header, "v1=", 2)[1], body, false},
		{secret, "", body, false},
	}
	var test strings.Builder
	test.WriteString("package main\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nfunc TestVerify(t *testing.T) {\n")
	fmt.Fprintf(&test, "\tnow := time.Unix(%d, 0)\n", now.Unix())
	for i, c := range cases {
		fmt.Fprintf(&test, "\tif got := verifySignature(%q, %q, []byte(%q), now); got != %v {\n\t\tt.Errorf(\"case %d: got %%v, want %v\", got)\n\t}\n",
			c.secret, c.header, c.body, c.want, i, c.want)
		// The package's own check agrees with the README's.
		if got := Verify(c.secret, c.header, c.body, now, 5*time.Minute) == nil; got != c.want {
			t.Errorf("case %d: Verify says %v, want %v", i, got, c.want)
		}
	}
	test.WriteString("}\n")

	dir := t.TempDir()
	for name, text := range map[string]string{
		"go.mod":       "module receiver\n\ngo 1.22\n",
		"main.go":      code,
		"main_test.go": test.String(),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "test", "-count=1", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's receiver: %v\n%s", err, out)
	}
}
