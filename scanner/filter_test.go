package scanner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/gittest"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// A second fake token, assembled so that this file holds none.
var ghToken2 = "ghp_" + "Z3xQ9mL2vT8kW4nB7cR1pD6sF5gH0jK2aY8e"

// commitAt commits everything with msg, authored and committed at date
// (RFC 3339), the message kept verbatim.
func commitAt(r *gittest.Repo, date, msg string) string {
	r.Env = []string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date}
	defer func() { r.Env = nil }()
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "--cleanup=verbatim", "-m", msg)
	return r.Git("rev-parse", "HEAD")
}

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s+"T00:00:00Z")
	if err != nil {
		panic(err)
	}
	return t
}

// where is what the filter tests check of a finding.
type where struct {
	Rule, Commit, Path, Source string
	Line                       int
}

func whereOf(fs []finding.Finding) []where {
	var out []where
	for _, f := range fs {
		out = append(out, where{f.RuleID, f.Commit, f.Path, f.Source, f.Line})
	}
	return out
}

// TestGitWindow: a window scans what its commits add or change, each
// secret at the oldest commit of the window that holds it.
func TestGitWindow(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.env", "token: "+ghToken+"\n")
	r.Write("b.env", envPair)
	c1 := commitAt(r, "2025-01-01T00:00:00Z", "init")
	r.Write("a.env", "# edited\ntoken: "+ghToken+"\n")
	c2 := commitAt(r, "2025-02-01T00:00:00Z", "edit a")
	r.Write("c.yml", "t: "+ghToken2+"\n")
	c3 := commitAt(r, "2025-03-01T00:00:00Z", "add c")
	r.Write("a.env", "# edited\n# again\ntoken: "+ghToken+"\n")
	r.Write("d.txt", "id "+keyID+"\n")
	c4 := commitAt(r, "2025-04-01T00:00:00Z", "add d, edit a")
	// A commit message and an annotated tag before the window.
	r.Git("tag", "-a", "-m", "release "+ghToken2, "v0", c1)

	const gh, aws, awsID = "github-token", detectors.AWSKeyRule, detectors.AWSKeyIDRule
	blob, tag := finding.SourceBlob, finding.SourceTagMessage
	tests := []struct {
		name          string
		opts          Options
		want          []where
		commits, from int
	}{
		{"no window", Options{}, []where{
			{gh, c1, "a.env", blob, 1}, {aws, c1, "b.env", blob, 1}, {gh, c3, "c.yml", blob, 1},
			{awsID, c4, "d.txt", blob, 1}, {gh, mustTag(r, "v0"), "", tag, 1},
		}, 4, 4},
		{"since: a secret from before, changed in the window, is at the oldest change", Options{Since: day("2025-02-01")}, []where{
			{gh, c2, "a.env", blob, 2}, {gh, c3, "c.yml", blob, 1}, {awsID, c4, "d.txt", blob, 1},
		}, 3, 4},
		{"since and until, both included", Options{Since: day("2025-02-01"), Until: day("2025-03-01")}, []where{
			{gh, c2, "a.env", blob, 2}, {gh, c3, "c.yml", blob, 1},
		}, 2, 4},
		{"a fractional since rounds up", Options{Since: day("2025-03-01").Add(time.Millisecond)}, []where{
			{gh, c4, "a.env", blob, 3}, {awsID, c4, "d.txt", blob, 1},
		}, 1, 4},
		{"until only: the tag names a commit of the window", Options{Until: day("2025-01-31")}, []where{
			{gh, c1, "a.env", blob, 1}, {aws, c1, "b.env", blob, 1}, {gh, mustTag(r, "v0"), "", tag, 1},
		}, 1, 4},
		{"max commits keeps the newest", Options{MaxCommits: 2}, []where{
			{gh, c3, "c.yml", blob, 1}, {gh, c4, "a.env", blob, 3}, {awsID, c4, "d.txt", blob, 1},
		}, 2, 4},
		{"max commits within since", Options{Since: day("2025-02-01"), MaxCommits: 5}, []where{
			{gh, c2, "a.env", blob, 2}, {gh, c3, "c.yml", blob, 1}, {awsID, c4, "d.txt", blob, 1},
		}, 3, 4},
		{"a window after every commit", Options{Since: day("2026-01-01")}, nil, 0, 4},
		{"every occurrence within the window", Options{Since: day("2025-02-01"), AllOccurrences: true}, []where{
			{gh, c2, "a.env", blob, 2}, {gh, c3, "c.yml", blob, 1}, {gh, c4, "a.env", blob, 3}, {awsID, c4, "d.txt", blob, 1},
		}, 3, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := scanRepo(t, r.Dir, tt.opts)
			if diff := cmp.Diff(tt.want, whereOf(res.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if res.Stats.Commits != tt.commits || res.Stats.TotalCommits != tt.from {
				t.Errorf("scanned %d of %d commits, want %d of %d", res.Stats.Commits, res.Stats.TotalCommits, tt.commits, tt.from)
			}
		})
	}
}

func mustTag(r *gittest.Repo, name string) string { return r.Git("rev-parse", "refs/tags/"+name) }

// TestGitWindowMessages: only the messages of the window's commits, and
// of the tags that name one of them, are scanned.
func TestGitWindowMessages(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.txt", "a\n")
	commitAt(r, "2025-01-01T00:00:00Z", "old: "+ghToken)
	r.Write("a.txt", "b\n")
	c2 := commitAt(r, "2025-02-01T00:00:00Z", "new: "+ghToken2)
	r.Git("tag", "-a", "-m", "tagged "+ghToken, "v2", c2)
	res := scanRepo(t, r.Dir, Options{Since: day("2025-02-01")})
	want := []where{
		{"github-token", c2, "", finding.SourceCommitMessage, 1},
		{"github-token", mustTag(r, "v2"), "", finding.SourceTagMessage, 1},
	}
	if diff := cmp.Diff(want, whereOf(res.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestGitBranches: a scan of some refs sees their history only.
func TestGitBranches(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.env", "token: "+ghToken+"\n")
	base := r.Commit("init")
	r.Git("checkout", "-q", "-b", "feature")
	r.Write("f.yml", "t: "+ghToken2+"\n")
	feat := r.Commit("feature")
	r.Git("tag", "-a", "-m", "id "+keyID, "v1")
	r.Git("checkout", "-q", "-b", "tmp", base)
	r.Write("r.txt", "id "+keyID+"\n")
	remote := r.Commit("someone else's")
	r.Git("update-ref", "refs/remotes/origin/work", remote)
	r.Git("checkout", "-q", "main")
	r.Git("branch", "-D", "tmp")
	tagID := mustTag(r, "v1")

	const gh = "github-token"
	blob := finding.SourceBlob
	mainOnly := []where{{gh, base, "a.env", blob, 1}}
	featureToo := []where{{gh, base, "a.env", blob, 1}, {gh, feat, "f.yml", blob, 1}}
	tests := []struct {
		name     string
		branches []string
		want     []where
		commits  int
	}{
		{"a short branch name", []string{"main"}, mainOnly, 1},
		{"a full ref name", []string{"refs/heads/main"}, mainOnly, 1},
		{"HEAD", []string{"HEAD"}, mainOnly, 1},
		{"another branch", []string{"feature"}, featureToo, 2},
		{"named twice", []string{"feature", "refs/heads/feature", "main"}, featureToo, 2},
		{"a remote-tracking branch", []string{"origin/work"}, []where{{gh, base, "a.env", blob, 1}, {detectors.AWSKeyIDRule, remote, "r.txt", blob, 1}}, 2},
		{"an annotated tag, with its message", []string{"v1"}, append(featureToo[:2:2], where{detectors.AWSKeyIDRule, tagID, "", finding.SourceTagMessage, 1}), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := scanRepo(t, r.Dir, Options{Branches: tt.branches})
			if diff := cmp.Diff(tt.want, whereOf(res.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if res.Stats.Commits != tt.commits || res.Stats.TotalCommits != tt.commits {
				t.Errorf("scanned %d of %d commits, want %d", res.Stats.Commits, res.Stats.TotalCommits, tt.commits)
			}
		})
	}
}

// TestGitFiltersSkipHiddenHistory: a filtered scan leaves out what only
// reflogs reach.
func TestGitFiltersSkipHiddenHistory(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("README.md", "hello\n")
	base := commitAt(r, "2025-01-01T00:00:00Z", "init")
	r.Write("ci/token.txt", "token: "+ghToken+"\n")
	commitAt(r, "2025-02-01T00:00:00Z", "the bot's token")
	r.Git("reset", "-q", "--hard", base)
	if fs := scanRepo(t, r.Dir, Options{Reflog: true, Unreachable: true}).Findings; len(fs) != 1 {
		t.Fatalf("unfiltered: %v, want the reflog's secret", whereOf(fs))
	}
	for _, opts := range []Options{
		{Reflog: true, Unreachable: true, Branches: []string{"main"}},
		{Reflog: true, Unreachable: true, Since: day("2024-01-01")},
		{Reflog: true, Unreachable: true, MaxCommits: 10},
	} {
		res := scanRepo(t, r.Dir, opts)
		if len(res.Findings) != 0 || res.Stats.ReflogCommits != 0 || res.Stats.UnreachableBlobs != 0 {
			t.Errorf("%+v: %v, %d reflog commits", opts, whereOf(res.Findings), res.Stats.ReflogCommits)
		}
	}
}

// TestGitWindowForgedDate: a commit dated long ago is left out of a
// window, but does not hide the commits of the window behind it (git's
// --since would stop the walk there).
func TestGitWindowForgedDate(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.env", "token: "+ghToken+"\n")
	c1 := commitAt(r, "2025-02-01T00:00:00Z", "in the window")
	r.Write("b.txt", "id "+keyID+"\n")
	commitAt(r, "2001-01-01T00:00:00Z", "dated long ago")
	r.Write("c.yml", "t: "+ghToken2+"\n")
	c3 := commitAt(r, "2025-03-01T00:00:00Z", "in the window too")
	res := scanRepo(t, r.Dir, Options{Since: day("2025-01-01")})
	want := []where{{"github-token", c1, "a.env", finding.SourceBlob, 1}, {"github-token", c3, "c.yml", finding.SourceBlob, 1}}
	if diff := cmp.Diff(want, whereOf(res.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if res.Stats.Commits != 2 || res.Stats.TotalCommits != 3 {
		t.Errorf("scanned %d of %d commits, want 2 of 3", res.Stats.Commits, res.Stats.TotalCommits)
	}
}

// TestGitWindowLeavesOutRefsToBlobs: a ref to a blob or tree has no
// date, so a window leaves it out; a branch selection keeps it if named.
func TestGitWindowLeavesOutRefsToBlobs(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.txt", "a\n")
	commitAt(r, "2025-01-01T00:00:00Z", "init")
	r.Write("t/blob.txt", "token: "+ghToken+"\n")
	id := r.Git("hash-object", "-w", "t/blob.txt")
	r.Remove("t/blob.txt")
	r.Git("update-ref", "refs/tags/blob-tag", id)
	for _, tt := range []struct {
		opts Options
		want int
	}{
		{Options{}, 1},
		{Options{MaxCommits: 10}, 0},
		{Options{Branches: []string{"main"}}, 0},
		{Options{Branches: []string{"blob-tag"}}, 1},
		{Options{Branches: []string{"blob-tag"}, Since: day("2024-01-01")}, 0},
	} {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			if got := scanRepo(t, r.Dir, tt.opts).Findings; len(got) != tt.want {
				t.Errorf("%+v: %v, want %d findings", tt.opts, whereOf(got), tt.want)
			}
		})
	}
}

func TestGitFilterErrors(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.txt", "a\n")
	r.Commit("init")
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"an unknown ref", Options{Branches: []string{"nope"}}, `no ref "nope" in ` + r.Dir},
		{"an unknown ref among known ones", Options{Branches: []string{"main", "refs/heads/nope"}}, `no ref "refs/heads/nope"`},
		{"an option", Options{Branches: []string{"--output=/tmp/x"}}, `starts with "-"`},
		{"a dash", Options{Branches: []string{"-all"}}, `starts with "-"`},
		{"a revision", Options{Branches: []string{"main~1"}}, "git refuses"},
		{"a range", Options{Branches: []string{"main..HEAD"}}, `".."`},
		{"a reflog entry", Options{Branches: []string{"main@{1}"}}, `"@{"`},
		{"a control character", Options{Branches: []string{"ma\x1bin"}}, "control character"},
		{"empty", Options{Branches: []string{""}}, "empty"},
		{"until before since", Options{Since: day("2025-02-01"), Until: day("2025-01-01")}, "is before since"},
		{"negative max", Options{MaxCommits: -1}, "want 0 (all) or more"},
		{"after 9999", Options{Until: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "after the year 9999"},
		{"until before 1970", Options{Until: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)}, "before 1970"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Git(context.Background(), r.Dir, detectors.Default(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one with %q", err, tt.want)
			}
			if res != nil || strings.Contains(err.Error(), "\n") {
				t.Errorf("result %v, error %q: want none, and one line", res, err)
			}
		})
	}
	_, err := Git(context.Background(), r.Dir, detectors.Default(), Options{Branches: []string{"nope"}})
	if !errors.Is(err, gitsrc.ErrUnknownRef) {
		t.Errorf("err = %v, want ErrUnknownRef", err)
	}
	_, err = Revisions(context.Background(), r.Dir, detectors.Default(), gitsrc.Range{Base: "main", Head: "HEAD"}, Options{Branches: []string{"main"}})
	if err == nil || !strings.Contains(err.Error(), "give one or the other") {
		t.Errorf("a range with branches: err = %v", err)
	}
}

// TestRevisions: BASE..HEAD and A...B, with and without a window.
func TestRevisions(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("base.txt", "id "+keyID+"\n")
	commitAt(r, "2025-01-01T00:00:00Z", "base")
	r.Git("checkout", "-q", "-b", "topic")
	r.Write("t.yml", "t: "+ghToken2+"\n")
	t1 := commitAt(r, "2025-02-01T00:00:00Z", "topic")
	r.Git("checkout", "-q", "main")
	r.Write("m.env", "token: "+ghToken+"\n")
	m1 := commitAt(r, "2025-03-01T00:00:00Z", "main")
	r.Write("m2.txt", "more\n")
	commitAt(r, "2025-04-01T00:00:00Z", "main again")

	const gh = "github-token"
	blob := finding.SourceBlob
	tests := []struct {
		spec          string
		opts          Options
		want          []where
		commits, from int
	}{
		{"main..topic", Options{}, []where{{gh, t1, "t.yml", blob, 1}}, 1, 1},
		{"topic..main", Options{}, []where{{gh, m1, "m.env", blob, 1}}, 2, 2},
		{"main...topic", Options{}, []where{{gh, t1, "t.yml", blob, 1}, {gh, m1, "m.env", blob, 1}}, 3, 3},
		{"topic...main", Options{}, []where{{gh, t1, "t.yml", blob, 1}, {gh, m1, "m.env", blob, 1}}, 3, 3},
		{"main...topic", Options{Since: day("2025-02-15")}, []where{{gh, m1, "m.env", blob, 1}}, 2, 3},
		{"main...topic", Options{MaxCommits: 1}, nil, 1, 3},
		{"main...main", Options{}, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			rng, err := gitsrc.ParseRevRange(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Revisions(context.Background(), r.Dir, detectors.Default(), rng, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, whereOf(res.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if res.Stats.Commits != tt.commits || res.Stats.TotalCommits != tt.from {
				t.Errorf("scanned %d of %d commits, want %d of %d", res.Stats.Commits, res.Stats.TotalCommits, tt.commits, tt.from)
			}
		})
	}
	t.Run("unrelated histories", func(t *testing.T) {
		t.Parallel()
		o := gittest.New(t)
		o.Write("a.env", "token: "+ghToken+"\n")
		a := o.Commit("a")
		o.Git("checkout", "-q", "--orphan", "other")
		o.Git("rm", "-rfq", ".")
		o.Write("b.yml", "t: "+ghToken2+"\n")
		b := o.Commit("b")
		res, err := Revisions(context.Background(), o.Dir, detectors.Default(), gitsrc.Range{Base: "main", Head: "other", Symmetric: true}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := []where{{gh, a, "a.env", blob, 1}, {gh, b, "b.yml", blob, 1}}
		if diff := cmp.Diff(want, whereOf(res.Findings)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})
}

// TestSubject: each finding carries the first line of its commit's
// message (a tag's, for a tag message), clipped, its bytes kept for the
// report to escape.
func TestSubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, msg, want string
	}{
		{"a plain subject", "add config\n\nwith a body", "add config"},
		{"control characters", "deploy \x1b[31mred\x1b[0m\tand a \x07bell\r\n\nbody", "deploy \x1b[31mred\x1b[0m\tand a \x07bell"},
		{"a bidi override", "fix \u202eexe.txt\n", "fix \u202eexe.txt"},
		{"leading blank lines", "\n  \nreal subject\nsecond line", "real subject"},
		{"10 KB on one line", strings.Repeat("é", 5000), strings.Repeat("é", 100)},
		{"clipped on a character", "x" + strings.Repeat("é", 5000), "x" + strings.Repeat("é", 99)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := gittest.New(t)
			r.Write("a.env", "token: "+ghToken+"\n")
			c := commitAt(r, "2025-01-01T00:00:00Z", tt.msg)
			res := scanRepo(t, r.Dir, Options{})
			if len(res.Findings) != 1 {
				t.Fatalf("got %v, want one finding", whereOf(res.Findings))
			}
			if f := res.Findings[0]; f.Commit != c || f.Subject != tt.want || f.Author != "Alice Example" || f.Date != "2025-01-01T00:00:00+00:00" {
				t.Errorf("got %s %q by %q at %s, want %s %q", f.Commit, f.Subject, f.Author, f.Date, c, tt.want)
			}
		})
	}
	t.Run("commit and tag messages", func(t *testing.T) {
		t.Parallel()
		r := gittest.New(t)
		c := commitAt(r, "2025-01-01T00:00:00Z", "rotate keys\n\ntoken "+ghToken)
		r.Git("tag", "-a", "-m", "release 1\n\nid "+keyID, "v1")
		res := scanRepo(t, r.Dir, Options{})
		var got [][2]string
		for _, f := range res.Findings {
			got = append(got, [2]string{f.Commit, f.Subject})
		}
		want := [][2]string{{c, "rotate keys"}, {mustTag(r, "v1"), "release 1"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
