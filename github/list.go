package github

import (
	webhook "github.com/keysweep/keysweep/notify"

	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	gh "github.com/google/go-github/v84/github"
)

// Repo is a repository to sweep.
type Repo struct {
	FullName   string // owner/name
	CloneURL   string
	HTMLURL    string
	Fork       bool
	Archived   bool
	Visibility string // public, private or internal
	// DefaultBranch is the branch HEAD names (main, master, ...).
	DefaultBranch string
}

// Client lists repositories, waiting out rate limits.
type Client struct {
	gh *gh.Client
	// Log receives a line for each rate-limit wait.
	Log io.Writer
	// MaxWait bounds a single rate-limit wait; longer ones fail the call.
	MaxWait time.Duration
	// Sleep waits out a rate limit; nil waits in real time.
	Sleep Sleeper
}

// NewClient returns a client of the REST API of hosts, authenticated by
// tokens (nil for none).
func NewClient(hosts *Hosts, hc *http.Client, tokens TokenSource, log io.Writer) (*Client, error) {
	c, err := newClient(hosts, hc, tokens)
	if err != nil {
		return nil, err
	}
	return &Client{gh: c, Log: log, MaxWait: time.Hour}, nil
}

// OrgRepos lists every repository of org, all pages.
func (c *Client) OrgRepos(ctx context.Context, org string) ([]Repo, error) {
	opts := &gh.RepositoryListByOrgOptions{Type: "all", Sort: "full_name", ListOptions: gh.ListOptions{PerPage: 100}}
	var repos []Repo
	for {
		var page []*gh.Repository
		var resp *gh.Response
		err := c.retry(ctx, func() error {
			var err error
			page, resp, err = c.gh.Repositories.ListByOrg(ctx, org, opts)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list the repositories of %s: %w", org, err)
		}
		for _, r := range page {
			repos = append(repos, toRepo(r))
		}
		if resp.NextPage == 0 {
			return repos, nil
		}
		opts.Page = resp.NextPage
	}
}

// Repo looks up one repository by owner/name.
func (c *Client) Repo(ctx context.Context, fullName string) (Repo, error) {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return Repo{}, fmt.Errorf("repository %q: want OWNER/NAME", fullName)
	}
	var r *gh.Repository
	err := c.retry(ctx, func() error {
		var err error
		r, _, err = c.gh.Repositories.Get(ctx, owner, name)
		return err
	})
	if err != nil {
		return Repo{}, fmt.Errorf("look up %s: %w", fullName, err)
	}
	return toRepo(r), nil
}

func toRepo(r *gh.Repository) Repo {
	vis := r.GetVisibility()
	if vis == "" {
		vis = "public"
		if r.GetPrivate() {
			vis = "private"
		}
	}
	return Repo{
		FullName: r.GetFullName(), CloneURL: r.GetCloneURL(), HTMLURL: r.GetHTMLURL(),
		Fork: r.GetFork(), Archived: r.GetArchived(), Visibility: vis, DefaultBranch: r.GetDefaultBranch(),
	}
}

// retry calls fn until it succeeds or fails for another reason than a rate
// limit, waiting as GitHub asks: until the primary limit resets, or for
// the secondary limit's Retry-After (a minute when it gives none, then
// doubling).
func (c *Client) retry(ctx context.Context, fn func() error) error {
	backoff := time.Minute
	for attempt := 0; ; attempt++ {
		err := fn()
		var wait time.Duration
		var what string
		var primary *gh.RateLimitError
		var secondary *gh.AbuseRateLimitError
		switch {
		case errors.As(err, &primary):
			wait = time.Until(primary.Rate.Reset.Time) + time.Second
			what = fmt.Sprintf("primary rate limit (%d requests an hour) reached; it resets at %s", primary.Rate.Limit, primary.Rate.Reset.Time.Format(time.TimeOnly))
		case errors.As(err, &secondary):
			wait = secondary.GetRetryAfter()
			if wait <= 0 {
				wait, backoff = backoff, backoff*2
			}
			what = "secondary rate limit reached"
		default:
			return err
		}
		if attempt >= 10 {
			return fmt.Errorf("still rate limited after %d waits: %w", attempt, err)
		}
		wait = max(wait, time.Second)
		if wait > c.MaxWait {
			return fmt.Errorf("%s, and waiting %s is more than allowed: %w", what, wait.Round(time.Second), err)
		}
		if c.Log != nil {
			fmt.Fprintf(c.Log, "keysweep: GitHub %s: waiting %s\n", what, wait.Round(time.Second))
		}
		if err := c.Sleep.Wait(ctx, wait); err != nil {
			return err
		}
	}
}

// Sleeper waits d, or until ctx is done; nil waits in real time. Tests
// give one that records the wait and returns at once.
type Sleeper = webhook.Sleeper

// Filter says which repositories a sweep covers.
type Filter struct {
	IncludeForks    bool
	IncludeArchived bool
	// Visibility is public, private, internal or all ("" means all).
	Visibility string
	// Include and Exclude are globs on owner/name (path.Match syntax,
	// case-insensitive); with Include set, only matching repositories are
	// swept.
	Include, Exclude []string
}

// Validate checks the globs and the visibility.
func (f Filter) Validate() error {
	switch f.Visibility {
	case "", "all", "public", "private", "internal":
	default:
		return fmt.Errorf("invalid visibility %q (want public, private, internal or all)", f.Visibility)
	}
	for _, g := range append(append([]string(nil), f.Include...), f.Exclude...) {
		if _, err := path.Match(strings.ToLower(g), ""); err != nil {
			return fmt.Errorf("invalid glob %q: %w", g, err)
		}
	}
	return nil
}

// Match reports whether the filter keeps r.
func (f Filter) Match(r Repo) bool {
	if r.Fork && !f.IncludeForks || r.Archived && !f.IncludeArchived {
		return false
	}
	if f.Visibility != "" && f.Visibility != "all" && f.Visibility != r.Visibility {
		return false
	}
	name := strings.ToLower(r.FullName)
	glob := func(gs []string) bool {
		for _, g := range gs {
			if ok, _ := path.Match(strings.ToLower(g), name); ok {
				return true
			}
		}
		return false
	}
	if len(f.Include) > 0 && !glob(f.Include) {
		return false
	}
	return !glob(f.Exclude)
}

// Shard is one of N parts of an organization's repositories.
type Shard struct{ K, N int }

// ParseShard reads "K/N" (K from 0 to N-1, as a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX counts).
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.K, &sh.N); err != nil || fmt.Sprintf("%d/%d", sh.K, sh.N) != s || sh.N < 1 || sh.K < 0 || sh.K >= sh.N {
		return Shard{}, fmt.Errorf("invalid shard %q (want K/N with 0 <= K < N, like 0/4)", s)
	}
	return sh, nil
}

// Has reports whether the repository named fullName falls in the shard:
// a stable hash of its lower-cased name, so every machine agrees without
// talking to the others, and a repository stays in its shard.
func (s Shard) Has(fullName string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(fullName)))
	return int(h.Sum32()%uint32(s.N)) == s.K
}

// String is the shard as --shard takes it: K/N.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }
