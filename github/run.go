package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/audit"
	"github.com/keysweep/keysweep/report"
)

// Options say what an organization sweep covers and where it delivers.
type Options struct {
	// Org is the organization (or user) swept; Repos, when Org is empty,
	// names the repositories (owner/name) instead.
	Org   string
	Repos []string
	// Filter selects among the organization's repositories.
	Filter Filter
	// Shard is the part of the repositories this sweep takes.
	Shard Shard
	// Hosts says where the token may go; Tokens authenticates (nil: none).
	Hosts  *Hosts
	Tokens TokenSource
	// CacheDir holds the mirrors; StatePath the state database ("" puts
	// it in CacheDir, one file per shard).
	CacheDir, StatePath string
	// PullRefs also fetches refs/pull/*; Full rescans from scratch
	// (every source read again from its start).
	PullRefs, Full bool
	// Sources are read beside git history (--issues), each listing up to
	// SourcePages pages of 100 per repository and sweep (0:
	// DefaultSourcePages).
	Sources     Sources
	SourcePages int
	// Wikis, ActionsLogs and ActionsDays are the Sweep's.
	Wikis, ActionsLogs bool
	ActionsDays        int
	// Gists also sweeps the public gists of the organization's members,
	// or of GistUsers when set, each like a repository (gist:USER/ID).
	Gists     bool
	GistUsers []string
	// Concurrency is how many repositories are swept at once; Workers how
	// many blobs are scanned at once across all of them (0: one per core).
	Concurrency, Workers int
	MaxBlobSize          int64
	// Setup is the operator's configuration: a swept repository cannot
	// silence the sweep.
	Setup *config.Setup
	// TrustInline honours keysweep:allow markers of the swept
	// repositories, recording each secret they hide in AuditLog ("" is
	// audit.DefaultPath); by default their secrets are reported.
	TrustInline bool
	AuditLog    string
	// Verifier, if set, verifies new findings.
	Verifier Verifier
	// ReverifyAfter is how old a known finding's verification may be
	// before a sweep verifies it again (0: never); Now is the clock.
	ReverifyAfter time.Duration
	Now           func() time.Time
	// Results, if set, are the verification results reported
	// (--results); the exit code follows what is reported.
	Results map[string]bool
	// NewOnly reports only the findings this sweep found first; NoRedact
	// shows their secrets (the state never holds one).
	NewOnly, NoRedact bool
	// Report writes the sweep's findings; Webhook, if set, receives the
	// new ones (Slack-compatible).
	Report  Reporter
	Webhook string
	// Log receives a line per repository and the sweep's summary;
	// Progress, if set, is told which repository is being swept.
	Log      io.Writer
	Progress Progress
	// Sleep waits out rate limits and webhook retries; nil waits in real
	// time.
	Sleep Sleeper
}

// Verifier verifies findings in place. It is called from several
// repositories' goroutines, one batch at a time each.
type Verifier interface {
	Process(ctx context.Context, fs []finding.Finding)
}

// Reporter writes a sweep's findings.
type Reporter interface {
	Report(fs []finding.Finding) error
}

// Progress is told, as each repository starts, how many are done of how
// many, and which one starts; repo is "" when all are done.
type Progress interface {
	Sweeping(done, total int, repo string)
}

// statePath is the state database: the one named, else one per shard in
// the cache.
func statePath(cacheDir, named string, shard Shard) string {
	switch {
	case named != "":
		return named
	case shard.N > 1:
		return filepath.Join(cacheDir, fmt.Sprintf("state-%d-of-%d.db", shard.K, shard.N))
	}
	return filepath.Join(cacheDir, "state.db")
}

// AWSStatePath is where the sweep remembers the warnings it gave the
// owners of live AWS keys, and its verifications of them: beside its
// state database, one per shard.
func AWSStatePath(cacheDir, named string, shard Shard) string {
	return strings.TrimSuffix(statePath(cacheDir, named, shard), ".db") + ".aws-keys.json"
}

// Run sweeps the repositories opts names and delivers what it found: the
// report, then the webhook; only then are the new findings marked
// delivered. It returns finding.ErrFindings when the report holds
// findings, an error wrapping finding.ErrInterrupted when ctx was done
// before every repository was swept, and another error when a repository
// failed or an output did (what completed is reported and saved).
func Run(ctx context.Context, opts Options) error {
	statePath := statePath(opts.CacheDir, opts.StatePath, opts.Shard)
	markers := &markers{trust: opts.TrustInline, setup: opts.Setup}
	if opts.TrustInline {
		log, err := audit.Open(opts.AuditLog)
		if err != nil {
			return err
		}
		defer log.Close()
		markers.log = log
	}
	state, err := OpenState(statePath)
	if err != nil {
		return err
	}
	defer state.Close()
	client, err := NewClient(opts.Hosts, nil, opts.Tokens, opts.Log)
	if err != nil {
		return err
	}
	client.Sleep = opts.Sleep

	repos, listed, err := list(ctx, client, opts)
	if err != nil {
		return err
	}
	if opts.Gists {
		if opts.Org == "" && len(opts.GistUsers) == 0 {
			return errors.New("--gists needs --org (its members' gists) or --gist-users")
		}
		gists, err := client.Gists(ctx, opts.Org, opts.GistUsers)
		if err != nil {
			return err
		}
		for _, g := range gists {
			if opts.Shard.Has(g.FullName) {
				repos = append(repos, g)
			}
		}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	sw := &Sweep{
		Mirror:      &Mirror{Dir: opts.CacheDir, PullRefs: opts.PullRefs, Tokens: opts.Tokens, Hosts: opts.Hosts},
		State:       state,
		Concurrency: opts.Concurrency,
		Full:        opts.Full,
		NoRedact:    opts.NoRedact,
		Detector:    opts.Setup.Engine,
		PerRepo:     max(1, workers/max(1, opts.Concurrency)),
		MaxBlobSize: opts.MaxBlobSize,
		Filter:      markers,
		Verifier:    opts.Verifier, ReverifyAfter: opts.ReverifyAfter, Now: opts.Now,
		Log:      opts.Log,
		Progress: opts.Progress,
		Sources:  opts.Sources, Client: client, SourcePages: opts.SourcePages,
		Wikis: opts.Wikis, ActionsLogs: opts.ActionsLogs, ActionsDays: opts.ActionsDays,
	}
	if listed != nil {
		gone, err := sw.Prune(opts.Org, listed, opts.Shard)
		for _, name := range gone {
			fmt.Fprintf(opts.Log, "keysweep: %s is no longer in %s: its mirror and state are removed\n", report.Escape(name), report.Escape(opts.Org))
		}
		if err != nil {
			return fmt.Errorf("forget deleted repositories: %w", err)
		}
	}
	fmt.Fprintf(opts.Log, "keysweep: sweeping %s (shard %s), state %s\n", report.Count(int64(len(repos)), "repository", "repositories"), opts.Shard, statePath)
	start := time.Now()
	outcomes := sw.Run(ctx, repos)
	return deliver(ctx, opts, state, outcomes, time.Since(start))
}

// deliver reports a sweep's outcomes, posts the new findings to the
// webhook, and only then marks them delivered in the state.
func deliver(ctx context.Context, opts Options, state *State, outcomes []Outcome, took time.Duration) error {
	var out, delivered []finding.Finding
	var failed []string
	newCount, unchanged := 0, 0
	for _, oc := range outcomes {
		if oc.Err != nil {
			failed = append(failed, oc.Repo.FullName)
			continue
		}
		if oc.Unchanged {
			unchanged++
		}
		newCount += len(oc.New)
		if opts.NewOnly {
			out = append(out, oc.Changed...) // a key no longer live is news
		} else {
			out = append(out, oc.Known...)
		}
		out = append(out, oc.New...)
		delivered = append(delivered, oc.New...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Repository < out[j].Repository })
	out = finding.KeepResults(out, opts.Results)
	if err := opts.Report.Report(out); err != nil {
		return fmt.Errorf("%w (the next sweep delivers its new findings again)", err)
	}
	repos := report.Count(int64(len(outcomes)), "repository", "repositories")
	fmt.Fprintf(opts.Log, "keysweep: swept %s in %s (%d unchanged, %d failed): %s, %d reported\n",
		repos, took.Round(time.Millisecond), unchanged, len(failed), report.Count(int64(newCount), "new finding"), len(out))
	report.WriteSuppressed(opts.Log, opts.Setup.Suppressed(), 0)

	notifyErr := notify(ctx, opts, outcomes)
	// The new findings stay pending in the state until the report and
	// the webhook both have them: a sweep killed before this point, or
	// whose webhook failed, leaves them for the next sweep to deliver
	// again. At least once: a crash between the two may repeat them.
	var deliveredErr error
	if notifyErr == nil {
		deliveredErr = state.Delivered(delivered)
	} else {
		notifyErr = fmt.Errorf("%w (the next sweep posts its new findings again)", notifyErr)
	}
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("sweep %w: %d of %d repositories not completed; run it again to resume", finding.ErrInterrupted, len(failed), len(outcomes))
	case len(failed) > 0:
		return fmt.Errorf("sweep incomplete: %d of %d repositories failed (%s); the others are reported and saved", len(failed), len(outcomes), strings.Join(first(failed, 5), ", "))
	case notifyErr != nil:
		return notifyErr
	case deliveredErr != nil:
		return deliveredErr
	case len(out) > 0:
		return finding.ErrFindings
	}
	return nil
}

// DefaultCacheDir is where mirrors and state go when no directory is
// named: $XDG_CACHE_HOME/keysweep/github, else ~/.cache/keysweep/github.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "keysweep", "github"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.New("no home directory for the cache: give --cache-dir DIR")
	}
	return filepath.Join(home, ".cache", "keysweep", "github"), nil
}

// list returns the repositories to sweep, filtered and sharded, and the
// organization's whole listing (nil when repositories are named).
func list(ctx context.Context, client *Client, opts Options) (repos []Repo, listed map[string]bool, err error) {
	var all []Repo
	if opts.Org != "" {
		if all, err = client.OrgRepos(ctx, opts.Org); err != nil {
			return nil, nil, err
		}
		listed = make(map[string]bool, len(all))
		for _, r := range all {
			listed[strings.ToLower(r.FullName)] = true
		}
	} else {
		for _, name := range opts.Repos {
			r, err := client.Repo(ctx, name)
			if err != nil {
				return nil, nil, err
			}
			all = append(all, r)
		}
	}
	seen := make(map[string]bool, len(all))
	for _, r := range all {
		// Once each: a repository named twice, or one that moved between
		// pages of the listing.
		key := strings.ToLower(r.FullName)
		if !seen[key] && opts.Shard.Has(r.FullName) && (opts.Org == "" || opts.Filter.Match(r)) {
			seen[key] = true
			repos = append(repos, r)
		}
	}
	return repos, listed, nil
}

// notify posts this sweep's new findings to the webhook, if one is set.
func notify(ctx context.Context, opts Options, outcomes []Outcome) error {
	if opts.Webhook == "" {
		return nil
	}
	n := &Notifier{URL: opts.Webhook, Attempts: 4, Backoff: time.Second, MaxLines: 30, Sleep: opts.Sleep}
	scope := opts.Org
	if scope == "" {
		scope = strings.Join(opts.Repos, ", ")
	}
	text, count := n.Message(scope, outcomes)
	if count == 0 {
		return nil
	}
	return n.Post(context.WithoutCancel(ctx), text)
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}
