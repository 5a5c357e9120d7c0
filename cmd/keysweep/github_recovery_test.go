package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
	"github.com/keysweep/keysweep/internal/ghtest"
)

// webhookStandIn is a Slack-compatible webhook on 127.0.0.1 that answers
// the statuses queued with fail (then 200), and keeps the text of every
// post.
type webhookStandIn struct {
	*httptest.Server
	mu    sync.Mutex
	fails []int
	texts []string
}

func newWebhook(t *testing.T, fail ...int) *webhookStandIn {
	t.Helper()
	h := &webhookStandIn{fails: fail}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var msg struct{ Text string }
		if err := json.Unmarshal(body, &msg); err != nil {
			t.Errorf("webhook body is not JSON: %q", body)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.texts = append(h.texts, msg.Text)
		if len(h.fails) > 0 {
			status := h.fails[0]
			h.fails = h.fails[1:]
			http.Error(w, "refused by the test", status)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(h.Close)
	return h
}

// posts returns the text of every post so far.
func (h *webhookStandIn) posts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.texts...)
}

func readReportFile(t *testing.T, path string) []finding.Finding {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fs []finding.Finding
	if err := json.Unmarshal(data, &fs); err != nil {
		t.Fatalf("report %s: %v\n%s", path, err, data)
	}
	return fs
}

// TestGitHubSweepRedeliversAfterFailedReport: a sweep that saved its
// repositories but could not deliver their findings (the disk was full
// when the report was written: as good as a crash between saving and
// delivering)
// leaves them pending. The next sweep with --new-only reports them, posts
// them, and verifies them again with the secret read back from the
// mirror (the key was deactivated in between: the answer is today's, not
// the one recorded); the sweep after it does not repeat them. It sets
// the process environment for the AWS SDK, so it does not run in
// parallel.
func TestGitHubSweepRedeliversAfterFailedReport(t *testing.T) {
	sts := awstest.New(t)
	admin := sts.AddUserKey(ownAccount, "security-admin", true)
	live := sts.AddUserKey(ownAccount, "ci/deploy-bot", false)
	awsEnv(t, sts.URL, admin)
	hook := newWebhook(t)

	e := newSweepEnv(t)
	push(t, e.gh.AddRepo("acme/infra", ghtest.Repo{}), "terraform", map[string]string{
		"main.tf": "provider \"aws\" {\n  access_key = \"" + live.KeyID + "\"\n  secret_key = \"" + live.Secret + "\"\n}\n",
	})
	push(t, e.gh.AddRepo("acme/web", ghtest.Repo{}), "config", map[string]string{"config.js": "const token = '" + tokC + "';\n"})
	args := []string{"--org", "acme", "--new-only", "--verify", "--notify-webhook", hook.URL}

	// A full disk when the report is written: the sweep has saved what
	// it found, and delivered nothing.
	const full = "/dev/full"
	if _, err := os.Stat(full); err != nil {
		t.Skipf("no %s to fail the report with: %v", full, err)
	}
	code, _, errOut := e.sweep(append(args, "--report", full)...)
	if code != exitError || !strings.Contains(errOut, "write report "+full) {
		t.Fatalf("sweep with an unwritable report: exit %d\n%s", code, errOut)
	}
	if got := hook.posts(); len(got) != 0 {
		t.Fatalf("posted before the report was written: %q", got)
	}
	if n := len(sts.CallsBy(live.KeyID)); n != 1 {
		t.Fatalf("the first sweep verified the key %d times, want 1", n)
	}

	sts.SetActive(live.KeyID, false)
	good := filepath.Join(t.TempDir(), "new.json")
	code, _, errOut = e.sweep(append(args, "--report", good)...)
	fs := readReportFile(t, good)
	if code != exitFindings {
		t.Errorf("rerun: exit %d\n%s", code, errOut)
	}
	if diff := cmp.Diff([]string{"acme/infra main.tf:aws-access-key", "acme/web config.js:github-token"}, where(fs)); diff != "" {
		t.Fatalf("rerun with --new-only (-want +got):\n%s\nstderr:\n%s", diff, errOut)
	}
	for _, f := range fs {
		if f.Secret == live.Secret || f.Secret == tokC {
			t.Errorf("%s: the secret is in clear", f.Path)
		}
		if f.RuleID == "aws-access-key" && (f.Verification == nil || f.Verification.Status != "invalid") {
			t.Errorf("the recovered key is not verified again (deactivated since): %+v", f.Verification)
		}
	}
	// Deactivated, the key is unknown to STS: asked in each of the
	// three partitions.
	if n := len(sts.CallsBy(live.KeyID)); n != 4 {
		t.Errorf("the rerun verified the key %d times in all, want 4", n)
	}
	if !strings.Contains(errOut, "acme/infra: unchanged since the last sweep; 1 findings not delivered by an earlier sweep") {
		t.Errorf("stderr does not say what is delivered again:\n%s", errOut)
	}
	posts := hook.posts()
	if len(posts) != 1 {
		t.Fatalf("rerun: webhook posts %q, want one", posts)
	}
	for _, want := range []string{"2 new secrets in acme", "acme/infra", "main.tf:2", "invalid", "acme/web", "config.js:1"} {
		if !strings.Contains(posts[0], want) {
			t.Errorf("webhook text lacks %q:\n%s", want, posts[0])
		}
	}
	if strings.Contains(posts[0], live.Secret) || strings.Contains(posts[0], tokC) {
		t.Error("the webhook got a secret")
	}

	// Delivered: the next sweep has nothing new to say.
	code, _, errOut = e.sweep(append(args, "--report", good)...)
	if fs := readReportFile(t, good); code != exitClean || len(fs) != 0 {
		t.Errorf("third sweep: exit %d %v\n%s", code, where(fs), errOut)
	}
	if got := hook.posts(); len(got) != 1 {
		t.Errorf("third sweep posted again: %q", got[1:])
	}
	if n := len(sts.CallsBy(live.KeyID)); n != 4 {
		t.Errorf("third sweep verified the key again (%d calls in all)", n)
	}
}

// TestGitHubSweepRedeliversAfterFailedWebhook: findings whose webhook
// post failed are delivered again by the next sweep, to the report and
// the webhook, once (not also as known findings), with the secret read
// back from the mirror under --no-redact; then never again.
func TestGitHubSweepRedeliversAfterFailedWebhook(t *testing.T) {
	t.Parallel()
	hook := newWebhook(t, http.StatusNotFound)
	e := newSweepEnv(t)
	push(t, e.gh.AddRepo("acme/web", ghtest.Repo{}), "init", map[string]string{"config.js": "const token = '" + tokC + "';\n"})
	push(t, e.gh.AddRepo("acme/api", ghtest.Repo{}), "init", map[string]string{"README.md": "# api\n"})

	code, fs, errOut := e.sweep("--org", "acme", "--new-only", "--notify-webhook", hook.URL)
	if code != exitError || !strings.Contains(errOut, "webhook answered 404") || !cmp.Equal(where(fs), []string{"acme/web config.js:github-token"}) {
		t.Fatalf("webhook refused: exit %d %v\n%s", code, where(fs), errOut)
	}

	code, fs, errOut = e.sweep("--org", "acme", "--notify-webhook", hook.URL, "--no-redact")
	if code != exitFindings || !cmp.Equal(where(fs), []string{"acme/web config.js:github-token"}) {
		t.Fatalf("rerun: exit %d %v\n%s", code, where(fs), errOut)
	}
	if fs[0].Secret != tokC {
		t.Errorf("--no-redact: the secret was not read back from the mirror: %q", fs[0].Secret)
	}
	posts := hook.posts()
	if len(posts) != 2 || !strings.Contains(posts[1], "1 new secret in acme") || !strings.Contains(posts[1], "config.js:1") || strings.Contains(posts[1], tokC) {
		t.Fatalf("rerun: webhook posts %q", posts)
	}

	code, fs, errOut = e.sweep("--org", "acme", "--new-only", "--notify-webhook", hook.URL)
	if code != exitClean || len(fs) != 0 || len(hook.posts()) != 2 {
		t.Errorf("third sweep: exit %d %v, %d posts\n%s", code, where(fs), len(hook.posts()), errOut)
	}
}

// TestGitHubSweepFilterRace sweeps many repositories at once through an
// operator's allowlist and ignore file, whose counts the filter updates
// from every repository's goroutine: run with -race, it shows that they
// are shared safely, and the counts say that none was lost. Each
// repository holds many findings, so that the filters of several
// repositories run at the same time; they are AWS key ids alone, whose
// fingerprints are cheap (a hash of the key id, not the memory-hard one).
func TestGitHubSweepFilterRace(t *testing.T) {
	t.Parallel()
	const repos, each = 10, 200
	var allowed, ignored, ignores strings.Builder
	for i := range each {
		fmt.Fprintf(&allowed, "AWS_ACCESS_KEY_ID_%d=%s\n", i, awstest.KeyID("AKIA", ownAccount, uint32(i)))
		id := awstest.KeyID("AKIA", secondAccount, uint32(i))
		fmt.Fprintf(&ignored, "Example %d: `%s`\n", i, id)
		fmt.Fprintf(&ignores, "%s example %d of the documentation, never issued\n", finding.Fingerprint("aws-access-key-id", id, ""), i)
	}
	leaked := awstest.KeyID("AKIA", foreignAccount, 1)
	e := newSweepEnv(t)
	var want []string
	for i := range repos {
		name := fmt.Sprintf("acme/svc-%02d", i)
		push(t, e.gh.AddRepo(name, ghtest.Repo{}), "init", map[string]string{
			"fixtures/keys.env": allowed.String(),
			"docs/keys.md":      ignored.String(),
			"src/leak.go":       "var id = \"" + leaked + "\"\n",
		})
		want = append(want, name+" src/leak.go:aws-access-key-id")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "operator.toml")
	writeFile(t, cfg, "[allowlist]\npaths = [\"fixtures/\"]\n", 0o644)
	ignore := filepath.Join(dir, "ignore")
	writeFile(t, ignore, ignores.String(), 0o644)

	code, fs, errOut := e.sweep("--org", "acme", "--concurrency", "8", "--workers", "8", "--config", cfg, "--ignore-file", ignore)
	if code != exitFindings {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if diff := cmp.Diff(want, where(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if want := fmt.Sprintf("not reported: %d allowlisted, %d ignored\n", repos*each, repos*each); !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	if strings.Contains(errOut, "unused ignore") {
		t.Errorf("an ignore is said to be unused:\n%s", errOut)
	}
}
