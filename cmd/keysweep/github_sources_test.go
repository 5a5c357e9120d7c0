package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/ghtest"
	"github.com/keysweep/keysweep/internal/gittest"
)

// sourceOf names the source a request of the stand-in served, for
// repository repo: code, wiki, issues, actions, gists, or "" (the
// organization's listing).
func sourceOf(r, repo string) string {
	_, p, _ := strings.Cut(r, " ")
	switch {
	case strings.HasPrefix(p, "/git/"+repo+".git/"):
		return "code"
	case strings.HasPrefix(p, "/git/"+repo+".wiki.git/"):
		return "wiki"
	case strings.HasPrefix(p, "/api/v3/repos/"+repo+"/actions/"), strings.HasPrefix(p, "/logstore/"+repo+"/"):
		return "actions"
	case strings.HasPrefix(p, "/api/v3/repos/"+repo+"/"):
		return "issues"
	case strings.Contains(p, "/members"), strings.HasPrefix(p, "/api/v3/users/"), strings.HasPrefix(p, "/git/gist/"):
		return "gists"
	}
	return ""
}

func requestsBySource(gh *ghtest.Server, from int, repo string) map[string]int {
	n := map[string]int{}
	for _, r := range gh.RequestURIs()[from:] {
		if s := sourceOf(r, repo); s != "" {
			n[s]++
		}
	}
	return n
}

func TestGitHubSweepAllSources(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	app := e.gh.AddRepo("acme/app", ghtest.Repo{})
	push(t, app, "init", map[string]string{"README.md": "# app\n"})
	nowiki := e.gh.AddRepo("acme/nowiki", ghtest.Repo{})
	push(t, nowiki, "init", map[string]string{"README.md": "# nowiki\n"})

	wiki := e.gh.AddWiki("acme/app")
	wiki.Write("Runbook.md", "TOKEN="+tokIssue+"\n")
	wiki.Commit("runbook")
	wiki.Git("push", "-q", "origin", "master")
	e.gh.AddMember("acme", "alice")
	gist, g := e.gh.AddGist("alice")
	g.Write("env.sh", "export GH_TOKEN="+tokPull+"\n")
	g.Commit("gist")
	g.Git("push", "-q", "origin", "master")
	run := e.gh.AddRun("acme/app", map[string]string{"1_build.txt": "2026-01-01T00:00:00Z echo " + tokComment + "\n"})
	expired := e.gh.AddRun("acme/app", map[string]string{"1_build.txt": "echo " + tokDiff + "\n"})
	e.gh.SetRun("acme/app", expired, "completed", 410)

	start := len(e.gh.RequestURIs())
	code, fs, errOut := e.sweep("--org", "acme", "--all-sources")
	if code != exitFindings {
		t.Fatalf("first sweep: exit %d\n%s", code, errOut)
	}
	type got struct{ Repository, Source, Path, URL string }
	var all []got
	for _, f := range fs {
		all = append(all, got{f.Repository, f.Source, f.Path, f.URL})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Source < all[j].Source })
	want := []got{
		{"acme/app", finding.SourceActionsLog, fmt.Sprintf("actions/runs/%d/1_build.txt", run), fmt.Sprintf("%s/acme/app/actions/runs/%d", e.gh.URL, run)},
		{"gist:alice/" + gist, finding.SourceGist, "env.sh", e.gh.URL + "/gist/alice/" + gist},
		{"acme/app", finding.SourceWiki, "wiki/Runbook.md", e.gh.URL + "/acme/app/wiki/Runbook"},
	}
	if d := cmp.Diff(want, all); d != "" {
		t.Fatalf("first sweep (-want +got):\n%s\nstderr:\n%s", d, errOut)
	}
	if !strings.Contains(errOut, fmt.Sprintf("logs of run %d (HTTP 410)", expired)) || !strings.Contains(errOut, "acme/nowiki: ") || !strings.Contains(errOut, "0 failed") {
		t.Errorf("expired logs and a missing wiki fail nothing:\n%s", errOut)
	}
	first := requestsBySource(e.gh, start, "acme/app")

	start = len(e.gh.RequestURIs())
	code, fs, errOut = e.sweep("--org", "acme", "--all-sources", "--new-only")
	if code != exitClean || len(fs) != 0 {
		t.Fatalf("second sweep, nothing new: exit %d %v\n%s", code, fs, errOut)
	}
	second := requestsBySource(e.gh, start, "acme/app")
	t.Logf("requests for acme/app by source: first sweep %v, second sweep %v", first, second)
	if second["actions"] != 1 || second["wiki"] > first["wiki"] {
		t.Errorf("the second sweep read again what it had: %v", second)
	}
}

func TestGitHubSourcesFlags(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	for _, args := range [][]string{
		{"--repo", "acme/app", "--gists"},
		{"--org", "acme", "--actions-logs", "--actions-days", "0"},
	} {
		if code, _, errOut := e.sweep(args...); code != exitError || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%v: exit %d, want a one-line error:\n%s", args, code, errOut)
		}
	}
}

// BenchmarkGitHubSweepAllSourcesUnchanged sweeps an organization of 50
// repositories, each with a wiki and a workflow run, with --all-sources,
// then times sweeps with nothing new.
//
//	go test ./cmd/keysweep -run '^$' -bench AllSourcesUnchanged -benchtime 3x
func BenchmarkGitHubSweepAllSourcesUnchanged(b *testing.B) {
	gh := ghtest.New(b, ghToken)
	gh.PageSize = 100
	for i := range 50 {
		name := fmt.Sprintf("acme/r%02d", i)
		for _, w := range []*gittest.Repo{gh.AddRepo(name, ghtest.Repo{}), gh.AddWiki(name)} {
			w.Write("Home.md", "home\n")
			w.Commit("init")
			w.Git("push", "-q", "origin", "HEAD")
		}
		gh.AddRun(name, map[string]string{"1_build.txt": "ok\n"})
	}
	tokenFile := filepath.Join(b.TempDir(), "token")
	writeFile(b, tokenFile, ghToken+"\n", 0o600)
	cache := b.TempDir()
	sweep := func() string {
		var out, errOut bytes.Buffer
		code := execute(context.Background(), []string{"github", "--api-url", gh.APIURL(), "--token-file", tokenFile, "--cache-dir", cache, "--org", "acme", "--all-sources"}, testStreams(strings.NewReader(""), &out, &errOut))
		if code != exitClean {
			b.Fatalf("exit %d\n%s", code, errOut.String())
		}
		return errOut.String()
	}
	sweep()
	b.ResetTimer()
	for range b.N {
		if errOut := sweep(); !strings.Contains(errOut, "(50 unchanged, 0 failed)") {
			b.Fatalf("not unchanged:\n%s", errOut)
		}
	}
}
