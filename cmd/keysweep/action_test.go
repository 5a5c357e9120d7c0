package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/keysweep/keysweep/internal/gittest"
)

// TestAction runs the scan step of action.yml with bash, as a runner
// would, with keysweep (this test binary) on the PATH, for each kind of
// event.
func TestAction(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct{ Default string }
		Runs   struct {
			Using string
			Steps []struct {
				ID  string
				Run string
				Env map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	var script string
	for _, st := range action.Runs.Steps {
		if st.ID == "scan" {
			script = st.Run
		}
	}
	if action.Runs.Using != "composite" || script == "" {
		t.Fatal("no composite scan step")
	}

	r := gittest.New(t)
	r.Write("old.env", "TOKEN="+tokA+"\n")
	first := r.Commit("old secret")
	r.Git("update-ref", "refs/remotes/origin/main", first)
	r.Write("new.env", "TOKEN="+tokB+"\n")
	second := r.Commit("new secret")
	zero := strings.Repeat("0", 40)
	path := keysweepOnPath(t)

	for _, tc := range []struct {
		name     string
		env      map[string]string
		code     int
		findings string
	}{
		{"push", map[string]string{"EVENT": "push", "PUSH_BEFORE": first, "PUSH_AFTER": second}, 1, "1"},
		{"push of a new branch", map[string]string{"EVENT": "push", "PUSH_BEFORE": zero, "PUSH_AFTER": second, "DEFAULT_BRANCH": "main"}, 1, "1"},
		{"pull request", map[string]string{"EVENT": "pull_request", "PR_BASE": first, "PR_HEAD": second}, 1, "1"},
		{"schedule: history", map[string]string{"EVENT": "schedule"}, 1, "2"},
		{"range, not failing", map[string]string{"SCOPE": "range", "RANGE": second + "~1.." + second, "FAIL": "false"}, 0, "1"},
		{"nothing new", map[string]string{"EVENT": "push", "PUSH_BEFORE": second, "PUSH_AFTER": second}, 0, "0"},
		{"bad scope", map[string]string{"SCOPE": "everything"}, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out := filepath.Join(dir, "output")
			env := map[string]string{
				"SCOPE": action.Inputs["scope"].Default, "REPO_PATH": r.Dir, "SARIF": filepath.Join(dir, "k.sarif"),
				"FAIL": action.Inputs["fail-on-findings"].Default, "ARGS": "", "RANGE": "", "DEFAULT_BRANCH": "main",
				"PUSH_BEFORE": "", "PUSH_AFTER": "", "PR_BASE": "", "PR_HEAD": "", "GITHUB_OUTPUT": out,
			}
			for k, v := range tc.env {
				env[k] = v
			}
			cmd := exec.Command("bash", "-e", "-c", script)
			cmd.Env = append(os.Environ(), path)
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			log, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, log)
			}
			if tc.findings == "" {
				return
			}
			outputs, _ := os.ReadFile(out)
			if !strings.Contains(string(outputs), "findings="+tc.findings+"\n") {
				t.Errorf("outputs %q, want findings=%s\n%s", outputs, tc.findings, log)
			}
			if _, err := os.Stat(env["SARIF"]); err != nil {
				t.Errorf("no SARIF file: %v", err)
			}
		})
	}
}
