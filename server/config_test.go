package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestConfigDefaults(t *testing.T) {
	c, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.MongoURI != "" || c.DataDir != "./data" || c.MongoDatabase != "regulars" || !c.Introspection {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	_, err := LoadConfig(env(map[string]string{
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
	if c, err := LoadConfig(env(map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("x", 32), "MONGODB_URI": "mongodb://db:27017"})); err != nil || c.Introspection {
		t.Fatalf("production: introspection=%v err=%v", c.Introspection, err)
	}
	// Production never falls back to the embedded database.
	_, err = LoadConfig(env(map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("x", 32)}))
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
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !strings.Contains(string(readme), "`"+s.name+"`") {
			t.Errorf("README.md does not document %s", s.name)
		}
	}
}
