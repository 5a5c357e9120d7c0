package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
	"github.com/keysweep/keysweep/internal/ghtest"
	"github.com/keysweep/keysweep/internal/gittest"
)

const ghToken = "ghp_" + "TestTokenOfTheStandIn000000000000000"

// sweepEnv is a GitHub stand-in, a cache directory and a token file.
type sweepEnv struct {
	t         *testing.T
	gh        *ghtest.Server
	cache     string
	tokenFile string

	mu    sync.Mutex
	waits []time.Duration // what the sweeps waited for, instantly
	// now, if set, is the sweeps' clock.
	now func() time.Time
}

func newSweepEnv(t *testing.T) *sweepEnv {
	t.Helper()
	e := &sweepEnv{t: t, gh: ghtest.New(t, ghToken), cache: t.TempDir()}
	e.tokenFile = filepath.Join(t.TempDir(), "token")
	writeFile(t, e.tokenFile, ghToken+"\n", 0o600)
	return e
}

// sweep runs keysweep github with ctx and returns the exit code, the
// findings and stderr.
func (e *sweepEnv) sweepCtx(ctx context.Context, args ...string) (int, []finding.Finding, string) {
	e.t.Helper()
	full := append([]string{"github", "--api-url", e.gh.APIURL(), "--token-file", e.tokenFile, "--cache-dir", e.cache, "--format", "json"}, args...)
	var out, errOut bytes.Buffer
	s := testStreams(strings.NewReader(""), &out, &errOut)
	s.sleep = func(ctx context.Context, d time.Duration) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.waits = append(e.waits, d)
		return ctx.Err()
	}
	s.now = e.now
	code := execute(ctx, full, s)
	var fs []finding.Finding
	if out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &fs); err != nil {
			e.t.Fatalf("output is not a JSON array (exit %d): %v\n%s\nstderr:\n%s", code, err, out.String(), errOut.String())
		}
	}
	return code, fs, errOut.String()
}

func (e *sweepEnv) sweep(args ...string) (int, []finding.Finding, string) {
	e.t.Helper()
	return e.sweepCtx(context.Background(), args...)
}

// where lists findings as "repository path:rule".
func where(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Repository+" "+f.Path+":"+f.RuleID)
	}
	sort.Strings(out)
	return out
}

// push commits the files in w and pushes main.
func push(t *testing.T, w *gittest.Repo, msg string, files map[string]string) string {
	t.Helper()
	for p, c := range files {
		w.Write(p, c)
	}
	id := w.Commit(msg)
	w.Git("push", "-q", "-f", "origin", "main")
	return id
}

func TestGitHubSweep(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	api := e.gh.AddRepo("acme/api", ghtest.Repo{})
	push(t, api, "init", map[string]string{"README.md": "# api\n", "deploy/prod.env": "AWS_ACCESS_KEY_ID=" + keyID + "\nAWS_SECRET_ACCESS_KEY=" + secret + "\n"})
	web := e.gh.AddRepo("acme/web", ghtest.Repo{Visibility: "private"})
	base := push(t, web, "init", map[string]string{"index.html": "<h1>hi</h1>\n"})
	fork := e.gh.AddRepo("acme/fork-of-lib", ghtest.Repo{Fork: true})
	push(t, fork, "init", map[string]string{"ci.env": "TOKEN=" + tokA + "\n"})
	old := e.gh.AddRepo("acme/old", ghtest.Repo{Archived: true})
	push(t, old, "init", map[string]string{"old.env": "TOKEN=" + tokB + "\n"})
	e.gh.AddRepo("acme/empty", ghtest.Repo{})

	// First sweep: everything, forks and archived repositories left out.
	code, fs, errOut := e.sweep("--org", "acme")
	if code != exitFindings {
		t.Fatalf("first sweep: exit %d\n%s", code, errOut)
	}
	if diff := cmp.Diff([]string{"acme/api deploy/prod.env:aws-access-key"}, where(fs)); diff != "" {
		t.Errorf("first sweep (-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut, "sweeping 3 repositories") || !strings.Contains(errOut, "acme/api: 1 new commit, 2 blobs") || !strings.Contains(errOut, "1 new finding, 1 reported") {
		t.Errorf("first sweep stderr:\n%s", errOut)
	}
	if fs[0].Secret == secret || strings.Contains(errOut, secret) {
		t.Error("a secret is shown in clear")
	}

	// Second sweep: nothing moved, nothing scanned; the known finding is
	// still reported, unless --new-only.
	code, fs, errOut = e.sweep("--org", "acme")
	if code != exitFindings || len(fs) != 1 || strings.Count(errOut, "unchanged since the last sweep") != 3 {
		t.Errorf("second sweep: exit %d %v\n%s", code, where(fs), errOut)
	}
	code, fs, _ = e.sweep("--org", "acme", "--new-only")
	if code != exitClean || len(fs) != 0 {
		t.Errorf("second sweep, new only: exit %d %v", code, where(fs))
	}

	// A new commit: only it is scanned.
	push(t, web, "config", map[string]string{"config.js": "const token = '" + tokC + "';\n"})
	code, fs, errOut = e.sweep("--org", "acme", "--new-only")
	if code != exitFindings || !cmp.Equal(where(fs), []string{"acme/web config.js:github-token"}) {
		t.Errorf("after a push: exit %d %v\n%s", code, where(fs), errOut)
	}
	if !strings.Contains(errOut, "acme/web: 1 new commit, 1 blob") {
		t.Errorf("after a push, more than the new commit was scanned:\n%s", errOut)
	}

	// A force push that rewrites history.
	web.Git("reset", "-q", "--hard", base)
	push(t, web, "rewritten", map[string]string{"settings.py": "SLACK_TOKEN = '" + tokD + "'\n"})
	code, fs, errOut = e.sweep("--org", "acme", "--new-only")
	if code != exitFindings || !cmp.Equal(where(fs), []string{"acme/web settings.py:github-token"}) {
		t.Errorf("after a force push: exit %d %v\n%s", code, where(fs), errOut)
	}

	// Filters.
	code, fs, _ = e.sweep("--org", "acme", "--new-only", "--include-forks", "--include-archived")
	if code != exitFindings || !cmp.Equal(where(fs), []string{"acme/fork-of-lib ci.env:github-token", "acme/old old.env:github-token"}) {
		t.Errorf("forks and archived: exit %d %v", code, where(fs))
	}
	_, fs, errOut = e.sweep("--org", "acme", "--visibility", "private")
	if !strings.Contains(errOut, "sweeping 1 repository") || !cmp.Equal(where(fs), []string{"acme/web config.js:github-token", "acme/web settings.py:github-token"}) {
		t.Errorf("private only: %v\n%s", where(fs), errOut)
	}
	_, _, errOut = e.sweep("--org", "acme", "--repo-include", "acme/*e*", "--repo-exclude", "*/empty")
	if !strings.Contains(errOut, "sweeping 1 repository") || !strings.Contains(errOut, "acme/web: unchanged") {
		t.Errorf("globs:\n%s", errOut)
	}

	// A repository deleted on GitHub is forgotten, mirror and all.
	e.gh.RemoveRepo("acme/api")
	code, fs, errOut = e.sweep("--org", "acme")
	if !strings.Contains(errOut, "acme/api is no longer in acme: its mirror and state are removed") {
		t.Errorf("deleted repository:\n%s", errOut)
	}
	for _, f := range fs {
		if f.Repository == "acme/api" {
			t.Errorf("a deleted repository's finding is still reported: %+v", f)
		}
	}
	if _, err := os.Stat(filepath.Join(e.cache, "mirrors", "acme", "api.git")); !os.IsNotExist(err) {
		t.Errorf("mirror of the deleted repository: %v", err)
	}
	if code != exitFindings {
		t.Errorf("exit %d", code)
	}

	// The token is never written to the cache.
	_ = filepath.WalkDir(e.cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(p); bytes.Contains(data, []byte(ghToken)) {
				t.Errorf("%s holds the token", p)
			}
		}
		return nil
	})
}

func TestGitHubRateLimitsAndFailures(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	for _, name := range []string{"acme/a", "acme/b", "acme/c"} {
		push(t, e.gh.AddRepo(name, ghtest.Repo{}), "init", map[string]string{"f.txt": name + "\n", "app.env": "TOKEN=" + tokE + "\n"})
	}
	e.gh.RateLimit("primary", "secondary")
	e.gh.FailGit("acme/b", http.StatusInternalServerError)
	code, fs, errOut := e.sweep("--org", "acme")
	if !strings.Contains(errOut, "primary rate limit (5000 requests an hour) reached") || !strings.Contains(errOut, "secondary rate limit reached: waiting 1s") {
		t.Errorf("rate limits not shown:\n%s", errOut)
	}
	if !cmp.Equal(e.waits, []time.Duration{time.Second, time.Second}) {
		t.Errorf("rate limits not waited for: %v", e.waits)
	}
	if code != exitError || !strings.Contains(errOut, "acme/b: FAILED") || !strings.Contains(errOut, "sweep incomplete: 1 of 3 repositories failed (acme/b)") {
		t.Errorf("failing repository: exit %d\n%s", code, errOut)
	}
	if !cmp.Equal(where(fs), []string{"acme/a app.env:github-token", "acme/c app.env:github-token"}) {
		t.Errorf("the other repositories: %v", where(fs))
	}

	// Once the repository can be read, the next sweep catches up on it.
	e.gh.FailGit("acme/b", 0)
	code, fs, errOut = e.sweep("--org", "acme", "--new-only")
	if code != exitFindings || !cmp.Equal(where(fs), []string{"acme/b app.env:github-token"}) {
		t.Errorf("catch-up: exit %d %v\n%s", code, where(fs), errOut)
	}

	// Bad credentials and bad flags: one line, exit 2.
	writeFile(t, e.tokenFile, "wrong\n", 0o600)
	for _, args := range [][]string{{"--org", "acme"}, {}, {"--org", "acme", "--shard", "3/3"}, {"--org", "acme", "--visibility", "secret"}, {"--org", "acme", "--repo", "acme/a"}} {
		code, _, errOut := e.sweep(args...)
		if code != exitError || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
	}
}

func TestGitHubShardsAndMerge(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	var names []string
	for _, n := range []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"} {
		name := "acme/" + n
		names = append(names, name)
		push(t, e.gh.AddRepo(name, ghtest.Repo{}), "init", map[string]string{"secret.env": "TOKEN=" + tokA + "\n"})
	}
	seen := map[string]int{}
	var reports []string
	for k := 0; k < 3; k++ {
		shard := []string{"0/3", "1/3", "2/3"}[k]
		path := filepath.Join(t.TempDir(), "shard.json")
		code, fs, errOut := e.sweep("--org", "acme", "--shard", shard, "--report", path)
		if code != exitFindings && code != exitClean {
			t.Fatalf("shard %s: exit %d\n%s", shard, code, errOut)
		}
		if len(fs) != 0 {
			t.Errorf("with --report, stdout should be empty")
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var got []finding.Finding
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		for _, f := range got {
			seen[f.Repository]++
		}
		if _, err := os.Stat(filepath.Join(e.cache, "state-"+strings.Replace(shard, "/", "-of-", 1)+".db")); err != nil {
			t.Errorf("shard %s has no state of its own: %v", shard, err)
		}
		reports = append(reports, path)
	}
	for _, n := range names {
		if seen[n] != 1 {
			t.Errorf("%s swept by %d shards, want exactly 1", n, seen[n])
		}
	}
	// A shard written as SARIF merges too, the same findings once.
	sarif := filepath.Join(t.TempDir(), "shard.sarif")
	if code, _, errOut := runCLI(t, "merge", "--format", "sarif", "--report", sarif, reports[0]); code != exitFindings {
		t.Fatalf("merge to SARIF: exit %d %s", code, errOut)
	}
	code, out, errOut := runCLI(t, append([]string{"merge", "--format", "json"}, append(reports, reports[0], sarif)...)...)
	if code != exitFindings {
		t.Fatalf("merge: exit %d %s", code, errOut)
	}
	var merged []finding.Finding
	if err := json.Unmarshal([]byte(out), &merged); err != nil {
		t.Fatal(err)
	}
	if len(merged) != len(names) {
		t.Errorf("merged %d findings, want %d (one per repository, the repeated reports counted once)", len(merged), len(names))
	}
}

func TestGitHubInterruptedSweepResumes(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	for _, n := range []string{"acme/a", "acme/b", "acme/c"} {
		push(t, e.gh.AddRepo(n, ghtest.Repo{}), "init", map[string]string{"x.env": "TOKEN=" + tokB + "\n"})
	}
	reached, release := e.gh.HoldGit("acme/b")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var code int
	var errOut string
	go func() {
		defer close(done)
		code, _, errOut = e.sweepCtx(ctx, "--org", "acme", "--concurrency", "1")
	}()
	// Ctrl-C once acme/a is done and acme/b hangs.
	select {
	case <-reached:
	case <-done:
		t.Fatalf("the sweep ended before reaching acme/b: exit %d\n%s", code, errOut)
	}
	cancel()
	<-done
	release()
	if code != exitError || !strings.Contains(errOut, "sweep interrupted") || !strings.Contains(errOut, "acme/a: 1 new commit,") {
		t.Fatalf("interrupted sweep: exit %d\n%s", code, errOut)
	}
	code, fs, errOut := e.sweep("--org", "acme", "--concurrency", "1")
	if code != exitFindings || !strings.Contains(errOut, "acme/a: unchanged") || !strings.Contains(errOut, "acme/b: 1 new commit,") || !strings.Contains(errOut, "acme/c: 1 new commit,") {
		t.Errorf("resumed sweep: exit %d\n%s", code, errOut)
	}
	if len(fs) != 3 {
		t.Errorf("resumed sweep reports %v", where(fs))
	}
}

func TestGitHubApp(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.gh.EnableApp(1234, &key.PublicKey)
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})), 0o600)
	push(t, e.gh.AddRepo("acme/app", ghtest.Repo{Visibility: "internal"}), "init", map[string]string{"k.env": "TOKEN=" + tokC + "\n"})
	args := []string{"github", "--api-url", e.gh.APIURL(), "--cache-dir", e.cache, "--format", "json", "--org", "acme", "--app-key", keyFile}
	code, out, errOut := runCLI(t, append(args, "--app-id", "1234")...)
	if code != exitFindings || !strings.Contains(out, `"repository": "acme/app"`) {
		t.Errorf("as a GitHub App: exit %d\n%s\n%s", code, out, errOut)
	}
	// A JWT signed for another App is refused by the stand-in.
	code, _, errOut = runCLI(t, append(args, "--app-id", "999")...)
	if code != exitError || !strings.Contains(errOut, "find the GitHub App's installation on acme") {
		t.Errorf("wrong App: exit %d\n%s", code, errOut)
	}
}

// TestGitHubVerifyAndNotify sweeps with --verify against the STS stand-in
// and posts new findings to a webhook that fails once. It sets the
// process environment for the AWS SDK, so it does not run in parallel.
func TestGitHubVerifyAndNotify(t *testing.T) {
	sts := awstest.New(t)
	admin := sts.AddUserKey(ownAccount, "security-admin", true)
	live := sts.AddUserKey(ownAccount, "ci/deploy-bot", false)
	awsEnv(t, sts.URL, admin)

	var mu sync.Mutex
	var posts []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		posts = append(posts, string(body))
		if len(posts) == 1 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer hook.Close()

	e := newSweepEnv(t)
	id := push(t, e.gh.AddRepo("acme/infra", ghtest.Repo{}), "terraform", map[string]string{
		"main.tf": "provider \"aws\" {\n  access_key = \"" + live.KeyID + "\"\n  secret_key = \"" + live.Secret + "\"\n}\n",
	})
	code, fs, errOut := e.sweep("--org", "acme", "--verify", "--notify-webhook", hook.URL)
	if code != exitFindings || len(fs) != 1 || fs[0].Verification == nil || fs[0].Verification.Status != "verified" {
		t.Fatalf("exit %d %+v\n%s", code, fs, errOut)
	}
	if !strings.Contains(errOut, "AWS keys: 1 verified") {
		t.Errorf("summary:\n%s", errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 2 || posts[0] != posts[1] {
		t.Fatalf("webhook posts (want a failure and a retry): %q", posts)
	}
	var msg struct{ Text string }
	if err := json.Unmarshal([]byte(posts[1]), &msg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 new secret in acme", "acme/infra", "`aws-access-key`", "main.tf:2", e.gh.URL + "/acme/infra/commit/" + id, "verified (account " + ownAccount + ")"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("webhook text lacks %q:\n%s", want, msg.Text)
		}
	}
	if strings.Contains(posts[1], live.Secret) {
		t.Error("the webhook got the secret")
	}
	// Known findings are not announced again.
	if _, _, errOut := e.sweep("--org", "acme", "--verify", "--notify-webhook", hook.URL); len(posts) != 2 {
		t.Errorf("second sweep posted again:\n%s", errOut)
	}
}

func TestGitHubPullRefsAndFull(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	w := e.gh.AddRepo("acme/svc", ghtest.Repo{})
	push(t, w, "init", map[string]string{"README.md": "# svc\n"})
	// A pull request from a fork: its head exists only as refs/pull/1/head.
	w.Git("checkout", "-q", "-b", "contrib")
	w.Write("contrib.env", "TOKEN="+tokE+"\n")
	w.Commit("contribution")
	w.Git("push", "-q", "origin", "contrib:refs/pull/1/head")

	if code, fs, errOut := e.sweep("--org", "acme"); code != exitClean || len(fs) != 0 {
		t.Errorf("without pull refs: exit %d %v\n%s", code, where(fs), errOut)
	}
	code, fs, errOut := e.sweep("--org", "acme", "--include-pull-refs")
	if code != exitFindings || !cmp.Equal(where(fs), []string{"acme/svc contrib.env:github-token"}) {
		t.Errorf("with pull refs: exit %d %v\n%s", code, where(fs), errOut)
	}
	// --full scans everything again; what it finds is not new.
	code, fs, errOut = e.sweep("--org", "acme", "--include-pull-refs", "--full", "--new-only")
	if code != exitClean || len(fs) != 0 || !strings.Contains(errOut, "acme/svc: 2 new commits, 2 blobs") {
		t.Errorf("--full: exit %d %v\n%s", code, where(fs), errOut)
	}
}

// TestGitHubSweepMessages: the sweep scans the messages of new commits and
// of annotated tags; a secret in one is new once, then known.
func TestGitHubSweepMessages(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	w := e.gh.AddRepo("acme/api", ghtest.Repo{})
	commit := push(t, w, "deploy\n\nthe bot's token: "+tokA+"\n", map[string]string{"README.md": "hello\n"})
	w.Git("tag", "-a", "v1", "-m", "release\n\ntoken "+tokB)
	w.Git("push", "-q", "origin", "v1")
	tag := w.Git("rev-parse", "v1")

	code, fs, errOut := e.sweep("--org", "acme", "--new-only")
	got := map[string]string{}
	for _, f := range fs {
		got[f.Source] = f.Commit
		if f.Path != "" || f.Line != 3 {
			t.Errorf("%s finding at %q:%d, want no path and line 3", f.Source, f.Path, f.Line)
		}
	}
	if code != exitFindings || got[finding.SourceCommitMessage] != commit || got[finding.SourceTagMessage] != tag {
		t.Fatalf("first sweep: exit %d, findings by source %v\n%s", code, got, errOut)
	}
	if code, fs, errOut := e.sweep("--org", "acme", "--new-only"); code != exitClean || len(fs) != 0 {
		t.Errorf("second sweep: exit %d, %d new findings\n%s", code, len(fs), errOut)
	}
}

// TestGitHubSweepExposure: an AWS key a sweep finds says since when it is
// exposed, whether the default branch still holds it, and whether the
// repository is public.
func TestGitHubSweepExposure(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	pair := "AWS_ACCESS_KEY_ID=" + keyID + "\nAWS_SECRET_ACCESS_KEY=" + secret + "\n"
	pub := push(t, e.gh.AddRepo("acme/public", ghtest.Repo{Visibility: "public"}), "leak", map[string]string{"prod.env": pair})
	w := e.gh.AddRepo("acme/private", ghtest.Repo{Visibility: "private"})
	priv := push(t, w, "leak", map[string]string{"prod.env": pair})
	push(t, w, "remove", map[string]string{"prod.env": "AWS_PROFILE=prod\n"})

	code, fs, errOut := e.sweep("--org", "acme")
	if code != exitFindings || len(fs) != 2 {
		t.Fatalf("exit %d, %d findings\n%s", code, len(fs), errOut)
	}
	for _, f := range fs {
		wantPublic, wantCommit, wantInHead := f.Repository == "acme/public", priv, false
		if wantPublic {
			wantCommit, wantInHead = pub, true
		}
		ex := f.Exposure
		if f.Public == nil || *f.Public != wantPublic || ex == nil || ex.Commit != wantCommit || ex.Since == "" || ex.StillInHead == nil || *ex.StillInHead != wantInHead {
			t.Errorf("%s: public %v, exposure %+v; want public %v, commit %s, still in HEAD %v", f.Repository, f.Public, ex, wantPublic, wantCommit, wantInHead)
		}
	}
}

// TestGitHubReverifiesKnownFindings: a nightly sweep verifies known
// findings again once their verification is --reverify-after old, reading
// the secret back from the mirror (the state holds none), and reports a
// key that is no longer live even with --new-only.
func TestGitHubReverifiesKnownFindings(t *testing.T) {
	sts := awstest.New(t)
	live := sts.AddUserKey(ownAccount, "ci/deploy-bot", false)
	awsEnv(t, sts.URL, sts.AddUserKey(ownAccount, "security-admin", true))
	e := newSweepEnv(t)
	at := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	e.now = func() time.Time { return at }
	push(t, e.gh.AddRepo("acme/infra", ghtest.Repo{}), "terraform", map[string]string{
		"main.tf": "provider \"aws\" {\n  access_key = \"" + live.KeyID + "\"\n  secret_key = \"" + live.Secret + "\"\n}\n",
	})
	code, fs, errOut := e.sweep("--org", "acme", "--verify", "--new-only")
	if code != exitFindings || len(fs) != 1 || fs[0].Verification == nil || fs[0].Verification.Status != "verified" || fs[0].Verification.Checked != "2026-12-01T02:00:00Z" {
		t.Fatalf("first sweep: exit %d %+v\n%s", code, fs, errOut)
	}
	calls := func() int { return len(sts.CallsBy(live.KeyID)) }
	sts.SetActive(live.KeyID, false)

	// An hour later: not due again, nothing new.
	at = at.Add(time.Hour)
	code, fs, errOut = e.sweep("--org", "acme", "--verify", "--new-only")
	if code != exitClean || len(fs) != 0 || calls() != 1 {
		t.Fatalf("second sweep: exit %d %v, %d calls\n%s", code, where(fs), calls(), errOut)
	}

	// A day later: verified again, no longer live, and reported.
	at = at.Add(24 * time.Hour)
	code, fs, errOut = e.sweep("--org", "acme", "--verify", "--new-only")
	if code != exitFindings || len(fs) != 1 || fs[0].Verification == nil || fs[0].Verification.Status != "invalid" {
		t.Fatalf("third sweep: exit %d %+v\n%s", code, fs, errOut)
	}
	if fs[0].Secret == live.Secret {
		t.Error("the secret is in clear")
	}
	if !strings.Contains(errOut, "1 known verified again, 1 changed") {
		t.Errorf("stderr does not say it verified again:\n%s", errOut)
	}

	// The new verification is recorded: the next sweep has nothing to say
	// (an invalid key is not verified again).
	at = at.Add(48 * time.Hour)
	before := calls()
	code, fs, errOut = e.sweep("--org", "acme", "--verify", "--new-only")
	if code != exitClean || len(fs) != 0 || calls() != before {
		t.Errorf("fourth sweep: exit %d %v, %d new calls\n%s", code, where(fs), calls()-before, errOut)
	}
	// Without --new-only the known finding carries its latest verification.
	code, fs, _ = e.sweep("--org", "acme", "--reverify-after", "0")
	if code != exitFindings || len(fs) != 1 || fs[0].Verification == nil || fs[0].Verification.Status != "invalid" {
		t.Errorf("report of known findings: %+v", fs)
	}
}
