package config

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestConfigDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.MongoURI != "" || c.DataDir != "./data" || c.MongoDatabase != "regulars" || !c.Introspection {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	_, err := Load(env(map[string]string{
		"APP_ENV":          "production",
		"MONGODB_URI":      "postgres://nope",
		"MONGODB_TIMEOUT":  "soon",
		"SERVICE_API_KEYS": "short",
	}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"JWT_SECRET", "MONGODB_URI", "MONGODB_TIMEOUT", "SERVICE_API_KEYS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if c, err := Load(env(map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("x", 32), "MONGODB_URI": "mongodb://db:27017"})); err != nil || c.Introspection {
		t.Fatalf("production: introspection=%v err=%v", c.Introspection, err)
	}
	// Demo data is for development.
	_, err = Load(env(map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("x", 32), "MONGODB_URI": "mongodb://db:27017", "SEED_DEMO": "1"}))
	if err == nil || !strings.Contains(err.Error(), "SEED_DEMO") {
		t.Fatalf("production with SEED_DEMO: err = %v", err)
	}
	if c, err := Load(env(map[string]string{"SEED_DEMO": "1"})); err != nil || !c.SeedDemo {
		t.Fatalf("SEED_DEMO=1: %+v %v", c.SeedDemo, err)
	}
	// Production never falls back to the embedded database.
	_, err = Load(env(map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("x", 32)}))
	if err == nil || !strings.Contains(err.Error(), "MONGODB_URI: required when APP_ENV=production") {
		t.Fatalf("production without MONGODB_URI: err = %v", err)
	}
}

func TestUsageListsEveryVariable(t *testing.T) {
	var b bytes.Buffer
	if err := PrintUsage(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !strings.Contains(b.String(), s.name) {
			t.Errorf("usage lacks %s", s.name)
		}
	}
}

func TestReadmeDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !strings.Contains(string(readme), "`"+s.name+"`") {
			t.Errorf("README.md does not document %s", s.name)
		}
	}
}

// A value that does not parse is reported once, and the TTL rule names
// only the TTLs.
func TestConfigProblemsAreEachReportedOnce(t *testing.T) {
	_, err := Load(env(map[string]string{"MAX_BODY_BYTES": "abc", "ACCESS_TOKEN_TTL": "2h", "REFRESH_TOKEN_TTL": "1h", "WS_SEND_QUEUE": "0"}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	got := strings.Split(err.Error(), "\n")
	want := []string{`MAX_BODY_BYTES="abc": want a whole number`, "REFRESH_TOKEN_TTL: must be longer than ACCESS_TOKEN_TTL", "WS_SEND_QUEUE: must be positive"}
	if len(got) != len(want) {
		t.Fatalf("problems:\n%v\nwant:\n%v", err, strings.Join(want, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("problem %d: %q, want %q", i, got[i], want[i])
		}
	}
}
