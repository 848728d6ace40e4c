package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestParseJoin_FlagsAroundAddress(t *testing.T) {
	var stderr bytes.Buffer
	cfg, logOpts, err := parseJoin([]string{"--workers", "3", "127.0.0.1:7070", "--max-trials", "1",
		"--idle-exit", "5m", "--grace", "0", "--log-level", "debug", "--log-json"}, &stderr)
	if err != nil {
		t.Fatalf("parseJoin: %v", err)
	}
	if cfg.Addr != "127.0.0.1:7070" {
		t.Errorf("address %q, want 127.0.0.1:7070", cfg.Addr)
	}
	if cfg.Workers != 3 || cfg.MaxTrials != 1 || cfg.IdleExit != 5*time.Minute {
		t.Errorf("workers %d, max trials %d, idle exit %v; want 3, 1, 5m", cfg.Workers, cfg.MaxTrials, cfg.IdleExit)
	}
	if cfg.Grace >= 0 {
		t.Errorf("grace %v for --grace 0, want negative (stop at once)", cfg.Grace)
	}
	if logOpts.Level.String() != "debug" || !logOpts.JSONFormat {
		t.Errorf("log level %v, JSON %v; want debug and true", logOpts.Level, logOpts.JSONFormat)
	}
}

func TestParseJoin_Errors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "expected one coordinator address"},
		{[]string{"a:1", "b:2"}, "got 2 arguments"},
		{[]string{"a:1", "--log-level", "loud"}, `--log-level "loud"`},
		{[]string{"a:1", "--workers", "many"}, "invalid value"},
	} {
		var stderr bytes.Buffer
		_, _, err := parseJoin(tc.args, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseJoin(%q) returned %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestRun_ExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, exitUsage},
		{[]string{"--help"}, exitOK},
		{[]string{"join", "--help"}, exitOK},
		{[]string{"join"}, exitUsage},
		{[]string{"leave", "a:1"}, exitUsage},
		{[]string{"join", "no-port", "--spool", t.TempDir()}, exitFailure},
	} {
		var stdout, stderr bytes.Buffer
		if got := run(context.Background(), tc.args, &stdout, &stderr); got != tc.want {
			t.Errorf("run(%q) = %d, want %d; stderr: %s", tc.args, got, tc.want, stderr.String())
		}
	}
}
