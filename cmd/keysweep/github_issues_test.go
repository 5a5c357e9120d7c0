package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/ghtest"
)

// Tokens of the discussions, assembled at run time.
var (
	tokIssue   = "ghp_" + "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"
	tokPull    = "ghp_" + "KLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFR"
	tokComment = "ghp_" + "IBXuDL7DxtpYlSXpfKtHF4vUCsMehGAkWvj7"
	tokDiff    = "ghp_" + "FAc9QeWJKY40uvSwMFLZDe1f8rESQedUStPK"
	tokReview  = "ghp_" + "R0CsTy4Qwb8DwkNhFdnXsiVpzz63FfkCzJr4"
	tokEdited  = "ghp_" + "i0B3JrTAwR4y9ojfljoQoaF1LlqsajAIxNKu"
)

var discussionTokens = []string{tokIssue, tokPull, tokComment, tokDiff, tokReview, tokEdited}

// apiRequests lists the API requests the stand-in had for repo since
// index from, sorted, without their query.
func apiRequests(gh *ghtest.Server, from int, repo string) []string {
	var out []string
	for _, r := range gh.RequestURIs()[from:] {
		if strings.HasPrefix(r, "GET /api/v3/repos/"+repo+"/") {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// withoutQuery drops what follows "?" in each request.
func withoutQuery(rs []string) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i], _, _ = strings.Cut(r, "?")
	}
	sort.Strings(out)
	return out
}

// discussion is what a test checks of a finding of --issues.
type discussion struct {
	Source, Path, URL, Author, Date, Commit string
	Line                                    int
}

func discussions(fs []finding.Finding) []discussion {
	var out []discussion
	for _, f := range fs {
		if f.Source != finding.SourceBlob && f.Source != "" {
			out = append(out, discussion{f.Source, f.Path, f.URL, f.Author, f.Date, f.Commit, f.Line})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func TestGitHubSweepIssues(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	e.gh.IssuePageSize = 2 // listings span pages
	app := e.gh.AddRepo("acme/app", ghtest.Repo{})
	push(t, app, "init", map[string]string{"README.md": "# app\n"})
	quiet := e.gh.AddRepo("acme/quiet", ghtest.Repo{IssuesDisabled: true})
	push(t, quiet, "init", map[string]string{"README.md": "# quiet\n"})

	issue := e.gh.AddIssue("acme/app", "mallory", "deploy fails", "It fails with\nTOKEN="+tokIssue+"\n")
	for i := range 3 {
		e.gh.AddIssue("acme/app", "alice", fmt.Sprintf("filler %d", i), "nothing here")
	}
	e.gh.CloseIssue("acme/app", 2)
	pull := e.gh.AddPull("acme/app", "bob", "add CI", "export GH_TOKEN="+tokPull)
	for i := range 2 {
		e.gh.AddIssueComment("acme/app", issue.Number, "alice", fmt.Sprintf("filler comment %d", i))
	}
	// A hostile comment: terminal escapes beside the secret.
	comment := e.gh.AddIssueComment("acme/app", issue.Number, "eve", "thanks\n\n\x1b]0;owned\x07 try "+tokComment+" \x1b[2J")
	diff := e.gh.AddReviewComment("acme/app", pull.Number, "carol", "why is `"+tokDiff+"` here?")
	review := e.gh.AddReview("acme/app", pull.Number, "dave", "LGTM\nbut rotate "+tokReview)
	e.gh.AddIssueComment("acme/app", issue.Number, "bigmouth", strings.Repeat("x", 1<<20)+tokEdited)

	start := len(e.gh.RequestURIs())
	code, fs, errOut := e.sweep("--org", "acme", "--issues")
	if code != exitFindings {
		t.Fatalf("first sweep: exit %d\n%s", code, errOut)
	}
	date := func(it ghtest.Item) string { return it.Created.UTC().Format(time.RFC3339) }
	want := []discussion{
		{finding.SourceIssue, "issues/1", issue.URL, "mallory", date(issue), "", 2},
		{finding.SourceIssueComment, fmt.Sprintf("issues/1#issuecomment-%d", comment.ID), comment.URL, "eve", date(comment), "", 3},
		{finding.SourceIssue, "pull/5", pull.URL, "bob", date(pull), "", 1},
		{finding.SourcePRReviewComment, fmt.Sprintf("pull/5#discussion_r%d", diff.ID), diff.URL, "carol", date(diff), "", 1},
		{finding.SourcePRReview, fmt.Sprintf("pull/5#pullrequestreview-%d", review.ID), review.URL, "dave", date(review), "", 2},
	}
	if diff := cmp.Diff(want, discussions(fs)); diff != "" {
		t.Errorf("first sweep (-want +got):\n%s\nstderr:\n%s", diff, errOut)
	}
	if !strings.Contains(comment.URL, "/acme/app/issues/1#issuecomment-") || !strings.Contains(review.URL, "#pullrequestreview-") {
		t.Errorf("stand-in addresses: %s %s", comment.URL, review.URL)
	}
	for _, f := range fs {
		if f.Repository != "acme/app" || f.RuleID != "github-token" || f.Fingerprint == "" {
			t.Errorf("finding: %+v", f)
		}
	}
	if !strings.Contains(errOut, "acme/quiet: ") || !strings.Contains(errOut, "nothing to scan in issues (HTTP 404), issue comments (HTTP 404)") || !strings.Contains(errOut, "0 failed") {
		t.Errorf("a repository without issues:\n%s", errOut)
	}
	if !strings.Contains(errOut, "1 text over 1.0 MiB skipped") {
		t.Errorf("a text over the bound is not counted:\n%s", errOut)
	}
	if strings.ContainsAny(errOut, "\x1b\x07") {
		t.Errorf("stderr holds a comment's control characters: %q", errOut)
	}
	first := apiRequests(e.gh, start, "acme/app")
	t.Logf("first sweep, acme/app: %d API requests: %v", len(first), withoutQuery(first))

	// Nothing new: only the listings, one page each, since the cursors.
	start = len(e.gh.RequestURIs())
	code, fs, errOut = e.sweep("--org", "acme", "--issues", "--new-only")
	if code != exitClean || len(fs) != 0 {
		t.Errorf("second sweep: exit %d %v\n%s", code, where(fs), errOut)
	}
	second := apiRequests(e.gh, start, "acme/app")
	wantPaths := []string{"GET /api/v3/repos/acme/app/issues", "GET /api/v3/repos/acme/app/issues/comments", "GET /api/v3/repos/acme/app/pulls/comments"}
	if diff := cmp.Diff(wantPaths, withoutQuery(second)); diff != "" {
		t.Errorf("second sweep's requests (-want +got):\n%s\n%v", diff, second)
	}
	for _, r := range second {
		if !strings.Contains(r, "since=") || strings.Contains(r, "page=2") {
			t.Errorf("second sweep asked %s", r)
		}
	}
	if !strings.Contains(errOut, "acme/app: unchanged since the last sweep") {
		t.Errorf("second sweep scanned something:\n%s", errOut)
	}
	t.Logf("second sweep, acme/app: %d API requests: %v", len(second), second)
	code, fs, _ = e.sweep("--org", "acme", "--all-sources")
	if code != exitFindings || len(discussions(fs)) != 5 {
		t.Errorf("known findings without --new-only: exit %d %v", code, where(fs))
	}

	// An edited comment is scanned again as it reads now.
	e.gh.EditComment("acme/app", comment.ID, "sorry, I meant "+tokEdited)
	code, fs, errOut = e.sweep("--org", "acme", "--all-sources", "--new-only")
	got := discussions(fs)
	if code != exitFindings || len(got) != 1 || got[0].Path != want[1].Path || got[0].Line != 1 || fs[0].Secret == tokEdited {
		t.Errorf("edited comment: exit %d %+v\n%s", code, got, errOut)
	}

	// No secret in clear: not in the output, not in the state.
	for _, tok := range discussionTokens {
		for _, f := range fs {
			if f.Secret == tok || f.Snippet != nil && strings.Contains(f.Snippet.Before+f.Snippet.Match+f.Snippet.After, tok) {
				t.Errorf("a secret in clear: %+v", f)
			}
		}
		if strings.Contains(errOut, tok) {
			t.Error("a secret on stderr")
		}
	}
	_ = filepath.WalkDir(e.cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".db") {
			data, _ := os.ReadFile(p)
			for _, tok := range discussionTokens {
				if bytes.Contains(data, []byte(tok)) {
					t.Errorf("%s holds a secret in clear", p)
				}
			}
		}
		return nil
	})
}

func TestGitHubSweepIssuesText(t *testing.T) {
	t.Parallel()
	e := newSweepEnv(t)
	push(t, e.gh.AddRepo("acme/app", ghtest.Repo{}), "init", map[string]string{"README.md": "# app\n"})
	e.gh.AddIssue("acme/app", "mallory", "x", "\x1b[31mred\x1b[0m "+tokIssue)
	var out, errOut bytes.Buffer
	s := testStreams(strings.NewReader(""), &out, &errOut)
	code := execute(t.Context(), []string{"github", "--api-url", e.gh.APIURL(), "--token-file", e.tokenFile, "--cache-dir", e.cache, "--issues", "--org", "acme"}, s)
	if code != exitFindings {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "issues/1") || strings.Contains(out.String(), tokIssue) || strings.ContainsRune(out.String(), '\x1b') {
		t.Errorf("text output:\n%q", out.String())
	}
}
