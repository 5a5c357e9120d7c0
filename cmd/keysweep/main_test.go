package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/aws"
	"github.com/keysweep/keysweep/internal/gittest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var (
	keyID  = "AKIA" + "ZR3VQ7WXK2MDTE6B"
	secret = "9dr/Wq+XyWX" + "9kM2Lp3QzR8vT0bN6cHjE4fUaGs1Q"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(context.Background(), args, testStreams(strings.NewReader(""), &out, &errOut))
	return code, out.String(), errOut.String()
}

// testStreams are streams whose waits (rate limits, webhook and AWS
// retries) return at once: no test waits out a backoff in real time.
func testStreams(in io.Reader, out, errOut io.Writer) *streams {
	return &streams{
		in: in, out: out, errOut: errOut,
		sleep:   func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		awsOpts: []func(*awsconfig.LoadOptions) error{aws.WithBackoff(func(int) time.Duration { return 0 })},
	}
}

// leakyRepo returns a repository with one AWS key pair in its history.
func leakyRepo(t *testing.T) *gittest.Repo {
	r := gittest.New(t)
	r.Write("README.md", "# demo\n")
	r.Commit("init")
	r.Write("deploy/prod.env", "REGION=eu-west-1\nAWS_ACCESS_KEY_ID="+keyID+"\nAWS_SECRET_ACCESS_KEY="+secret+"\n")
	r.Commit("add prod settings")
	r.Remove("deploy/prod.env")
	r.Commit("oops, remove secrets")
	return r
}

// golden compares got with a file under testdata. The key id is stored as
// a placeholder so that the repository holds no key id of its own.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = strings.ReplaceAll(got, keyID, "<KEY_ID>")
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestGitCommandFormats(t *testing.T) {
	t.Parallel()
	r := leakyRepo(t)
	for _, format := range []string{"text", "json", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, "git", r.Dir, "--format", format, "--no-progress")
			if code != exitFindings {
				t.Fatalf("exit %d, want %d; stderr: %s", code, exitFindings, errOut)
			}
			if strings.Contains(out, secret) || strings.Contains(errOut, secret) {
				t.Error("the secret is printed in clear without --no-redact")
			}
			if !strings.Contains(errOut, "scanned 3 commits") || !strings.Contains(errOut, "; 1 finding\n") {
				t.Errorf("summary missing from stderr: %q", errOut)
			}
			golden(t, "leaky."+format, out)
		})
	}
}

func TestGitCommandJSONFields(t *testing.T) {
	t.Parallel()
	r := leakyRepo(t)
	code, out, _ := runCLI(t, "git", r.Dir, "--format", "json", "--no-redact")
	if code != exitFindings {
		t.Fatalf("exit %d", code)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not a JSON array: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("%d findings, want 1", len(got))
	}
	for _, k := range []string{"rule_id", "description", "secret", "commit", "path", "line", "column", "author", "email", "date", "fingerprint", "key_id", "account_id"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("field %q missing", k)
		}
	}
	if got[0]["secret"] != secret {
		t.Errorf("--no-redact: secret = %v", got[0]["secret"])
	}
}

func TestGitCommandReportFile(t *testing.T) {
	t.Parallel()
	r := leakyRepo(t)
	file := filepath.Join(t.TempDir(), "out.json")
	code, out, _ := runCLI(t, "git", r.Dir, "--format", "json", "--report", file)
	if code != exitFindings || out != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing on stdout", code, out)
	}
	data, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(data), `"rule_id": "aws-access-key"`) {
		t.Errorf("report file: %v %s", err, data)
	}
}

func TestGitCommandClean(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	code, out, _ := runCLI(t, "git", r.Dir, "--format", "json")
	if code != exitClean || out != "[]\n" {
		t.Errorf("empty repository: exit %d, stdout %q; want 0 and []", code, out)
	}
	r.Write("a.txt", "nothing to see\n")
	r.Commit("a")
	if code, out, _ := runCLI(t, "git", r.Dir); code != exitClean || out != "" {
		t.Errorf("clean repository: exit %d, stdout %q", code, out)
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	corrupt := gittest.New(t)
	corrupt.Write("a.txt", "payload\n")
	corrupt.Commit("a")
	p := corrupt.ObjectPath(corrupt.BlobID("payload\n"))
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := leakyRepo(t)
	if err := os.Remove(missing.ObjectPath(missing.BlobID("# demo\n"))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not a repository", []string{"git", t.TempDir()}, "not a git repository"},
		{"no such path", []string{"git", "/nonexistent/keysweep"}, "no such file or directory"},
		{"unknown flag", []string{"git", "--bogus"}, "unknown flag: --bogus"},
		{"bad format", []string{"git", ".", "--format", "xml"}, `invalid --format "xml"`},
		{"bad size", []string{"git", ".", "--max-blob-size", "lots"}, "invalid size"},
		{"corrupt object", []string{"git", corrupt.Dir}, "missing or unreadable"},
		{"missing object", []string{"git", missing.Dir}, "--allow-missing"},
		{"unknown command", []string{"sweep"}, "unknown command"},
		{"unwritable report", []string{"git", missing.Dir, "--allow-missing", "--report", "/nonexistent/dir/out.json"}, "directory /nonexistent/dir does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, errOut := runCLI(t, tt.args...)
			if code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "keysweep: ") || !strings.Contains(last, tt.want) {
				t.Errorf("last stderr line = %q, want a one-line error containing %q", last, tt.want)
			}
		})
	}
}

func TestAllowMissingKeepsExitCodes(t *testing.T) {
	t.Parallel()
	r := leakyRepo(t)
	if err := os.Remove(r.ObjectPath(r.BlobID("# demo\n"))); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "git", r.Dir, "--allow-missing")
	if code != exitFindings || !strings.Contains(errOut, "1 object missing") || !strings.Contains(errOut, r.BlobID("# demo\n")) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestCanaryKeyIsFlagged(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	// A key id of a canarytokens.org account.
	r.Write("creds", "aws_access_key_id = AKIA"+"QYLPMN5HHHFPZAM2\n")
	r.Commit("canary")
	code, out, _ := runCLI(t, "git", r.Dir, "--format", "jsonl")
	if code != exitFindings || !strings.Contains(out, `"account_id":"052310077262"`) || !strings.Contains(out, `"canary":true`) {
		t.Errorf("exit %d, stdout %s", code, out)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "version")
	if code != exitClean || !strings.HasPrefix(out, "keysweep dev") {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}

func TestGitRange(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("old.env", "TOKEN="+tokA+"\n")
	base := r.Commit("old secret, before the range")
	r.Git("checkout", "-q", "-b", "feature")
	r.Write("new.env", "TOKEN="+tokB+"\n")
	r.Commit("the pull request")
	r.Git("checkout", "-q", "main")
	r.Write("other.env", "TOKEN="+tokC+"\n")
	r.Commit("on main only")

	code, out, errOut := runCLI(t, "git", r.Dir, "--range", base+"..feature", "--format", "json")
	if code != exitFindings || !cmp.Equal(paths(t, out), []string{"new.env"}) {
		t.Errorf("range: exit %d %v\n%s", code, paths(t, out), errOut)
	}
	if !strings.Contains(errOut, "scanned 1 commit,") {
		t.Errorf("summary: %s", errOut)
	}
	code, out, _ = runCLI(t, "git", r.Dir, "--range", "feature", "--format", "json")
	if code != exitFindings || !cmp.Equal(paths(t, out), []string{"other.env"}) {
		t.Errorf("BASE alone means BASE..HEAD: exit %d %v", code, paths(t, out))
	}
	code, _, errOut = runCLI(t, "git", r.Dir, "--range", "nope..HEAD")
	if code != exitError || !strings.Contains(errOut, `"nope" does not name a commit`) {
		t.Errorf("bad range: exit %d %s", code, errOut)
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{"bash": "__start_keysweep", "zsh": "#compdef keysweep", "fish": "complete -c keysweep"} {
		code, out, errOut := runCLI(t, "completion", shell)
		if code != exitClean || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, %d bytes, %s", shell, code, len(out), errOut)
		}
	}
}

// shellQuote quotes s for a POSIX shell, for the scripts the tests write.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
