package hook

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/gittest"
)

// outgoing is a clone whose main the remote origin has, with one commit
// on top that the remote lacks.
type outgoing struct {
	client *gittest.Repo
	// base is main as the remote has it, commit the one to push.
	base, commit string
}

// newOutgoing builds a bare remote and a clone that pushed a clean main
// to it, then commits files on top.
func newOutgoing(t *testing.T, files map[string]string) outgoing {
	t.Helper()
	bare := gittest.NewBare(t)
	client := gittest.New(t)
	client.Git("remote", "add", "origin", bare.Dir)
	client.Write("README.md", "# app\n")
	base := client.Commit("init")
	client.Git("push", "-q", "origin", "main")
	for path, content := range files {
		client.Write(path, content)
	}
	return outgoing{client: client, base: base, commit: client.Commit("add")}
}

func TestPrePushRun(t *testing.T) {
	t.Parallel()
	zero := strings.Repeat("0", 40)
	leaky := map[string]string{"src/settings.py": "DEBUG = False\nGITHUB_TOKEN = \"" + tokC + "\"\n"}
	marked := map[string]string{"ci.env": "TOKEN=" + tokA + " # keysweep:allow\n"}
	for _, tc := range []struct {
		name   string
		files  map[string]string
		remote string
		// stdin is what git writes to the hook; nil pushes main.
		stdin      func(o outgoing) string
		keepMarked bool
		wantErr    error
		wantLog    func(o outgoing) []string
		wantNotLog []string
	}{
		{
			name:   "clean push",
			files:  map[string]string{"docs.md": "docs\n"},
			remote: "origin",
			wantLog: func(outgoing) []string {
				return []string{"keysweep: checked 1 new commit (1 blob, ", ": no secrets"}
			},
			wantNotLog: []string{"stopped"},
		},
		{
			name:    "push adding a secret",
			files:   leaky,
			remote:  "origin",
			wantErr: finding.ErrFindings,
			wantLog: func(o outgoing) []string {
				return []string{"keysweep: push stopped by the pre-push hook: it adds 1 secret (origin: refs/heads/main)",
					"src/settings.py:2", "commit       " + o.commit[:12], "fingerprint  github-token:", "to .keysweepignore", "git push --no-verify"}
			},
		},
		{
			name:   "new branch adding a secret",
			files:  leaky,
			remote: "origin",
			stdin: func(o outgoing) string {
				return "refs/heads/main " + o.commit + " refs/heads/topic " + zero + "\n"
			},
			wantErr: finding.ErrFindings,
			wantLog: func(outgoing) []string {
				return []string{"(origin: refs/heads/topic)", "src/settings.py:2"}
			},
			// The commit the remote has is not scanned again.
			wantNotLog: []string{"README.md"},
		},
		{
			name:   "two refs, pushed to a URL",
			files:  leaky,
			remote: "https://git.example.com/acme/app.git",
			stdin: func(o outgoing) string {
				return "refs/heads/main " + o.commit + " refs/heads/main " + o.base + "\n" +
					"refs/tags/v1 " + o.commit + " refs/tags/v1 " + zero + "\n"
			},
			wantErr: finding.ErrFindings,
			wantLog: func(outgoing) []string {
				return []string{"(https://git.example.com/acme/app.git: refs/heads/main, refs/tags/v1)", "src/settings.py:2"}
			},
		},
		{
			name:   "secret the remote has",
			files:  leaky,
			remote: "origin",
			stdin: func(o outgoing) string {
				return "refs/heads/main " + o.commit + " refs/heads/main " + o.commit + "\n"
			},
			wantLog: func(outgoing) []string { return []string{"nothing new to check"} },
		},
		{
			name:   "deleting a branch",
			remote: "origin",
			stdin: func(o outgoing) string {
				return "(delete) " + zero + " refs/heads/old " + o.base + "\n"
			},
			wantLog: func(outgoing) []string { return []string{"nothing new to check"} },
		},
		{
			name:    "secret marked keysweep:allow",
			files:   marked,
			remote:  "origin",
			wantLog: func(outgoing) []string { return []string{": no secrets", "not reported: 1 marked keysweep:allow"} },
		},
		{
			name:       "secret marked keysweep:allow, markers not honoured",
			files:      marked,
			remote:     "origin",
			keepMarked: true,
			wantErr:    finding.ErrFindings,
			wantLog:    func(outgoing) []string { return []string{"(origin: refs/heads/main)", "ci.env:1"} },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := newOutgoing(t, tc.files)
			stdin := "refs/heads/main " + o.commit + " refs/heads/main " + o.base + "\n"
			if tc.stdin != nil {
				stdin = tc.stdin(o)
			}
			var log strings.Builder
			h := &PrePush{Dir: o.client.Dir, MaxShown: 10, KeepMarked: tc.keepMarked, Log: &log}
			err := h.Run(context.Background(), strings.NewReader(stdin), tc.remote)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Run = %v, want %v; log:\n%s", err, tc.wantErr, log.String())
			}
			for _, want := range tc.wantLog(o) {
				if !strings.Contains(log.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, log.String())
				}
			}
			for _, notWant := range tc.wantNotLog {
				if strings.Contains(log.String(), notWant) {
					t.Errorf("log holds %q:\n%s", notWant, log.String())
				}
			}
			for _, tok := range allTokens {
				if strings.Contains(log.String(), tok) {
					t.Errorf("the log shows a secret in clear:\n%s", log.String())
				}
			}
		})
	}
}

// TestPrePushBadInput: what git cannot have written is an error, not a
// refusal for secrets.
func TestPrePushBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, stdin, want string }{
		{"malformed line", "hello\n", `pushed ref line 1: want "<local-ref> <local-id> <remote-ref> <remote-id>", got "hello"`},
		{"ids that are not ids", "refs/heads/main xyz refs/heads/main abc\n", "pushed ref line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := newOutgoing(t, nil)
			var log strings.Builder
			h := &PrePush{Dir: o.client.Dir, Log: &log}
			err := h.Run(context.Background(), strings.NewReader(tc.stdin), "origin")
			if err == nil || errors.Is(err, finding.ErrFindings) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run = %v, want an error with %q", err, tc.want)
			}
		})
	}
}
