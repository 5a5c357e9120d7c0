package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v84/github"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/scanner"
)

// Sources say which sources beside git history a sweep reads. Each is
// read through the API, incrementally: the state keeps a cursor per
// repository and source (State.Cursor), recorded only once what was read
// is scanned and its findings saved.
type Sources struct {
	// Issues reads the discussions of each repository: issues' and pull
	// requests' bodies, their comments, the comments on pull requests'
	// diffs, and pull request reviews' bodies.
	Issues bool
}

// Any reports whether a source beside git is read.
func (s Sources) Any() bool { return s.Issues }

const (
	// MaxTextSize bounds a text of a source beside git (an issue's body,
	// a comment): anyone may write one on a public repository. A larger
	// one is skipped and counted (GitHub itself keeps them under 64 Ki
	// characters).
	MaxTextSize = 1 << 20
	// DefaultSourcePages is how many pages (of 100) of each listing a
	// sweep reads per repository when Sweep.SourcePages is 0; a listing
	// cut there goes on at the next sweep.
	DefaultSourcePages = 100
	// maxReviewedPulls bounds the pull requests whose reviews one sweep
	// lists per repository: the next sweep goes on from the last one.
	maxReviewedPulls = 100
	// maxReviewPages bounds the pages of one pull request's reviews.
	maxReviewPages = 10
	sourcePerPage  = 100
)

// SourceStats count what a repository's sources beside git gave.
type SourceStats struct {
	// Texts and Bytes count the texts scanned; SkippedLarge those over
	// MaxTextSize, not scanned.
	Texts, Bytes, SkippedLarge int64
	// Unavailable names the listings that answered 403, 404 or 410
	// (issues disabled, no access): nothing was scanned there, and the
	// repository did not fail.
	Unavailable []string
	// Capped names the listings cut short (the page cap, or the pull
	// requests whose reviews are listed): the next sweep goes on from
	// where this one stopped.
	Capped []string
}

// text is one text of a source beside git, with what its findings say of
// it.
type text struct {
	source string // finding.SourceIssue, ...
	// key names it in the repository, as its address does below the
	// repository's page ("issues/12#issuecomment-345"): the Path of its
	// findings, so that the state knows each by repository, fingerprint
	// and item.
	key, url, author string
	created          time.Time
	body             string
}

// sourceScan is what a repository's sources beside git gave: findings
// with raw secrets, and the cursors to record once they are saved.
type sourceScan struct {
	findings []finding.Finding
	cursors  map[string]string // source -> cursor
	stats    SourceStats
}

// scanSources reads and scans the sources beside git that s.Sources
// names, for repo, beyond the cursors of the state (all of it with Full).
func (s *Sweep) scanSources(ctx context.Context, repo Repo) (*sourceScan, error) {
	out := &sourceScan{cursors: map[string]string{}}
	if !s.Sources.Issues {
		return out, nil
	}
	if s.Client == nil || s.Detector == nil {
		return nil, errors.New("issues: the sweep has no API client or no detector")
	}
	owner, name, _ := strings.Cut(repo.FullName, "/")
	r := &issueReader{s: s, repo: repo.FullName, owner: owner, name: name, out: out, maxPages: s.SourcePages}
	if r.maxPages <= 0 {
		r.maxPages = DefaultSourcePages
	}
	if err := r.read(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// issueReader reads one repository's discussions.
type issueReader struct {
	s                 *Sweep
	repo, owner, name string
	out               *sourceScan
	maxPages          int
}

// window is what one listing reads of a source: the items updated after
// since (all of them when since is zero), and the newest update seen.
type window struct {
	source        string
	since, newest time.Time
	// limit is a second before the listing's first answer (its Date):
	// GitHub's times have seconds, so an item updated in the second the
	// listing ran may come after it with the same updated_at, and the
	// cursor is never recorded past it.
	limit time.Time
}

func (w *window) wants(t time.Time) bool { return w.since.IsZero() || t.After(w.since) }

func (w *window) saw(t time.Time) {
	if t.After(w.newest) {
		w.newest = t
	}
}

// cursor is what the state records: "" when nothing newer was seen.
func (w *window) cursor() string {
	c := w.newest
	if !w.limit.IsZero() && c.After(w.limit) {
		c = w.limit
	}
	if c.IsZero() || !w.wants(c) {
		return ""
	}
	return c.UTC().Format(time.RFC3339)
}

func (r *issueReader) window(source string) (*window, error) {
	w := &window{source: source}
	if r.s.Full {
		return w, nil
	}
	c, err := r.s.State.Cursor(r.repo, source)
	if err != nil {
		return nil, err
	}
	if t, err := time.Parse(time.RFC3339, c); err == nil {
		w.since = t // an unreadable cursor reads the source again from its start
	}
	return w, nil
}

func (r *issueReader) read(ctx context.Context) error {
	issues, err := r.window(finding.SourceIssue)
	if err != nil {
		return err
	}
	reviews, err := r.window(finding.SourcePRReview)
	if err != nil {
		return err
	}
	comments, err := r.window(finding.SourceIssueComment)
	if err != nil {
		return err
	}
	diffComments, err := r.window(finding.SourcePRReviewComment)
	if err != nil {
		return err
	}

	// One listing of issues serves two sources: their bodies, and the
	// pull requests whose reviews are to be listed (a review updates its
	// pull request).
	type listed struct {
		number  int
		pull    bool
		updated time.Time
	}
	var all []listed
	since := issues.since
	if reviews.since.Before(since) {
		since = reviews.since
	}
	opts := &gh.IssueListByRepoOptions{State: "all", Sort: "updated", Direction: "asc", Since: since}
	ok, err := r.pages(ctx, "issues", issues, r.maxPages, func(lo gh.ListOptions) (*gh.Response, error) {
		opts.ListOptions = lo
		page, resp, err := r.s.Client.gh.Issues.ListByRepo(ctx, r.owner, r.name, opts)
		if err != nil {
			return resp, err
		}
		for _, it := range page {
			updated := it.GetUpdatedAt().Time
			n := it.GetNumber()
			if issues.wants(updated) {
				t := text{source: finding.SourceIssue, key: "issues/" + strconv.Itoa(n), url: it.GetHTMLURL(), author: it.GetUser().GetLogin(), created: it.GetCreatedAt().Time, body: it.GetBody()}
				if it.IsPullRequest() {
					t.key = "pull/" + strconv.Itoa(n)
				}
				if err := r.scan(ctx, t); err != nil {
					return resp, err
				}
				issues.saw(updated)
			}
			if reviews.wants(updated) {
				all = append(all, listed{n, it.IsPullRequest(), updated})
			}
		}
		return resp, nil
	})
	if err != nil {
		return err
	}
	if ok {
		// The reviews' cursor follows the listing up to the last pull
		// request whose reviews were listed.
		reviews.limit = issues.limit
		n := 0
		for _, it := range all {
			if it.pull {
				if n == maxReviewedPulls {
					r.out.stats.Capped = append(r.out.stats.Capped, fmt.Sprintf("reviews (%d pull requests)", maxReviewedPulls))
					break
				}
				n++
				if err := r.reviews(ctx, it.number); err != nil {
					return err
				}
			}
			reviews.saw(it.updated)
		}
		r.record(issues)
		r.record(reviews)
	}

	copts := &gh.IssueListCommentsOptions{Sort: gh.Ptr("updated"), Direction: gh.Ptr("asc")}
	if !comments.since.IsZero() {
		copts.Since = gh.Ptr(comments.since)
	}
	ok, err = r.pages(ctx, "issue comments", comments, r.maxPages, func(lo gh.ListOptions) (*gh.Response, error) {
		copts.ListOptions = lo
		page, resp, err := r.s.Client.gh.Issues.ListComments(ctx, r.owner, r.name, 0, copts)
		if err != nil {
			return resp, err
		}
		for _, c := range page {
			updated := c.GetUpdatedAt().Time
			if !comments.wants(updated) {
				continue
			}
			key := "issues/" + lastNumber(c.GetIssueURL()) + "#issuecomment-" + strconv.FormatInt(c.GetID(), 10)
			t := text{source: finding.SourceIssueComment, key: key, url: c.GetHTMLURL(), author: c.GetUser().GetLogin(), created: c.GetCreatedAt().Time, body: c.GetBody()}
			if err := r.scan(ctx, t); err != nil {
				return resp, err
			}
			comments.saw(updated)
		}
		return resp, nil
	})
	if err != nil {
		return err
	}
	if ok {
		r.record(comments)
	}

	popts := &gh.PullRequestListCommentsOptions{Sort: "updated", Direction: "asc", Since: diffComments.since}
	ok, err = r.pages(ctx, "pull request review comments", diffComments, r.maxPages, func(lo gh.ListOptions) (*gh.Response, error) {
		popts.ListOptions = lo
		page, resp, err := r.s.Client.gh.PullRequests.ListComments(ctx, r.owner, r.name, 0, popts)
		if err != nil {
			return resp, err
		}
		for _, c := range page {
			updated := c.GetUpdatedAt().Time
			if !diffComments.wants(updated) {
				continue
			}
			key := "pull/" + lastNumber(c.GetPullRequestURL()) + "#discussion_r" + strconv.FormatInt(c.GetID(), 10)
			t := text{source: finding.SourcePRReviewComment, key: key, url: c.GetHTMLURL(), author: c.GetUser().GetLogin(), created: c.GetCreatedAt().Time, body: c.GetBody()}
			if err := r.scan(ctx, t); err != nil {
				return resp, err
			}
			diffComments.saw(updated)
		}
		return resp, nil
	})
	if err != nil {
		return err
	}
	if ok {
		r.record(diffComments)
	}
	return nil
}

// reviews scans the bodies of every review of pull request number. A
// review carries no updated_at: each is scanned whenever its pull request
// was updated, and the state knows the findings already made.
func (r *issueReader) reviews(ctx context.Context, number int) error {
	what := fmt.Sprintf("reviews of pull request %d", number)
	_, err := r.pages(ctx, what, nil, min(r.maxPages, maxReviewPages), func(lo gh.ListOptions) (*gh.Response, error) {
		page, resp, err := r.s.Client.gh.PullRequests.ListReviews(ctx, r.owner, r.name, number, &lo)
		if err != nil {
			return resp, err
		}
		for _, rv := range page {
			key := "pull/" + strconv.Itoa(number) + "#pullrequestreview-" + strconv.FormatInt(rv.GetID(), 10)
			t := text{source: finding.SourcePRReview, key: key, url: rv.GetHTMLURL(), author: rv.GetUser().GetLogin(), created: rv.GetSubmittedAt().Time, body: rv.GetBody()}
			if err := r.scan(ctx, t); err != nil {
				return resp, err
			}
		}
		return resp, nil
	})
	return err
}

// record keeps w's cursor, to be saved with the findings.
func (r *issueReader) record(w *window) {
	if c := w.cursor(); c != "" {
		r.out.cursors[w.source] = c
	}
}

// pages calls list for each page of a listing, up to maxPages,
// waiting out rate limits as every API call of the sweep does. It reports
// false when the listing answered 403, 404 or 410: nothing to scan there
// (issues disabled, no access), noted in the stats. The first answer's
// Date bounds w's cursor, if w is set.
func (r *issueReader) pages(ctx context.Context, what string, w *window, maxPages int, list func(gh.ListOptions) (*gh.Response, error)) (bool, error) {
	lo := gh.ListOptions{PerPage: sourcePerPage}
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		var resp *gh.Response
		err := r.s.Client.retry(ctx, func() error {
			var err error
			resp, err = list(lo)
			return err
		})
		if status, ok := unavailable(err); ok {
			r.out.stats.Unavailable = append(r.out.stats.Unavailable, fmt.Sprintf("%s (HTTP %d)", what, status))
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("list %s: %w", what, err)
		}
		if n == 1 && w != nil {
			if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
				w.limit = d.Add(-time.Second)
			}
		}
		if resp.NextPage == 0 || resp.NextPage <= lo.Page {
			return true, nil
		}
		if n >= maxPages {
			r.out.stats.Capped = append(r.out.stats.Capped, fmt.Sprintf("%s (%d pages)", what, maxPages))
			return true, nil
		}
		lo.Page = resp.NextPage
	}
}

// unavailable reports whether err is an answer that means nothing to read
// there: 403 (no access; not a rate limit, which retry waited out), 404
// (issues disabled, or not visible) or 410 (disabled).
func unavailable(err error) (int, bool) {
	var e *gh.ErrorResponse
	if err == nil || !errors.As(err, &e) || e.Response == nil {
		return 0, false
	}
	var primary *gh.RateLimitError
	var secondary *gh.AbuseRateLimitError
	if errors.As(err, &primary) || errors.As(err, &secondary) {
		return 0, false
	}
	switch s := e.Response.StatusCode; s {
	case http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		return s, true
	}
	return 0, false
}

// scan scans one text, bounded in size, and keeps its findings, located
// in it. A keysweep:allow marker in it honours nothing, even with
// --trust-inline-markers: anyone may comment.
func (r *issueReader) scan(ctx context.Context, t text) error {
	if t.body == "" {
		return nil
	}
	if len(t.body) > MaxTextSize {
		r.out.stats.SkippedLarge++
		return nil
	}
	res, err := scanner.Reader(ctx, t.key, strings.NewReader(t.body), r.s.Detector, scanner.Options{MaxBlobSize: MaxTextSize, KeepMarked: true, ScanBinary: true})
	if err != nil {
		return fmt.Errorf("scan %s: %w", t.key, err)
	}
	r.out.stats.Texts++
	r.out.stats.Bytes += int64(len(t.body))
	date := ""
	if !t.created.IsZero() {
		date = t.created.UTC().Format(time.RFC3339)
	}
	for _, f := range res.Findings {
		f.Source, f.Path, f.URL, f.Author, f.Date = t.source, t.key, webURL(t.url), t.author, date
		f.Commit, f.Blob, f.Email, f.Marked = "", "", "", false
		f.Repository = r.repo
		r.out.findings = append(r.out.findings, f)
	}
	return nil
}

// lastNumber is the number that ends an API address (".../issues/12"),
// or "0".
func lastNumber(u string) string {
	if n, err := strconv.Atoi(path.Base(u)); err == nil && n > 0 {
		return strconv.Itoa(n)
	}
	return "0"
}

// webURL is u when it is an absolute http(s) address, else "".
func webURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || strings.ContainsAny(u, " \t\r\n") {
		return ""
	}
	return u
}
