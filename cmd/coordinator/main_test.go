package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRun_ExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want int
		text string
	}{
		{"no command", nil, exitUsage, "usage: coordinator serve"},
		{"help", []string{"--help"}, exitOK, "usage: coordinator serve"},
		{"serve help", []string{"serve", "--help"}, exitOK, "-lease-ttl"},
		{"unknown flag", []string{"serve", "--nope"}, exitUsage, "flag provided but not defined"},
		{"bad level", []string{"serve", "--log-level", "loud"}, exitUsage, `"loud" is not a level`},
		{"short ttl", []string{"serve", "--lease-ttl", "1ms"}, exitUsage, "too short"},
		{"zero attempts", []string{"serve", "--max-attempts", "0"}, exitUsage, "use 1 or more"},
		{"stray argument", []string{"serve", "extra"}, exitUsage, `unexpected argument "extra"`},
		{"public without auth", []string{"serve", "--listen", "0.0.0.0:0", "--data",
			filepath.Join(t.TempDir(), "x.db")}, exitFailure, "--insecure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := run(context.Background(), tc.args, &stderr); got != tc.want {
				t.Errorf("exit code %d, want %d; output:\n%s", got, tc.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.text) {
				t.Errorf("output lacks %q:\n%s", tc.text, stderr.String())
			}
		})
	}
}

func TestRun_ServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var stderr bytes.Buffer
	path := filepath.Join(t.TempDir(), "modsweep.db")
	code := run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data", path}, &stderr)
	if code != exitOK {
		t.Fatalf("exit code %d, want 0; output:\n%s", code, stderr.String())
	}
	for _, want := range []string{"coordinator listening", "coordinator stopping", "database closed"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, stderr.String())
		}
	}
}
