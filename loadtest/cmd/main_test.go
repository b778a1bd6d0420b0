package main

import (
	"errors"
	"flag"
	"strings"
	"testing"
)

// -h must not print the service key taken from $SERVICE_KEY: usage ends
// up in terminals' scrollback and CI logs.
func TestUsageDoesNotPrintTheServiceKey(t *testing.T) {
	const key = "sk_live_secret_1234"
	env := func(name string) string {
		if name == "SERVICE_KEY" {
			return key
		}
		return ""
	}
	var out strings.Builder
	if _, _, err := settings([]string{"-h"}, env, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	if strings.Contains(out.String(), key) {
		t.Errorf("usage prints the key:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "$SERVICE_KEY") {
		t.Errorf("usage does not say where the key comes from:\n%s", out.String())
	}

	cfg, _, err := settings(nil, env, &out)
	if err != nil || cfg.ServiceKey != key {
		t.Errorf("no -service-key: key %q, %v; want $SERVICE_KEY's", cfg.ServiceKey, err)
	}
	cfg, _, err = settings([]string{"-service-key", "other"}, env, &out)
	if err != nil || cfg.ServiceKey != "other" {
		t.Errorf("-service-key other: key %q, %v", cfg.ServiceKey, err)
	}
}
