package github

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/ghtest"
)

// moreSweep sweeps repos with --wikis and --actions-logs once, as one run
// does, delivering what it found.
func (x *sweepFixture) moreSweep(t *testing.T, repos []Repo) []Outcome {
	t.Helper()
	return x.sourceSweep(t, repos, func(sw *Sweep) { sw.Wikis, sw.ActionsLogs = true, true })
}

func (x *sweepFixture) codeRepo(t *testing.T, name string) Repo {
	t.Helper()
	w := x.gh.AddRepo(name, ghtest.Repo{})
	w.Write("README.md", "# app\n")
	w.Commit("init")
	w.Git("push", "-q", "origin", "main")
	return x.repo(t, name)
}

type located struct{ Source, Path, URL string }

func locate(fs []finding.Finding) []located {
	var out []located
	for _, f := range fs {
		out = append(out, located{f.Source, f.Path, f.URL})
	}
	return out
}

func TestSweepWiki(t *testing.T) {
	t.Parallel()
	x := newSweepFixture(t)
	repo := x.codeRepo(t, "acme/app")
	x.codeRepo(t, "acme/nowiki")
	wiki := x.gh.AddWiki("acme/app")
	wiki.Write("Home.md", "welcome\n")
	wiki.Write("Deploy-Notes.md", "token "+testToken+"\n")
	wiki.Commit("pages")
	wiki.Git("push", "-q", "origin", "master")

	outs := x.moreSweep(t, []Repo{repo, x.repo(t, "acme/nowiki")})
	base := x.gh.URL + "/acme/app/wiki/"
	if o := outs[0]; o.Err != nil || !cmp.Equal(locate(o.New), []located{{finding.SourceWiki, "wiki/Deploy-Notes.md", base + "Deploy-Notes"}}) {
		t.Fatalf("first sweep: %v %+v", o.Err, locate(o.New))
	}
	if o := outs[1]; o.Err != nil || len(o.New) != 0 || !cmp.Equal(o.Sources.Unavailable, []string{"wiki (none)"}) {
		t.Fatalf("a repository without a wiki: %v %+v", o.Err, o.Sources)
	}
	if outs[0].New[0].Repository != "acme/app" {
		t.Errorf("repository %q", outs[0].New[0].Repository)
	}

	o := x.moreSweep(t, []Repo{repo})[0]
	if o.Err != nil || len(o.New) != 0 || !o.Unchanged {
		t.Fatalf("second sweep, nothing new: %v %+v unchanged=%v", o.Err, locate(o.New), o.Unchanged)
	}
	wiki.Write("Setup.md", "again "+testToken+"x\n") // same secret, new page
	wiki.Write("Setup.md", "key "+strings.Replace(testToken, "R8", "Q7", 1)+"\n")
	wiki.Commit("setup")
	wiki.Git("push", "-q", "origin", "master")
	o = x.moreSweep(t, []Repo{repo})[0]
	if o.Err != nil || !cmp.Equal(locate(o.New), []located{{finding.SourceWiki, "wiki/Setup.md", base + "Setup"}}) || o.Unchanged {
		t.Fatalf("incremental sweep: %v %+v", o.Err, locate(o.New))
	}
}

func TestWikiPageURL(t *testing.T) {
	t.Parallel()
	for file, want := range map[string]string{
		"Home.md":          "https://github.com/a/b/wiki/Home",
		"../x.md":          "https://github.com/a/b/wiki",
		"a/b.md":           "https://github.com/a/b/wiki",
		"evil\n.md":        "https://github.com/a/b/wiki",
		".hidden.md":       "https://github.com/a/b/wiki",
		"Deploy-Notes.txt": "https://github.com/a/b/wiki/Deploy-Notes",
	} {
		if got := wikiPageURL("https://github.com/a/b", file); got != want {
			t.Errorf("wikiPageURL(%q) = %q, want %q", file, got, want)
		}
	}
	if got := wikiPageURL("javascript:alert(1)", "Home.md"); got != "" {
		t.Errorf("a hostile html_url gave %q", got)
	}
}

func TestSweepActionsLogs(t *testing.T) {
	t.Parallel()
	x := newSweepFixture(t)
	x.gh.IssuePageSize = 1 // the runs span pages
	repo := x.codeRepo(t, "acme/app")
	r1 := x.gh.AddRun("acme/app", map[string]string{"build/1_Set up job.txt": "ok\n", "1_build.txt": "echo " + testToken + "\n"})
	x.gh.AddRun("acme/app", map[string]string{"1_build.txt": "nothing\n"})
	gone := x.gh.AddRun("acme/app", map[string]string{"1_build.txt": "echo " + testToken + "\n"})
	x.gh.SetRun("acme/app", gone, "completed", http.StatusGone)
	running := x.gh.AddRunZip("acme/app", "in_progress", nil)

	o := x.moreSweep(t, []Repo{repo})[0]
	runURL := x.gh.URL + "/acme/app/actions/runs/"
	want := []located{{finding.SourceActionsLog, "actions/runs/" + itoa(r1) + "/1_build.txt", runURL + itoa(r1)}}
	if o.Err != nil || !cmp.Equal(locate(o.New), want) {
		t.Fatalf("first sweep: %v %+v", o.Err, locate(o.New))
	}
	if !cmp.Equal(o.Sources.Unavailable, []string{"wiki (none)", "logs of run " + itoa(gone) + " (HTTP 410)"}) {
		t.Errorf("unavailable: %q", o.Sources.Unavailable)
	}

	// The run in progress completes with a secret: the cursor stayed
	// below it.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("2_test.txt")
	_, _ = w.Write([]byte("key " + strings.Replace(testToken, "R8", "Q7", 1) + "\n"))
	_ = zw.Close()
	x.gh.SetRun("acme/app", running, "completed", 0)
	x.gh.SetRunZip("acme/app", running, buf.Bytes())
	before := len(x.gh.Requests())
	o = x.moreSweep(t, []Repo{repo})[0]
	if o.Err != nil || !cmp.Equal(paths(o.New), []string{"actions/runs/" + itoa(running) + "/2_test.txt"}) {
		t.Fatalf("second sweep: %v %+v", o.Err, locate(o.New))
	}
	logs := 0
	for _, r := range x.gh.Requests()[before:] {
		if strings.HasSuffix(r, "/logs") {
			logs++
		}
	}
	if logs != 1 {
		t.Errorf("second sweep fetched %d logs, want 1 (the run that completed)", logs)
	}
	o = x.moreSweep(t, []Repo{repo})[0]
	if o.Err != nil || len(o.New) != 0 || !o.Unchanged {
		t.Fatalf("third sweep: %v %+v", o.Err, locate(o.New))
	}
}

func TestSweepActionsLogsHostile(t *testing.T) {
	t.Parallel()
	x := newSweepFixture(t)
	repo := x.codeRepo(t, "acme/app")

	// A zip bomb: a file that inflates past the bound.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("1_build.txt")
	zeros := make([]byte, 1<<20)
	for range MaxLogFile>>20 + 1 {
		_, _ = w.Write(zeros)
	}
	_ = zw.Close()
	bomb := x.gh.AddRunZip("acme/app", "completed", buf.Bytes())
	o := x.moreSweep(t, []Repo{repo})[0]
	if o.Err != nil || len(o.Sources.Unavailable) != 2 || !strings.Contains(o.Sources.Unavailable[1], "run "+itoa(bomb)+" (over") {
		t.Fatalf("zip bomb: %v %q", o.Err, o.Sources.Unavailable)
	}

	// Logs redirected to another host: not followed, the token not sent.
	catcher := ghtest.NewCatcher(t)
	x.gh.RedirectLogs(catcher.URL)
	x.gh.AddRun("acme/app", map[string]string{"1_build.txt": "echo " + testToken + "\n"})
	o = x.moreSweep(t, []Repo{repo})[0]
	if o.Err == nil || !strings.Contains(o.Err.Error(), "not following the redirect") {
		t.Fatalf("redirect elsewhere: %v", o.Err)
	}
	if got := catcher.Requests(); len(got) != 0 {
		t.Fatalf("the other host was sent: %q", got)
	}
}

func TestUnzipLogsBounds(t *testing.T) {
	t.Parallel()
	if _, err := unzipLogs([]byte("not a zip")); err == nil {
		t.Error("garbage was read as a zip")
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range []string{"../escape.txt", "/abs.txt", "ok.txt"} {
		w, _ := zw.Create(n)
		_, _ = w.Write([]byte("x"))
	}
	_ = zw.Close()
	files, err := unzipLogs(buf.Bytes())
	if err != nil || len(files) != 1 || files[0].name != "ok.txt" {
		t.Fatalf("names: %v %+v", err, files)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSweepGists(t *testing.T) {
	t.Parallel()
	x := newSweepFixture(t)
	x.gh.IssuePageSize = 1 // members and gists span pages
	x.gh.AddMember("acme", "alice")
	x.gh.AddMember("acme", "bob")
	id, g := x.gh.AddGist("alice")
	g.Write("deploy.sh", "export T="+testToken+"\n")
	g.Commit("gist")
	g.Git("push", "-q", "origin", "master")
	x.gh.AddGist("bob") // empty

	client, err := NewClient(x.hosts, nil, StaticToken(standInAuth), nil)
	if err != nil {
		t.Fatal(err)
	}
	gists, err := client.Gists(context.Background(), "acme", nil)
	if err != nil || len(gists) != 2 || gists[0].FullName != "gist:alice/"+id {
		t.Fatalf("gists: %v %+v", err, gists)
	}
	outs := x.moreSweep(t, gists)
	want := []located{{finding.SourceGist, "deploy.sh", x.gh.URL + "/gist/alice/" + id}}
	if o := outs[0]; o.Err != nil || !cmp.Equal(locate(o.New), want) || o.New[0].Repository != "gist:alice/"+id {
		t.Fatalf("first sweep: %v %+v", o.Err, o.New)
	}
	if o := outs[1]; o.Err != nil || len(o.New) != 0 {
		t.Fatalf("empty gist: %v", o.Err)
	}
	o := x.moreSweep(t, gists[:1])[0]
	if o.Err != nil || len(o.New) != 0 || !o.Unchanged {
		t.Fatalf("second sweep: %v %+v", o.Err, locate(o.New))
	}
	g.Write("more.sh", "export U="+strings.Replace(testToken, "R8", "Q7", 1)+"\n")
	g.Commit("more")
	g.Git("push", "-q", "origin", "master")
	o = x.moreSweep(t, gists[:1])[0]
	if o.Err != nil || !cmp.Equal(paths(o.New), []string{"more.sh"}) {
		t.Fatalf("incremental sweep: %v %+v", o.Err, locate(o.New))
	}
}

func TestGistNames(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"gist:alice/abc123":     true,
		"gist:alice/../x":       false,
		"gist:al/ice/abc":       false,
		"gist:alice/abc/../..":  false,
		"gist:../abc":           false,
		"gist:alice/":           false,
		"acme/app":              false,
		"gist:a_b/abc":          false,
		"gist:alice/abc%2F..%2": false,
	} {
		if _, _, got := isGist(name); got != ok {
			t.Errorf("isGist(%q) = %v, want %v", name, got, ok)
		}
	}
}
