package main

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
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/github"
	"github.com/keysweep/keysweep/internal/audit"
	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/scanner"
)

// githubOptions are the flags of the organization sweep.
type githubOptions struct {
	outputOptions
	cfg         configOptions
	aws         awsOptions
	org         string
	repos       []string
	filter      github.Filter
	apiURL      string
	gitHosts    []string
	insecureAPI bool
	tokenFile   string
	appID       int64
	appKey      string
	cacheDir    string
	state       string
	pullRefs    bool
	full        bool
	newOnly     bool
	concurrency int
	shard       string
	webhook     string
	trustInline bool
	workers     int
	maxBlobSize string
}

func newGitHubCmd(s *streams) *cobra.Command {
	o := &githubOptions{}
	cmd := &cobra.Command{
		Use:   "github --org ORG | --repo OWNER/NAME...",
		Short: "Sweep every repository of a GitHub organization, scanning only what is new",
		Long: `List the repositories of a GitHub organization (or those given with --repo),
keep a bare mirror of each under --cache-dir, fetch it, and scan what no
earlier sweep scanned: the commits beyond the ref tips scanned before, and of
their blobs only new ones. What each sweep scanned and found is kept in an
embedded database (--state), written once per repository, so an interrupted
sweep resumes where it stopped.

Results: every finding recorded for the swept repositories, or with
--new-only those this sweep found first. --no-redact applies to the latter
only: the state never holds a secret. A new finding stays marked
undelivered in the state until the report is written and the webhook has
it: if the sweep is killed first, or an output fails, the next sweep
delivers it again as new (read again from the mirror, to be verified).

Authentication: GITHUB_TOKEN (or --token-file), or a GitHub App
(--app-id and --app-key: its installation on the organization). GitHub
Enterprise Server: --api-url https://HOST/api/v3/.

Where the token goes: to the REST API, and to the git host it is known to
serve (github.com for api.github.com; HOST for https://HOST/api/v3/), or
one named with --git-host; scheme, host and port must all match. An API
redirect to another origin is not followed. A repository whose clone URL
is anywhere else, or is not https (file://, a local path, ssh://, git://),
is not fetched: it fails, with the reason on stderr, and the sweep goes
on. Plain http is refused unless the host is loopback (127.0.0.0/8, ::1,
localhost) or --insecure-api is given.

Sharding: --shard K/N sweeps the repositories whose name hashes to K of N
(0 <= K < N), each shard with its own state file, e.g.
--shard "$(JOB_COMPLETION_INDEX)/4" in a Kubernetes Indexed Job.

Exit codes: 0 nothing reported, 1 findings reported, 2 a repository failed
or the sweep was interrupted (what completed is reported and saved).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.run(cmd.Context(), s); err != nil {
				return printableError{err}
			}
			return nil
		},
	}
	o.outputOptions.bind(cmd)
	f := cmd.Flags()
	f.StringVar(&o.org, "org", "", "the organization (or user) whose repositories are swept")
	f.StringArrayVar(&o.repos, "repo", nil, "sweep this repository, `OWNER/NAME` (repeatable), instead of listing an organization")
	f.BoolVar(&o.filter.IncludeForks, "include-forks", false, "also sweep forks")
	f.BoolVar(&o.filter.IncludeArchived, "include-archived", false, "also sweep archived repositories")
	f.StringVar(&o.filter.Visibility, "visibility", "all", "sweep only public, private or internal repositories, or all")
	f.StringArrayVar(&o.filter.Include, "repo-include", nil, "sweep only repositories whose OWNER/NAME matches this `GLOB` (repeatable)")
	f.StringArrayVar(&o.filter.Exclude, "repo-exclude", nil, "do not sweep repositories whose OWNER/NAME matches this `GLOB` (repeatable)")
	f.StringVar(&o.apiURL, "api-url", "", "REST API of a GitHub Enterprise Server, `URL` like https://github.example.com/api/v3/")
	f.StringArrayVar(&o.gitHosts, "git-host", nil, "also fetch clone URLs on this git `HOST` (HOST[:PORT] for https, or a URL without path), sending it the token (repeatable)")
	f.BoolVar(&o.insecureAPI, "insecure-api", false, "accept a plain-http --api-url or --git-host on a host that is not loopback (the token crosses the network in clear)")
	f.StringVar(&o.tokenFile, "token-file", "", "read the token from `FILE` instead of GITHUB_TOKEN")
	f.Int64Var(&o.appID, "app-id", 0, "authenticate as this GitHub App (with --app-key)")
	f.StringVar(&o.appKey, "app-key", "", "the GitHub App's private key, a PEM `FILE`")
	f.StringVar(&o.cacheDir, "cache-dir", "", "keep mirrors and state under `DIR` (default $XDG_CACHE_HOME/keysweep/github)")
	f.StringVar(&o.state, "state", "", "the state database `FILE` (default in --cache-dir, one per shard)")
	f.BoolVar(&o.pullRefs, "include-pull-refs", false, "also fetch and scan pull request refs (refs/pull/*)")
	f.BoolVar(&o.full, "full", false, "rescan every repository from scratch")
	f.BoolVar(&o.newOnly, "new-only", false, "report only the findings this sweep made first")
	f.IntVar(&o.concurrency, "concurrency", 4, "repositories swept at once")
	f.StringVar(&o.shard, "shard", "0/1", "sweep only shard `K/N` of the repositories")
	f.StringVar(&o.webhook, "notify-webhook", "", "post new findings to this Slack-compatible webhook `URL` (or set KEYSWEEP_NOTIFY_WEBHOOK)")
	f.BoolVar(&o.trustInline, "trust-inline-markers", false, "honour keysweep:allow markers in the swept repositories, recording each secret they hide in the audit log (--audit-log; default: report those secrets)")
	f.IntVar(&o.workers, "workers", 0, "blobs scanned at once across all repositories; 0 means one per core (the default)")
	f.StringVar(&o.maxBlobSize, "max-blob-size", "25MiB", "skip blobs larger than this `SIZE`")
	o.cfg.bind(f)
	o.aws.bind(f)
	return cmd
}

func (o *githubOptions) run(ctx context.Context, s *streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	hosts, err := github.NewHosts(o.apiURL, o.gitHosts, o.insecureAPI)
	if err != nil {
		return err
	}
	shard, err := github.ParseShard(o.shard)
	if err != nil {
		return fmt.Errorf("--shard: %w", err)
	}
	maxSize, err := parseMaxBlobSize(o.maxBlobSize)
	if err != nil {
		return err
	}
	tokens, err := o.tokens(hosts)
	if err != nil {
		return err
	}
	cacheDir, err := o.cache()
	if err != nil {
		return err
	}
	statePath := o.state
	if statePath == "" {
		statePath = filepath.Join(cacheDir, "state.db")
		if shard.N > 1 {
			statePath = filepath.Join(cacheDir, fmt.Sprintf("state-%d-of-%d.db", shard.K, shard.N))
		}
	}
	// Operator configuration only: a swept repository cannot silence
	// the sweep.
	setup, err := o.cfg.setup(nil)
	if err != nil {
		return err
	}
	markers := &sweepMarkers{trust: o.trustInline}
	if o.trustInline {
		path := o.aws.auditLog
		if path == "" {
			if path, err = audit.DefaultPath(); err != nil {
				return err
			}
		}
		if markers.log, err = audit.Open(path); err != nil {
			return err
		}
		defer markers.log.Close()
	}
	aws, err := o.aws.prepare(ctx, s)
	if err != nil {
		return err
	}
	defer aws.close()
	state, err := github.OpenState(statePath)
	if err != nil {
		return err
	}
	defer state.Close()
	client, err := github.NewClient(hosts, nil, tokens, s.errOut)
	if err != nil {
		return err
	}
	client.Sleep = s.sleep

	repos, listed, err := o.list(ctx, client, shard)
	if err != nil {
		return err
	}

	workers := o.workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	perRepo := max(1, workers/max(1, o.concurrency))
	var verifyMu sync.Mutex
	var verified []scanner.Finding
	sw := &github.Sweep{
		Mirror:      &github.Mirror{Dir: cacheDir, PullRefs: o.pullRefs, Tokens: tokens, Hosts: hosts},
		State:       state,
		Concurrency: o.concurrency,
		Full:        o.full,
		NoRedact:    o.noRedact,
		Scan: func(ctx context.Context, dir string, since []string, seen func(string) bool) (*scanner.Result, error) {
			// A swept repository's content is not trusted to mark its own
			// secrets as harmless: the markers are kept, and honoured
			// (audited) only with --trust-inline-markers.
			return scanner.Since(ctx, dir, setup.engine, since, seen, scanner.Options{Workers: perRepo, MaxBlobSize: maxSize, KeepMarked: true})
		},
		Filter: markers.filter(setup),
		// Findings an earlier sweep did not deliver have their secrets
		// found again with it, to be verified.
		Detector: setup.engine,
		Log:      s.errOut,
	}
	if bar := newSweepProgress(s.errOut, o.noProgress, len(repos)); bar != nil {
		sw.Progress = func(done, total int, current string) {
			_ = bar.Set(done)
			if current == "" {
				_ = bar.Finish()
				return
			}
			bar.Describe(report.Escape(current))
		}
	}
	if aws != nil {
		sw.Verify = func(ctx context.Context, fs []scanner.Finding) {
			verifyMu.Lock()
			defer verifyMu.Unlock()
			aws.process(ctx, fs)
			verified = append(verified, fs...)
		}
	}
	if listed != nil {
		gone, err := sw.Prune(o.org, listed, shard)
		for _, name := range gone {
			fmt.Fprintf(s.errOut, "keysweep: %s is no longer in %s: its mirror and state are removed\n", report.Escape(name), report.Escape(o.org))
		}
		if err != nil {
			return fmt.Errorf("forget deleted repositories: %w", err)
		}
	}
	fmt.Fprintf(s.errOut, "keysweep: sweeping %s (shard %s), state %s\n", report.Count(int64(len(repos)), "repository", "repositories"), o.shard, statePath)
	start := time.Now()
	outcomes := sw.Run(ctx, repos)

	var out, delivered []report.Finding
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
		if !o.newOnly {
			out = append(out, oc.Known...)
		}
		out = append(out, oc.New...)
		delivered = append(delivered, oc.New...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Repository < out[j].Repository })
	if err := writeReport(s, &o.outputOptions, out); err != nil {
		return fmt.Errorf("%w (the next sweep delivers its new findings again)", err)
	}
	var awsErr error
	if aws != nil {
		sum := aws.summary(verified)
		sum.print(s.errOut)
		awsErr = sum.err()
	}
	fmt.Fprintf(s.errOut, "keysweep: swept %s in %s (%d unchanged, %d failed): %s, %d reported\n",
		report.Count(int64(len(repos)), "repository", "repositories"), time.Since(start).Round(time.Millisecond), unchanged, len(failed), report.Count(int64(newCount), "new finding"), len(out))
	setup.printSummary(s.errOut, 0)

	notifyErr := o.notify(ctx, s, outcomes)
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
		return fmt.Errorf("sweep %w: %d of %d repositories not completed; run it again to resume", errInterrupted, len(failed), len(repos))
	case len(failed) > 0:
		return fmt.Errorf("sweep incomplete: %d of %d repositories failed (%s); the others are reported and saved", len(failed), len(repos), strings.Join(first(failed, 5), ", "))
	case notifyErr != nil:
		return notifyErr
	case deliveredErr != nil:
		return deliveredErr
	case awsErr != nil:
		return awsErr
	case len(out) > 0:
		return errFindings
	}
	return nil
}

// newSweepProgress returns a bar of repositories done, naming the one
// being swept, or nil when stderr is not a terminal, in CI, or with
// --no-progress.
func newSweepProgress(w io.Writer, disabled bool, total int) *progressbar.ProgressBar {
	if disabled || os.Getenv("CI") != "" || !isTerminal(w) {
		return nil
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("repositories"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func (o *githubOptions) validate() error {
	if err := o.outputOptions.validate(); err != nil {
		return err
	}
	if o.org == "" && len(o.repos) == 0 {
		return errors.New("give --org ORG or --repo OWNER/NAME")
	}
	if err := checkWorkers(o.workers); err != nil {
		return err
	}
	if o.org != "" && len(o.repos) > 0 {
		return errors.New("give --org or --repo, not both")
	}
	if o.concurrency < 1 {
		return fmt.Errorf("--concurrency must be at least 1, got %d", o.concurrency)
	}
	if (o.appID != 0) != (o.appKey != "") {
		return errors.New("a GitHub App needs both --app-id and --app-key")
	}
	if o.appID != 0 && o.org == "" {
		return errors.New("a GitHub App authenticates for an organization: give --org")
	}
	return o.filter.Validate()
}

// tokens returns where API and git requests get their token.
func (o *githubOptions) tokens(hosts *github.Hosts) (github.TokenSource, error) {
	if o.appID != 0 {
		key, err := os.ReadFile(o.appKey)
		if err != nil {
			return nil, fmt.Errorf("--app-key: %w", err)
		}
		return github.NewAppTokens(o.appID, key, o.org, hosts, nil)
	}
	if o.tokenFile != "" {
		data, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		tok := strings.TrimSpace(string(data))
		if tok == "" {
			return nil, fmt.Errorf("--token-file %s is empty", o.tokenFile)
		}
		return github.StaticToken(tok), nil
	}
	if tok := strings.TrimSpace(os.Getenv("GITHUB_TOKEN")); tok != "" {
		return github.StaticToken(tok), nil
	}
	return nil, nil
}

func (o *githubOptions) cache() (string, error) {
	if o.cacheDir != "" {
		return o.cacheDir, nil
	}
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
// organization's whole listing (nil with --repo).
func (o *githubOptions) list(ctx context.Context, client *github.Client, shard github.Shard) (repos []github.Repo, listed map[string]bool, err error) {
	var all []github.Repo
	if o.org != "" {
		if all, err = client.OrgRepos(ctx, o.org); err != nil {
			return nil, nil, err
		}
		listed = make(map[string]bool, len(all))
		for _, r := range all {
			listed[strings.ToLower(r.FullName)] = true
		}
	} else {
		for _, name := range o.repos {
			r, err := client.Repo(ctx, name)
			if err != nil {
				return nil, nil, err
			}
			all = append(all, r)
		}
	}
	seen := make(map[string]bool, len(all))
	for _, r := range all {
		// Once each: --repo given twice, or a repository that moved
		// between pages of the listing.
		key := strings.ToLower(r.FullName)
		if !seen[key] && shard.Has(r.FullName) && (o.org == "" || o.filter.Match(r)) {
			seen[key] = true
			repos = append(repos, r)
		}
	}
	return repos, listed, nil
}

// notify posts this sweep's new findings to the webhook, if one is set.
func (o *githubOptions) notify(ctx context.Context, s *streams, outcomes []github.Outcome) error {
	url := o.webhook
	if url == "" {
		url = os.Getenv("KEYSWEEP_NOTIFY_WEBHOOK")
	}
	if url == "" {
		return nil
	}
	n := &github.Notifier{URL: url, Attempts: 4, Backoff: time.Second, MaxLines: 30, Sleep: s.sleep}
	scope := o.org
	if scope == "" {
		scope = strings.Join(o.repos, ", ")
	}
	text, count := n.Message(scope, outcomes)
	if count == 0 {
		return nil
	}
	if err := n.Post(context.WithoutCancel(ctx), text); err != nil {
		return err
	}
	return nil
}

// printableError is err as printed on the terminal: on one line, and
// with control characters escaped, since it may quote the API (a
// repository name, an error message). errors.Is and As see through it.
type printableError struct{ err error }

func (e printableError) Error() string {
	return report.Escape(strings.Join(strings.Fields(e.err.Error()), " "))
}

func (e printableError) Unwrap() error { return e.err }

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}
