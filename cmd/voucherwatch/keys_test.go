package main

import (
	"bytes"
	"errors"
	"flag"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestServeRefusesWithoutKeys runs "voucherwatch serve" (this test binary re-executed as the
// command) without VW_PII_KEY or VW_SESSION_KEY: it must exit non-zero naming what is missing,
// before it listens or connects to anything.
func TestServeRefusesWithoutKeys(t *testing.T) {
	if os.Getenv("VW_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"voucherwatch"}, strings.Fields(os.Getenv("VW_TEST_ARGS"))...)
		main()
		return
	}
	f := func(env []string, wantMissing []string) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestServeRefusesWithoutKeys$")
		cmd.Env = append(os.Environ(), "VW_TEST_RUN_MAIN=1", "VW_PII_KEY=", "VW_SESSION_KEY=", "VW_COMPLAINT_KEY=",
			"VW_TEST_ARGS=serve --http 127.0.0.1:0 --embedded-kafka 127.0.0.1:0 --clickhouse clickhouse://127.0.0.1:1/none")
		cmd.Env = append(cmd.Env, env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Fatalf("%v: got %v, want a non-zero exit; stderr:\n%s", env, err, stderr.String())
		}
		for _, name := range wantMissing {
			if !strings.Contains(stderr.String(), name) {
				t.Errorf("%v: stderr does not name %s:\n%s", env, name, stderr.String())
			}
		}
		if !strings.Contains(stderr.String(), "--dev-insecure-keys") {
			t.Errorf("%v: stderr does not name the development flag:\n%s", env, stderr.String())
		}
	}
	f(nil, []string{"VW_PII_KEY", "VW_SESSION_KEY", "VW_COMPLAINT_KEY"})
	f([]string{"VW_PII_KEY=a-secret-pii-key-for-this-test"}, []string{"VW_SESSION_KEY"})
	f([]string{"VW_SESSION_KEY=a-secret-session-key-for-this-test"}, []string{"VW_PII_KEY"})
	f([]string{"VW_PII_KEY=a-secret-pii-key-for-this-test", "VW_SESSION_KEY=a-secret-session-key-for-this-test"}, []string{"VW_COMPLAINT_KEY"})
}

// TestDevelopmentKeys: only --dev-insecure-keys starts without keys, and then the session key
// is random to the process, never the one anyone can derive from the public PII key (with
// which a demo cookie could be re-signed with any expiry).
func TestDevelopmentKeys(t *testing.T) {
	var c Config
	if err := c.parse(flag.NewFlagSet("test", flag.ContinueOnError), []string{"--dev-insecure-keys"}); err != nil {
		t.Fatal(err)
	}
	c.PIIKey, c.SessionKey, c.ComplaintKey = "", "", ""
	k1, err1 := c.keys()
	k2, err2 := c.keys()
	if err1 != nil || err2 != nil {
		t.Fatalf("with --dev-insecure-keys: got %v, %v; want keys", err1, err2)
	}
	public := ui.DeriveSessionKey(devPIIKey)
	if string(k1.PII) != devPIIKey || len(k1.Session) < 16 || bytes.Equal(k1.Session, k2.Session) || bytes.Equal(k1.Session, public) {
		t.Errorf("got PII %q and session keys %x, %x; want the development PII key and a random session key each time, not %x", k1.PII, k1.Session, k2.Session, public)
	}
	c.DevInsecureKeys = false
	if _, err := c.keys(); !errors.Is(err, errMissingKeys) {
		t.Errorf("without the flag: got %v, want a refusal", err)
	}
	if len(k1.Complaint) < 16 || bytes.Equal(k1.Complaint, k2.Complaint) {
		t.Errorf("got complaint keys %x, %x; want a random one each time", k1.Complaint, k2.Complaint)
	}
	c.PIIKey, c.SessionKey, c.ComplaintKey = "pii", "short", "complaint-key-of-enough-bytes"
	if _, err := c.keys(); err == nil || !strings.Contains(err.Error(), "VW_SESSION_KEY") {
		t.Errorf("a 5-byte session key: got %v, want a refusal naming VW_SESSION_KEY", err)
	}
	c.SessionKey, c.ComplaintKey = "session-key-of-enough-bytes", "short"
	if _, err := c.keys(); err == nil || !strings.Contains(err.Error(), "VW_COMPLAINT_KEY") {
		t.Errorf("a 5-byte complaint key: got %v, want a refusal naming VW_COMPLAINT_KEY", err)
	}
}

// TestBootstrapTokenNeverLogged: a generated bootstrap token is shown on the terminal once
// and never written to the log; without a terminal none is generated.
func TestBootstrapTokenNeverLogged(t *testing.T) {
	var log, term bytes.Buffer
	m := NewMain(Config{})
	m.Log = slog.New(slog.NewTextHandler(&log, nil))
	m.Terminal = &term
	token := m.bootstrapToken()
	if len(token) < 32 || !strings.Contains(term.String(), token) {
		t.Fatalf("got token %q and terminal %q, want a token shown on the terminal", token, term.String())
	}
	if strings.Contains(log.String(), token) || strings.Contains(log.String(), token[:8]) {
		t.Errorf("the log holds the bootstrap token:\n%s", log.String())
	}
	log.Reset()
	m.Terminal = nil
	if token := m.bootstrapToken(); token != "" || !strings.Contains(log.String(), "VW_BOOTSTRAP_TOKEN") {
		t.Errorf("without a terminal: got token %q and log %q, want none and a warning", token, log.String())
	}
	m.Config.BootstrapToken = "configured-token"
	if token := m.bootstrapToken(); token != "configured-token" {
		t.Errorf("configured: got %q", token)
	}
}
