package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/internal/audit"
	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

func newHookCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hook",
		Short: "Run as a git hook that stops secrets (pre-receive, pre-push), or install one",
	}
	cmd.AddCommand(newPreReceiveCmd(s), newPrePushCmd(s), newHookInstallCmd(s))
	return cmd
}

// preReceiveOptions are the flags of the server-side hook.
type preReceiveOptions struct {
	cfg             configOptions
	trustRepoConfig bool
	timeout         time.Duration
	failOpen        bool
	noBypass        bool
	auditLog        string
	maxShown        int
	maxBlobSize     string
	workers         int
	trustInline     bool
	refuseUnscanned bool
}

func newPreReceiveCmd(s *streams) *cobra.Command {
	o := &preReceiveOptions{}
	cmd := &cobra.Command{
		Use:   "pre-receive",
		Short: "Refuse a push that adds a secret (a git server's pre-receive hook)",
		Long: `Run as a git server's pre-receive hook: read "<old> <new> <ref>" lines on
stdin, scan only what the push adds (commits no existing ref reaches, and of
their blobs only those the repository did not hold), and refuse the push when
it adds a secret, naming rule, commit and path:line, the secret redacted.

The pusher can let a false positive through with push options (the server
needs "git config receive.advertisePushOptions true"):
  git push -o keysweep.allow=<fingerprint> -o keysweep.reason="why"
  git push -o keysweep.skip="why"        (skips the check for the whole push)
Each bypass is appended to the audit log with its reason, pusher and refs.

Configuration comes from --config and --ignore-file only: a pushed
repository's own .keysweep.toml is not trusted unless --trust-repo-config,
and then it is read from the repository's HEAD before the push, never from
the push itself. Nothing is sent over the network: no verification.

Content does not silence the check: a "keysweep:allow" marker in pushed
content is ignored (the secret is reported) unless --trust-inline-markers,
and then each secret it lets through is recorded in the audit log. Commit
and tag messages are checked too, and binary files. What the check cannot
look at (files over --max-blob-size, encoded text beyond the decode budget)
is named in its summary; --refuse-unscanned refuses such a push.

Time budget: --timeout (default 4s; GitHub Enterprise Server gives all
pre-receive hooks 5s together). A scan that runs out of time, or cannot read
what was pushed, refuses the push (fail-closed) unless --fail-open.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), s)
		},
	}
	f := cmd.Flags()
	o.cfg.bind(f)
	f.BoolVar(&o.trustRepoConfig, "trust-repo-config", false, "also read "+".keysweep.toml and .keysweepignore from the repository's HEAD (before the push)")
	f.DurationVar(&o.timeout, "timeout", 4*time.Second, "time budget of the whole check")
	f.BoolVar(&o.failOpen, "fail-open", false, "accept the push, with a warning, when the check runs out of time or fails (default: refuse it)")
	f.BoolVar(&o.noBypass, "no-bypass", false, "refuse the keysweep.allow and keysweep.skip push options")
	f.StringVar(&o.auditLog, "audit-log", "", "append every bypass to `FILE`, as JSON lines (default $XDG_STATE_HOME/keysweep/audit.jsonl of the user the hook runs as)")
	f.IntVar(&o.maxShown, "max-shown", 10, "list at most this many secrets in the message; count the rest")
	f.StringVar(&o.maxBlobSize, "max-blob-size", "25MiB", "skip blobs larger than this `SIZE`")
	f.IntVar(&o.workers, "workers", 0, workersUsage("blobs"))
	f.BoolVar(&o.trustInline, "trust-inline-markers", false, "let keysweep:allow markers in pushed content through, recording each in the audit log")
	f.BoolVar(&o.refuseUnscanned, "refuse-unscanned", false, "refuse a push holding content the check could not look at (too large, or encoded text beyond the decode budget)")
	return cmd
}

// pushOptions are the keysweep.* push options of a push.
type pushOptions struct {
	skip    bool
	reason  string
	allow   map[string]bool
	unknown []string
}

// maxPushOptions bounds the push options read: each is an environment
// variable, and their count is only a number.
const maxPushOptions = 1000

// readPushOptions reads the push options git passes to a pre-receive
// hook through GIT_PUSH_OPTION_COUNT and GIT_PUSH_OPTION_<n>.
func readPushOptions(getenv func(string) string) (pushOptions, error) {
	p := pushOptions{allow: make(map[string]bool)}
	count := getenv("GIT_PUSH_OPTION_COUNT")
	if count == "" {
		return p, nil
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 {
		return p, fmt.Errorf("invalid GIT_PUSH_OPTION_COUNT %q", count)
	}
	if n > maxPushOptions {
		return p, fmt.Errorf("%d push options: at most %d are read", n, maxPushOptions)
	}
	var skipReason string
	for i := 0; i < n; i++ {
		opt := getenv("GIT_PUSH_OPTION_" + strconv.Itoa(i))
		key, value, _ := strings.Cut(opt, "=")
		switch key {
		case "keysweep.skip":
			p.skip, skipReason = true, strings.TrimSpace(value)
		case "keysweep.allow":
			for _, fp := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' }) {
				p.allow[fp] = true
			}
		case "keysweep.reason":
			p.reason = strings.TrimSpace(value)
		default:
			if strings.HasPrefix(key, "keysweep.") {
				p.unknown = append(p.unknown, key)
			}
		}
	}
	if p.skip {
		if skipReason == "" {
			skipReason = p.reason
		}
		if skipReason == "" {
			return p, errors.New(`keysweep.skip needs a reason: git push -o keysweep.skip="why this push may hold secrets"`)
		}
		p.reason = skipReason
	}
	if len(p.allow) > 0 && p.reason == "" {
		return p, errors.New(`keysweep.allow needs a reason: add -o keysweep.reason="why it is not a secret"`)
	}
	return p, nil
}

// pusher names who pushes, from what each git server puts in a hook's
// environment.
func pusher(getenv func(string) string) string {
	for _, v := range []string{"GITHUB_USER_LOGIN", "GL_USERNAME", "GITEA_PUSHER_NAME", "GL_USER", "REMOTE_USER", "USER"} {
		if s := getenv(v); s != "" {
			return s
		}
	}
	return ""
}

// remoteAddr is the address a push comes from, as GitHub Enterprise
// Server, an SSH connection or git's HTTP backend says it.
func remoteAddr(getenv func(string) string) string {
	if ip := getenv("GITHUB_USER_IP"); ip != "" {
		return ip
	}
	if f := strings.Fields(getenv("SSH_CONNECTION")); len(f) > 0 {
		return f[0]
	}
	return getenv("REMOTE_ADDR")
}

// repoName names the repository pushed to, for the audit log.
func repoName(getenv func(string) string, gitDir string) string {
	switch {
	case getenv("GITHUB_REPO_NAME") != "":
		return getenv("GITHUB_REPO_NAME")
	case getenv("GL_PROJECT_PATH") != "":
		return getenv("GL_PROJECT_PATH")
	case getenv("GITEA_REPO_NAME") != "":
		return getenv("GITEA_REPO_USER_NAME") + "/" + getenv("GITEA_REPO_NAME")
	}
	return gitDir
}

// pushAuditEntry is one line of the audit log: a push let through without
// the check refusing it. It never holds a secret.
type pushAuditEntry struct {
	Time   string `json:"time"`
	Action string `json:"action"` // push-allow, push-skip, push-fail-open
	Repo   string `json:"repo"`
	Pusher string `json:"pusher,omitempty"`
	// From is the pusher's address, when the server says it.
	From   string   `json:"from,omitempty"`
	Refs   []string `json:"refs"`
	Reason string   `json:"reason,omitempty"`

	Fingerprint string `json:"fingerprint,omitempty"`
	Rule        string `json:"rule,omitempty"`
	Commit      string `json:"commit,omitempty"`
	Path        string `json:"path,omitempty"`
	Line        int    `json:"line,omitempty"`
	Error       string `json:"error,omitempty"`
}

// pushCheck is one run of the pre-receive hook.
type pushCheck struct {
	o      *preReceiveOptions
	s      *streams
	getenv func(string) string
	start  time.Time
	gitDir string
	refs   []string
	// fp is the scan's fingerprint cache, once there is a scan.
	fp *report.Fingerprinter
}

func (o *preReceiveOptions) run(ctx context.Context, s *streams) error {
	if stdinIsTerminal(s) {
		return errors.New(`hook pre-receive reads what a push updates: git runs it with "<old-id> <new-id> <ref>" lines on stdin; to try it by hand, pipe such lines in`)
	}
	p := &pushCheck{o: o, s: s, getenv: os.Getenv, start: time.Now(), gitDir: ".", fp: new(report.Fingerprinter)}
	if d := p.getenv("GIT_DIR"); d != "" {
		p.gitDir = d
	}
	if o.timeout <= 0 {
		return p.failed(fmt.Errorf("--timeout must be positive, got %s", o.timeout), false)
	}
	if err := checkWorkers(o.workers); err != nil {
		return p.failed(err, false)
	}
	if _, err := parseMaxBlobSize(o.maxBlobSize); err != nil {
		return p.failed(err, false)
	}
	updates, err := scanner.ParseUpdates(s.in)
	if err != nil {
		return p.failed(err, false)
	}
	for _, u := range updates {
		p.refs = append(p.refs, u.Ref)
	}
	opts, err := readPushOptions(p.getenv)
	if err != nil {
		return fmt.Errorf("push refused: %w", err)
	}
	for _, k := range opts.unknown {
		fmt.Fprintf(s.errOut, "keysweep: unknown push option %s ignored (known: keysweep.allow, keysweep.reason, keysweep.skip)\n", report.Escape(k))
	}
	if o.noBypass && (opts.skip || len(opts.allow) > 0) {
		return errors.New("push refused: this server does not accept keysweep.allow or keysweep.skip; remove the secret from the commits")
	}

	scanCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	res, setup, err := o.scan(scanCtx, updates)
	if setup != nil {
		p.fp = &setup.fp
	}
	timedOut := errors.Is(err, context.DeadlineExceeded) || err != nil && errors.Is(scanCtx.Err(), context.DeadlineExceeded)
	if timedOut {
		err = fmt.Errorf("the check did not finish within %s", o.timeout)
	}
	// What is let through is audited by fingerprint, and ignores match by
	// fingerprint: a memory-hard hash each, computed within the budget too.
	if err == nil && (opts.skip || len(opts.allow) > 0 || o.trustInline || setup.sup.Ignores != nil || len(setup.sup.Baseline) > 0) {
		if werr := setup.fp.Warm(scanCtx, res.Findings); werr != nil {
			err, timedOut = fmt.Errorf("the check did not finish within %s", o.timeout), true
		}
	}
	if opts.skip {
		return p.skip(opts.reason, res, setup, err)
	}
	if err != nil {
		return p.failed(err, timedOut)
	}
	findings, allowed := p.allow(opts, setup.filter(res.Findings))
	findings, marked := p.inlineAllowed(findings)
	if len(findings) > 0 {
		// Only what is listed is built: each costs a slow fingerprint.
		shown := findings
		if o.maxShown > 0 && len(shown) > o.maxShown {
			shown = shown[:o.maxShown]
		}
		werr := report.WriteRefusal(s.errOut, setup.fp.Build(shown, false), report.Refusal{
			Title:    "keysweep: push refused",
			Refs:     p.refs,
			MaxShown: o.maxShown,
			Unbuilt:  len(findings) - len(shown),
			Bypass:   p.bypassHelp,
		})
		if werr != nil {
			return werr
		}
		return errFindings
	}
	maxSize, _ := parseMaxBlobSize(o.maxBlobSize) // checked by run
	if o.refuseUnscanned {
		if what := unscanned(res.Stats, maxSize); what != "" {
			return fmt.Errorf("push refused: it holds content the check could not look at (%s); --refuse-unscanned is set: push it without that content, or ask the server's operator", what)
		}
	}
	// A bypass is recorded before the push is let through, or not at all.
	if len(allowed)+len(marked) > 0 {
		if err := p.record(append(allowed, marked...)); err != nil {
			return fmt.Errorf("push refused: what is let through cannot be recorded: %w", err)
		}
	}
	if len(allowed) > 0 {
		fmt.Fprintf(s.errOut, "keysweep: %d %s allowed by the pusher (%q), recorded in the audit log\n", len(allowed), plural(len(allowed), "secret"), opts.reason)
	}
	if len(marked) > 0 {
		fmt.Fprintf(s.errOut, "keysweep: %d %s marked keysweep:allow let through (--trust-inline-markers), recorded in the audit log\n", len(marked), plural(len(marked), "secret"))
	}
	printPushSummary(s.errOut, res, p.start, maxSize, len(allowed)+len(marked))
	setup.printSummary(s.errOut, res.Stats.InlineAllowed)
	return nil
}

// scan checks what the updates add, with the operator's configuration.
func (o *preReceiveOptions) scan(ctx context.Context, updates []scanner.Update) (*scanner.Result, *scanSetup, error) {
	maxSize, err := parseMaxBlobSize(o.maxBlobSize)
	if err != nil {
		return nil, nil, err
	}
	var read repoFile
	if o.trustRepoConfig {
		read = headFile(ctx, ".")
	}
	setup, err := o.cfg.setup(read)
	if err != nil {
		return nil, nil, err
	}
	// What a pusher controls cannot silence the check: markers are kept
	// (and let through only with --trust-inline-markers, audited), and
	// binary files are scanned (text hides behind one NUL byte).
	res, err := scanner.Push(ctx, ".", setup.engine, updates, scanner.Options{Workers: o.workers, MaxBlobSize: maxSize, KeepMarked: true, ScanBinary: true})
	if err != nil {
		return nil, setup, err
	}
	return res, setup, nil
}

// headFile reads a file from the commit HEAD names, and only from there:
// on a server, a file of the repository's directory is not the project's.
func headFile(ctx context.Context, path string) repoFile {
	return func(name string) ([]byte, string, bool, error) {
		repo, err := gitsrc.Open(ctx, path)
		if err != nil {
			return nil, "", false, err
		}
		data, ok, err := repo.RevFile(ctx, "HEAD", name)
		return data, "HEAD:" + name, ok, err
	}
}

// failed ends a check that could not complete: refuse the push, or with
// --fail-open accept it with a warning (and an audit entry).
func (p *pushCheck) failed(err error, timedOut bool) error {
	if !p.o.failOpen {
		advice := "fix the hook's set-up, or ask the server's operator"
		if timedOut {
			advice = "push fewer commits at once, or ask the server's operator to raise --timeout"
		}
		return fmt.Errorf("push refused: %s (fail-closed: a push that cannot be checked is not accepted; %s)", oneLine(err), advice)
	}
	fmt.Fprintf(p.s.errOut, "keysweep: WARNING: push accepted without a complete check for secrets (--fail-open): %s\n", oneLine(err))
	if aerr := p.record([]pushAuditEntry{{Action: "push-fail-open", Error: oneLine(err)}}); aerr != nil {
		fmt.Fprintf(p.s.errOut, "keysweep: WARNING: %s\n", oneLine(aerr))
	}
	return nil
}

// skip accepts a push whose pusher asked to skip the check, after
// recording it, with what the check found in the time it had.
func (p *pushCheck) skip(reason string, res *scanner.Result, setup *scanSetup, scanErr error) error {
	entries := []pushAuditEntry{{Action: "push-skip", Reason: reason}}
	if scanErr != nil {
		entries[0].Error = "check incomplete: " + oneLine(scanErr)
	}
	n := 0
	if res != nil && setup != nil {
		for _, f := range setup.filter(res.Findings) {
			entries = append(entries, p.findingEntry("push-skip", reason, f))
			n++
		}
	}
	if err := p.record(entries); err != nil {
		return fmt.Errorf("push refused: keysweep.skip cannot be recorded: %w", err)
	}
	fmt.Fprintf(p.s.errOut, "keysweep: check skipped at the pusher's request (%q); %d %s let through, recorded in the audit log\n", reason, n, plural(n, "secret"))
	return nil
}

// allow returns the findings whose fingerprint the pusher did not allow,
// and entries recording those it did.
func (p *pushCheck) allow(opts pushOptions, fs []scanner.Finding) ([]scanner.Finding, []pushAuditEntry) {
	if len(opts.allow) == 0 {
		return fs, nil
	}
	var kept []scanner.Finding
	var entries []pushAuditEntry
	used := make(map[string]bool)
	for _, f := range fs {
		fp := p.fp.Fingerprint(f.RuleID, f.KeyID, f.Secret)
		if !opts.allow[fp] {
			kept = append(kept, f)
			continue
		}
		used[fp] = true
		entries = append(entries, p.findingEntry("push-allow", opts.reason, f))
	}
	for fp := range opts.allow {
		if !used[fp] {
			fmt.Fprintf(p.s.errOut, "keysweep: keysweep.allow=%s matches nothing this push adds\n", report.Escape(fp))
		}
	}
	return kept, entries
}

// inlineAllowed returns the findings no keysweep:allow marker lets
// through, and entries recording those it does: none unless the operator
// trusts the markers of pushed content.
func (p *pushCheck) inlineAllowed(fs []scanner.Finding) ([]scanner.Finding, []pushAuditEntry) {
	if !p.o.trustInline {
		return fs, nil
	}
	var kept []scanner.Finding
	var entries []pushAuditEntry
	for _, f := range fs {
		if f.Marked {
			entries = append(entries, p.findingEntry("push-inline-allow", "keysweep:allow marker in the pushed content", f))
			continue
		}
		kept = append(kept, f)
	}
	return kept, entries
}

// unscanned says what a check could not look at, or "" when it saw
// everything.
func unscanned(st scanner.Stats, maxSize int64) string {
	var parts []string
	if st.SkippedLarge > 0 {
		parts = append(parts, fmt.Sprintf("%d %s larger than %s", st.SkippedLarge, plural(int(st.SkippedLarge), "file"), humanBytes(maxSize)))
	}
	if st.SkippedBinary > 0 {
		parts = append(parts, fmt.Sprintf("%d binary %s", st.SkippedBinary, plural(int(st.SkippedBinary), "file")))
	}
	if st.Undecoded > 0 {
		parts = append(parts, fmt.Sprintf("%d %s with more encoded text than the decode budget", st.Undecoded, plural(int(st.Undecoded), "file")))
	}
	return strings.Join(parts, ", ")
}

func (p *pushCheck) findingEntry(action, reason string, f scanner.Finding) pushAuditEntry {
	return pushAuditEntry{
		Action: action, Reason: reason,
		Fingerprint: p.fp.Fingerprint(f.RuleID, f.KeyID, f.Secret),
		Rule:        f.RuleID, Commit: f.Commit, Path: f.Path, Line: f.Line,
	}
}

// record appends entries to the audit log, filling in what every entry
// says about the push.
func (p *pushCheck) record(entries []pushAuditEntry) error {
	path := p.o.auditLog
	if path == "" {
		var err error
		if path, err = audit.DefaultPath(); err != nil {
			return err
		}
	}
	log, err := audit.Open(path)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	repo := repoName(p.getenv, absPath(p.gitDir))
	who := pusher(p.getenv)
	from := remoteAddr(p.getenv)
	for _, e := range entries {
		e.Time, e.Repo, e.Pusher, e.From, e.Refs = now, repo, who, from, p.refs
		if err := log.Append(e); err != nil {
			log.Close()
			return err
		}
	}
	return log.Close()
}

// bypassHelp is the part of the refusal that says how to push anyway.
func (p *pushCheck) bypassHelp(fingerprints []string) []string {
	if p.o.noBypass {
		return nil
	}
	cmd := "git push"
	for _, fp := range fingerprints {
		cmd += " -o keysweep.allow=" + fp
	}
	return []string{
		cmd + ` -o keysweep.reason="<why>"`,
		"Each allowed secret is recorded in the audit log with your reason.",
		"(If git says the server does not support push options, ask its",
		"operator to run: git config receive.advertisePushOptions true)",
	}
}

// printPushSummary says on stderr what a hook checked, when it let the
// push through; allowed counts the secrets the pusher let through.
func printPushSummary(w io.Writer, res *scanner.Result, start time.Time, maxSize int64, allowed int) {
	st := res.Stats
	took := time.Since(start).Round(time.Millisecond)
	if st.Commits == 0 && st.Blobs == 0 && st.SkippedBinary == 0 && st.SkippedLarge == 0 {
		fmt.Fprintf(w, "keysweep: nothing new to check (%s)\n", took)
		return
	}
	verdict := "no secrets"
	if allowed > 0 {
		verdict = "no other secrets"
	}
	fmt.Fprintf(w, "keysweep: checked %d new %s (%d %s, %s) in %s: %s", st.Commits, plural(st.Commits, "commit"), st.Blobs, plural(int(st.Blobs), "blob"), humanBytes(st.Bytes), took, verdict)
	if what := unscanned(st, maxSize); what != "" {
		fmt.Fprintf(w, "; not checked: %s", what)
	}
	fmt.Fprintln(w)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// stdinIsTerminal reports whether a hook's stdin is a terminal: it was run
// by hand, and would wait for what git sends it.
func stdinIsTerminal(s *streams) bool {
	f, ok := s.in.(*os.File)
	return ok && isTerminal(f)
}
