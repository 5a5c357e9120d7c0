package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/aws"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/github"
	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/verify"
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
	reverify    time.Duration
	issues      bool
	allSources  bool
	wikis       bool
	actionsLogs bool
	actionsDays int
	gists       bool
	gistUsers   []string
	blobOptions
}

func newGitHubCmd(s *streams) *cobra.Command {
	o := &githubOptions{}
	cmd := &cobra.Command{
		Use: "github --org ORG | --repo OWNER/NAME...",
		Example: `  GITHUB_TOKEN=... keysweep github --org acme --format json --report acme.json
  keysweep github --org acme --verify --new-only --notify-webhook https://hooks.slack.com/services/...
  keysweep github --org acme --shard 2/4 --cache-dir /var/cache/keysweep`,
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

Beyond git: --issues also scans, through the API, the bodies of issues and
pull requests, their comments, the comments on pull requests' diffs, and
pull request reviews' bodies (each as it reads now: an edited comment is
scanned again). Each listing asks only for what changed since the last
sweep (a cursor per repository and source, in the state), at most 100
pages per repository and sweep (the next sweep goes on); a text over 1 MiB
is skipped and counted; a repository whose issues are disabled or out of
reach has nothing to scan there and does not fail. --wikis also mirrors
and scans each repository's wiki, a git repository of its own, like the
code (a repository without a wiki does not fail). --actions-logs also scans
the logs of the workflow runs of the last --actions-days days that
completed since the last sweep (zips over 256 MiB uncompressed are refused;
expired logs are skipped). --gists also mirrors and scans the public gists
of the organization's members (or of --gist-users a,b), each reported as
gist:USER/ID; a gist host the API does not name is fetched without the
token. --all-sources reads every source beside git (today: --issues,
--wikis, --gists with --org, --actions-logs).

Sharding: --shard K/N sweeps the repositories whose name hashes to K of N
(0 <= K < N), each shard with its own state file, e.g.
--shard "$(JOB_COMPLETION_INDEX)/4" in a Kubernetes Indexed Job.

Exit codes: 0 nothing reported, 1 findings reported, 2 a repository failed
or the sweep was interrupted (what completed is reported and saved).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), s)
		},
	}
	o.outputOptions.bind(cmd)
	o.outputOptions.bindProgress(cmd)
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
	f.BoolVar(&o.issues, "issues", false, "also scan issues, pull requests, their comments and reviews (through the API, what changed since the last sweep)")
	f.BoolVar(&o.wikis, "wikis", false, "also mirror and scan each repository's wiki")
	f.BoolVar(&o.actionsLogs, "actions-logs", false, "also scan the logs of workflow runs (through the API, the runs completed since the last sweep)")
	f.IntVar(&o.actionsDays, "actions-days", github.DefaultActionsDays, "with --actions-logs, read the workflow runs of the last `N` days")
	f.BoolVar(&o.gists, "gists", false, "also mirror and scan the public gists of the organization's members (or of --gist-users)")
	f.StringSliceVar(&o.gistUsers, "gist-users", nil, "with --gists, sweep the gists of these `USERS` (comma-separated) instead of the organization's members")
	f.BoolVar(&o.allSources, "all-sources", false, "also scan every source beside git: today --issues, --wikis, --gists, --actions-logs")
	f.BoolVar(&o.newOnly, "new-only", false, "report only the findings this sweep made first")
	f.IntVar(&o.concurrency, "concurrency", 4, "repositories swept at once")
	f.StringVar(&o.shard, "shard", "0/1", "sweep only shard `K/N` of the repositories")
	f.StringVar(&o.webhook, "notify-webhook", "", "post new findings to this Slack-compatible webhook `URL` (or set KEYSWEEP_NOTIFY_WEBHOOK)")
	f.DurationVar(&o.reverify, "reverify-after", 24*time.Hour, "with --verify, verify known findings that were verified or unknown again once their last verification is this old (0: never), their secrets read back from the mirror; a change (a key no longer live) is reported even with --new-only")
	f.BoolVar(&o.trustInline, "trust-inline-markers", false, "honour keysweep:allow markers in the swept repositories, recording each secret they hide in the audit log (--audit-log; default: report those secrets)")
	o.blobOptions.bind(f, "blobs")
	f.Lookup("workers").Usage = "blobs scanned at once across all repositories; 0 means one per core (the default)"
	o.cfg.bind(f)
	o.aws.bind(f)
	f.Lookup("audit-log").Usage = "append every remediation step, and every secret --trust-inline-markers lets through, to `FILE` as JSON lines (default $XDG_STATE_HOME/keysweep/audit.jsonl)"
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
	maxSize, err := o.blobOptions.parse()
	if err != nil {
		return err
	}
	tokens, err := o.tokens(hosts)
	if err != nil {
		return err
	}
	cacheDir := o.cacheDir
	if cacheDir == "" {
		if cacheDir, err = github.DefaultCacheDir(); err != nil {
			return err
		}
	}
	// Operator configuration only: a swept repository cannot silence
	// the sweep.
	setup, err := o.cfg.resolve(nil)
	if err != nil {
		return err
	}
	webhook := o.webhook
	if webhook == "" {
		webhook = os.Getenv("KEYSWEEP_NOTIFY_WEBHOOK")
	}
	// The owners of live keys are told through the sweep's webhook, and
	// its warnings remembered beside its state.
	o.aws.webhook, o.aws.statePath = webhook, github.AWSStatePath(cacheDir, o.state, shard)
	vs, err := o.aws.openVerify(s)
	if err != nil {
		return err
	}
	sess, err := o.aws.open(ctx, s)
	if err != nil {
		return err
	}
	defer sess.Close()
	opts := github.Options{
		Org: o.org, Repos: o.repos, Filter: o.filter, Shard: shard,
		Hosts: hosts, Tokens: tokens, CacheDir: cacheDir, StatePath: o.state,
		PullRefs: o.pullRefs, Full: o.full, Sources: github.Sources{Issues: o.issues || o.allSources},
		Wikis: o.wikis || o.allSources, ActionsLogs: o.actionsLogs || o.allSources, ActionsDays: o.actionsDays,
		Gists: o.gists || len(o.gistUsers) > 0 || o.allSources && o.org != "", GistUsers: o.gistUsers, Concurrency: o.concurrency, Workers: o.workers, MaxBlobSize: maxSize,
		Setup: setup, TrustInline: o.trustInline, AuditLog: o.aws.auditLog,
		NewOnly: o.newOnly, NoRedact: o.noRedact,
		Report: reporter{s, &o.outputOptions, setup.Fingerprints}, Webhook: webhook,
		Log: s.errOut, Sleep: s.sleep,
	}
	opts.Results, _ = finding.ParseResults(o.results) // validated
	opts.ReverifyAfter, opts.Now = o.reverify, s.now
	if v := verifiers(sess, vs); v != nil {
		opts.Verifier = v
	}
	if showProgress(s.errOut, o.noProgress) {
		opts.Progress = report.NewSweepProgress(s.errOut)
	}
	err = github.Run(ctx, opts)
	if vs != nil {
		report.WriteVerifySummary(s.errOut, vs.Summary())
	}
	if sess != nil {
		sum := sess.Summary()
		report.WriteAWSSummary(s.errOut, sum)
		if err == nil || errors.Is(err, errFindings) {
			if awsErr := sum.Err(); awsErr != nil {
				return awsErr
			}
		}
	}
	return err
}

func (o *githubOptions) validate() error {
	if err := o.outputOptions.validate(); err != nil {
		return err
	}
	if o.org == "" && len(o.repos) == 0 {
		return errors.New("give --org ORG or --repo OWNER/NAME")
	}
	if o.org != "" && len(o.repos) > 0 {
		return errors.New("give --org or --repo, not both")
	}
	if o.actionsDays < 1 || o.actionsDays > 400 {
		return fmt.Errorf("--actions-days must be between 1 and 400 (GitHub keeps logs 400 days at most), got %d", o.actionsDays)
	}
	if o.gists && o.org == "" && len(o.gistUsers) == 0 {
		return errors.New("--gists reads the gists of the members of --org: give --org, or name users with --gist-users")
	}
	if o.reverify < 0 {
		return fmt.Errorf("--reverify-after must not be negative, got %s", o.reverify)
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

// processor verifies findings in place.
type processor interface {
	Process(ctx context.Context, fs []finding.Finding)
}

// verifiers is what verifies a run's findings: AWS's session, the other
// providers', both, or nil.
func verifiers(sess *aws.Session, vs *verify.Session) processor {
	switch {
	case sess != nil && vs != nil:
		return both{sess, vs}
	case sess != nil:
		return sess
	case vs != nil:
		return vs
	}
	return nil
}

// both verifies AWS keys, then the other secrets.
type both struct {
	aws   *aws.Session
	other *verify.Session
}

func (b both) Process(ctx context.Context, fs []finding.Finding) {
	b.aws.Process(ctx, fs)
	b.other.Process(ctx, fs)
}
