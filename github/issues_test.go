package github

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/ghtest"
)

func TestStateCursors(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Cursor("acme/a", finding.SourceIssue); err != nil || c != "" {
		t.Fatalf("no cursor yet: %q, %v", c, err)
	}
	for _, src := range []string{finding.SourceIssue, finding.SourceIssueComment} {
		if err := s.SetCursor("acme/a", src, "2025-01-01T00:0"+src[len(src)-1:]+":00Z"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetCursor("acme/ab", finding.SourceIssue, "2025-02-01T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = OpenState(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, _ := s.Cursor("acme/a", finding.SourceIssueComment); c != "2025-01-01T00:0t:00Z" {
		t.Errorf("cursor after reopening: %q", c)
	}
	if err := s.Delete("acme/a"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Cursor("acme/a", finding.SourceIssue); c != "" {
		t.Errorf("cursor of a forgotten repository: %q", c)
	}
	if c, _ := s.Cursor("acme/ab", finding.SourceIssue); c != "2025-02-01T00:00:00Z" {
		t.Errorf("another repository's cursor was touched: %q", c)
	}
}

// issueSweep sweeps repos with --issues once, as one run does, and
// returns the outcomes (failed ones included).
func (x *sweepFixture) issueSweep(t *testing.T, repos []Repo, pages int) []Outcome {
	t.Helper()
	return x.sourceSweep(t, repos, func(sw *Sweep) { sw.Sources, sw.SourcePages = Sources{Issues: true}, pages })
}

// sourceSweep sweeps repos once with the sources set sets, as one run
// does, delivering what it found, and returns the outcomes (failed ones
// included).
func (x *sweepFixture) sourceSweep(t *testing.T, repos []Repo, set func(*Sweep)) []Outcome {
	t.Helper()
	state, err := OpenState(filepath.Join(x.cache, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	client, err := NewClient(x.hosts, nil, StaticToken(standInAuth), nil)
	if err != nil {
		t.Fatal(err)
	}
	client.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	sw := &Sweep{
		Mirror: &Mirror{Dir: x.cache, Tokens: StaticToken(standInAuth), Hosts: x.hosts},
		State:  state, Concurrency: 2, PerRepo: 2, Detector: x.det, Client: client,
	}
	set(sw)
	outs := sw.Run(context.Background(), repos)
	for _, o := range outs {
		if o.Err == nil {
			if err := state.Delivered(o.New); err != nil {
				t.Fatal(err)
			}
		}
	}
	return outs
}

func paths(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}

func TestSweepIssuesPageCap(t *testing.T) {
	t.Parallel()
	x := newSweepFixture(t)
	x.gh.IssuePageSize = 1
	w := x.gh.AddRepo("acme/app", ghtest.Repo{})
	w.Write("README.md", "# app\n")
	w.Commit("init")
	w.Git("push", "-q", "origin", "main")
	for _, tok := range []string{testToken, testToken2, "ghp_" + "MdgaKjIg8xNbe3nNyjOq9wMxEhh2FDEEtfjg"} {
		x.gh.AddIssue("acme/app", "eve", "leak", "token "+tok)
	}
	repo := x.repo(t, "acme/app")

	o := x.issueSweep(t, []Repo{repo}, 2)[0]
	if o.Err != nil || !cmp.Equal(paths(o.New), []string{"issues/1", "issues/2"}) || !cmp.Equal(o.Sources.Capped, []string{"issues (2 pages)"}) {
		t.Fatalf("first sweep: %v %v %+v", o.Err, paths(o.New), o.Sources)
	}
	o = x.issueSweep(t, []Repo{repo}, 2)[0]
	if o.Err != nil || !cmp.Equal(paths(o.New), []string{"issues/3"}) || len(o.Sources.Capped) != 0 {
		t.Fatalf("second sweep goes on: %v %v %+v", o.Err, paths(o.New), o.Sources)
	}
}

func TestSweepIssuesFailedRepositoryReadsAgain(t *testing.T) {
	t.Parallel()
	x := newSweepFixture(t)
	w := x.gh.AddRepo("acme/app", ghtest.Repo{})
	w.Write("README.md", "# app\n")
	w.Commit("init")
	w.Git("push", "-q", "origin", "main")
	x.gh.AddIssueComment("acme/app", x.gh.AddIssue("acme/app", "eve", "leak", "hi").Number, "eve", "token "+testToken)
	repo := x.repo(t, "acme/app")

	// Read, scanned, but the repository fails: neither its findings nor
	// the cursors are recorded.
	x.gh.FailGit("acme/app", 500)
	if o := x.issueSweep(t, []Repo{repo}, 0)[0]; o.Err == nil {
		t.Fatal("the failure was not reported")
	}
	x.gh.FailGit("acme/app", 0)
	// A rate limit on a listing is waited out, not taken for "nothing
	// there".
	x.gh.RateLimit("secondary", "primary")
	o := x.issueSweep(t, []Repo{repo}, 0)[0]
	if o.Err != nil || len(o.New) != 1 || o.New[0].Source != finding.SourceIssueComment || len(o.Sources.Unavailable) != 0 {
		t.Fatalf("after the failure: %v %v %+v", o.Err, paths(o.New), o.Sources)
	}
	if strings.Contains(o.New[0].Secret, testToken) {
		t.Error("secret in clear")
	}
}
