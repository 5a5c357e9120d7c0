package gitsrc

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysweep/keysweep/internal/gittest"
)

func TestRevParseError(t *testing.T) {
	t.Parallel()
	exit := exec.Command("false").Run()
	for _, tc := range []struct {
		name   string
		stderr string
		is     error
		want   string
	}{
		{
			name: "dubious ownership",
			stderr: "fatal: detected dubious ownership in repository at '/builds/app'\n" +
				"To add an exception for this directory, call:\n\n\tgit config --global --add safe.directory /builds/app\n",
			is:   ErrDubiousOwnership,
			want: "/builds/app/src: git refuses a repository another user owns (detected dubious ownership in repository at '/builds/app'): if you trust it, run: git config --global --add safe.directory /builds/app",
		},
		{
			name: "a path to quote",
			stderr: "fatal: detected dubious ownership in repository at '/home/a b/it'\n" +
				"To add an exception for this directory, call:\n\n\tgit config --global --add safe.directory /home/a b/it\n",
			is:   ErrDubiousOwnership,
			want: "run: git config --global --add safe.directory '/home/a b/it'",
		},
		{
			name:   "no advice from git",
			stderr: "fatal: detected dubious ownership in repository at '/srv/it.git'\n",
			is:     ErrDubiousOwnership,
			want:   "run: git config --global --add safe.directory /srv/it.git",
		},
		{
			name:   "not a repository",
			stderr: "fatal: not a git repository (or any of the parent directories): .git\n",
			is:     ErrNotRepository,
			want:   "/builds/app/src: not a git repository",
		},
		{
			name:   "something else",
			stderr: "warning: ignored\nfatal: unknown repository format version 9\n",
			want:   "/builds/app/src: git rev-parse: fatal: unknown repository format version 9",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := revParseError("/builds/app/src", exit, []byte(tc.stderr))
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %q", err, tc.is)
			}
			if got := err.Error(); !strings.Contains(got, tc.want) || strings.Contains(got, "\n") {
				t.Errorf("error = %q, want one line holding %q", got, tc.want)
			}
		})
	}
}

// TestDubiousOwnership opens a repository another user owns with a git
// that trusts no directory, then trusts it. It sets the environment, so
// it does not run in parallel.
func TestDubiousOwnership(t *testing.T) {
	r, env := gittest.NewForeign(t)
	sub := filepath.Join(r.Dir, "sub")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("SUDO_UID", "")

	ctx := context.Background()
	fix := "git config --global --add safe.directory " + r.Dir
	for name, open := range map[string]func() error{
		"Open":              func() error { _, err := Open(ctx, sub); return err },
		"WorkTree":          func() error { _, err := WorkTree(ctx, sub); return err },
		"HooksDir":          func() error { _, _, err := HooksDir(ctx, r.Dir); return err },
		"HooksDir, git dir": func() error { _, _, err := HooksDir(ctx, filepath.Join(r.Dir, ".git")); return err },
	} {
		err := open()
		if !errors.Is(err, ErrDubiousOwnership) || errors.Is(err, ErrNotRepository) || !strings.Contains(err.Error(), "safe.directory") {
			t.Errorf("%s: %v; want dubious ownership and the fix", name, err)
		}
		if name != "HooksDir, git dir" && !strings.HasSuffix(err.Error(), fix) {
			t.Errorf("%s: %v; want it to end with %q", name, err, fix)
		}
	}

	if out, err := exec.Command("git", "config", "--global", "--add", "safe.directory", r.Dir).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if _, err := Open(ctx, sub); err != nil {
		t.Errorf("Open, once trusted: %v", err)
	}
	if top, err := WorkTree(ctx, sub); err != nil || top != r.Dir {
		t.Errorf("WorkTree, once trusted: %q, %v", top, err)
	}
}
