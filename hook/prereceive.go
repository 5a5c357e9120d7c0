// Package hook runs keysweep as a git hook: the server's pre-receive check
// (policy, push options, bypasses, audit entries, fail-open or closed),
// the local pre-push check, and installing hooks. It returns a refusal as
// an error the command maps to an exit code.
package hook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/audit"
	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

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
			// A bare keysweep.skip keeps the reason an earlier one gave.
			p.skip = true
			if r := strings.TrimSpace(value); r != "" {
				skipReason = r
			}
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
	case getenv("GITEA_REPO_NAME") != "" && getenv("GITEA_REPO_USER_NAME") != "":
		return getenv("GITEA_REPO_USER_NAME") + "/" + getenv("GITEA_REPO_NAME")
	case getenv("GITEA_REPO_NAME") != "":
		return getenv("GITEA_REPO_NAME")
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

// PreReceive is the server-side check of a push: it refuses a push that
// adds a secret, within a time budget, never printing the secret.
type PreReceive struct {
	// Dir is the repository pushed to; "" is $GIT_DIR, or the working
	// directory git runs the hook in.
	Dir string
	// Config names the operator's configuration files; with
	// TrustRepoConfig the repository's own files are read from its HEAD
	// before the push, never from the push.
	Config          config.Files
	TrustRepoConfig bool
	// Timeout bounds the whole check.
	Timeout time.Duration
	// FailOpen accepts, with a warning and an audit entry, a push that
	// cannot be checked; by default it is refused.
	FailOpen bool
	// NoBypass refuses the keysweep.allow and keysweep.skip push options.
	NoBypass bool
	// AuditLog is where bypasses are recorded; "" is audit.DefaultPath.
	AuditLog string
	// MaxShown bounds the secrets listed in the refusal.
	MaxShown    int
	MaxBlobSize int64
	Workers     int
	// TrustInline lets keysweep:allow markers of pushed content through,
	// auditing each; RefuseUnscanned refuses a push holding content the
	// check could not look at.
	TrustInline, RefuseUnscanned bool
	// Verify, if set, verifies the secrets the refusal lists, within
	// Timeout: a verification the budget cuts short is unknown, never a
	// reason to let the push through.
	Verify Verifier
	// Getenv reads the hook's environment (push options, pusher).
	Getenv func(string) string
	// Log receives the refusal and the summary: git relays it to the
	// pusher.
	Log io.Writer
}

// Verifier verifies findings in place.
type Verifier interface {
	Process(ctx context.Context, fs []finding.Finding)
}

// pushCheck is one run of the pre-receive hook.
type pushCheck struct {
	*PreReceive
	start time.Time
	refs  []string
	// fp is the scan's fingerprint cache, once there is a scan.
	fp *finding.Fingerprinter
}

// Run checks the push whose updates git writes to in. It returns nil to
// accept the push, finding.ErrFindings when it is refused for secrets,
// and any other error when it is refused for another reason (a check that
// could not complete, fail-closed): git refuses the push on any non-zero
// exit.
func (h *PreReceive) Run(ctx context.Context, in io.Reader) error {
	h.defaults()
	p := &pushCheck{PreReceive: h, start: time.Now(), fp: new(finding.Fingerprinter)}
	if h.Timeout <= 0 {
		return p.failed(fmt.Errorf("--timeout must be positive, got %s", h.Timeout), false)
	}
	updates, err := gitsrc.ParseUpdates(in)
	if err != nil {
		return p.failed(err, false)
	}
	for _, u := range updates {
		p.refs = append(p.refs, u.Ref)
	}
	opts, err := readPushOptions(h.Getenv)
	// Where no bypass is accepted, asking for one is refused as such,
	// before any advice on how to ask.
	if h.NoBypass && (opts.skip || len(opts.allow) > 0) {
		return errors.New("push refused: this server does not accept keysweep.allow or keysweep.skip; remove the secret from the commits")
	}
	if err != nil {
		return fmt.Errorf("push refused: %w", err)
	}
	for _, k := range opts.unknown {
		fmt.Fprintf(h.Log, "keysweep: unknown push option %s ignored (known: keysweep.allow, keysweep.reason, keysweep.skip)\n", report.Escape(k))
	}

	scanCtx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	res, setup, err := h.scan(scanCtx, updates)
	if setup != nil {
		p.fp = setup.Fingerprints
	}
	timedOut := errors.Is(err, context.DeadlineExceeded) || err != nil && errors.Is(scanCtx.Err(), context.DeadlineExceeded)
	if timedOut {
		err = fmt.Errorf("the check did not finish within %s", h.Timeout)
	}
	// What is let through is audited by fingerprint, and ignores match by
	// fingerprint: a memory-hard hash each, computed within the budget too.
	if err == nil && (opts.skip || len(opts.allow) > 0 || h.TrustInline || setup.NeedsFingerprints()) {
		if werr := setup.Fingerprints.Warm(scanCtx, res.Findings); werr != nil {
			err, timedOut = fmt.Errorf("the check did not finish within %s", h.Timeout), true
		}
	}
	if opts.skip {
		return p.skip(opts.reason, res, setup, err)
	}
	if err != nil {
		return p.failed(err, timedOut)
	}
	findings, allowed := p.allow(opts, setup.Filter(res.Findings))
	findings, marked := p.inlineAllowed(findings)
	if len(findings) > 0 {
		// Only what is listed is fingerprinted: each costs a slow hash.
		shown := findings
		if h.MaxShown > 0 && len(shown) > h.MaxShown {
			shown = shown[:h.MaxShown]
		}
		if h.Verify != nil {
			h.Verify.Process(scanCtx, shown)
		}
		werr := report.WriteRefusal(h.Log, report.Prepare(shown, report.Options{Fingerprints: p.fp}), report.Refusal{
			Title:    "keysweep: push refused",
			Refs:     p.refs,
			MaxShown: h.MaxShown,
			Unbuilt:  len(findings) - len(shown),
			Bypass:   p.bypassHelp,
		})
		if werr != nil {
			return werr
		}
		return finding.ErrFindings
	}
	if h.RefuseUnscanned {
		if what := report.Unscanned(res.Stats, h.MaxBlobSize); what != "" {
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
		fmt.Fprintf(h.Log, "keysweep: %s allowed by the pusher (%q), recorded in the audit log\n", report.Count(int64(len(allowed)), "secret"), opts.reason)
	}
	if len(marked) > 0 {
		fmt.Fprintf(h.Log, "keysweep: %s marked keysweep:allow let through (--trust-inline-markers), recorded in the audit log\n", report.Count(int64(len(marked)), "secret"))
	}
	report.WritePushSummary(h.Log, res.Stats, time.Since(p.start), h.MaxBlobSize, len(allowed)+len(marked))
	report.WriteSuppressed(h.Log, setup.Suppressed(), res.Stats.InlineAllowed)
	return nil
}

// defaults fills in what the hook's environment says.
func (h *PreReceive) defaults() {
	if h.Getenv == nil {
		h.Getenv = func(string) string { return "" }
	}
	if h.Dir == "" {
		h.Dir = "."
		if d := h.Getenv("GIT_DIR"); d != "" {
			h.Dir = d
		}
	}
	if h.MaxBlobSize <= 0 {
		h.MaxBlobSize = scanner.DefaultMaxBlobSize
	}
	if h.Log == nil {
		h.Log = io.Discard
	}
}

// scan checks what the updates add, with the operator's configuration.
func (h *PreReceive) scan(ctx context.Context, updates []gitsrc.Update) (*scanner.Result, *config.Setup, error) {
	files := h.Config
	files.Read = nil
	if h.TrustRepoConfig {
		files.Read = config.HeadFile(ctx, h.Dir)
	}
	setup, err := config.Resolve(files, time.Now())
	if err != nil {
		return nil, nil, err
	}
	// What a pusher controls cannot silence the check: markers are kept
	// (and let through only with TrustInline, audited), and binary files
	// are scanned (text hides behind one NUL byte).
	res, err := scanner.Push(ctx, h.Dir, setup.Engine, updates, scanner.Options{Workers: h.Workers, MaxBlobSize: h.MaxBlobSize, KeepMarked: true, ScanBinary: true})
	if err != nil {
		return nil, setup, err
	}
	return res, setup, nil
}

// Fail ends a check that could not start (the command's flags are wrong):
// the push is refused, or with FailOpen accepted with a warning and an
// audit entry.
func (h *PreReceive) Fail(err error) error {
	h.defaults()
	p := &pushCheck{PreReceive: h, start: time.Now()}
	return p.failed(err, false)
}

// failed ends a check that could not complete: refuse the push, or with
// --fail-open accept it with a warning (and an audit entry).
func (p *pushCheck) failed(err error, timedOut bool) error {
	if !p.FailOpen {
		advice := "fix the hook's set-up, or ask the server's operator"
		if timedOut {
			advice = "push fewer commits at once, or ask the server's operator to raise --timeout"
		}
		return fmt.Errorf("push refused: %s (fail-closed: a push that cannot be checked is not accepted; %s)", report.OneLine(err), advice)
	}
	// What is let through unchecked is recorded first, or not let through.
	if aerr := p.record([]pushAuditEntry{{Action: "push-fail-open", Error: report.OneLine(err)}}); aerr != nil {
		return fmt.Errorf("push refused: %s, and --fail-open lets a push through unchecked only when the audit log records it: %s", report.OneLine(err), report.OneLine(aerr))
	}
	fmt.Fprintf(p.Log, "keysweep: WARNING: push accepted without a complete check for secrets (--fail-open): %s\n", report.OneLine(err))
	return nil
}

// skip accepts a push whose pusher asked to skip the check, after
// recording it, with what the check found in the time it had.
func (p *pushCheck) skip(reason string, res *scanner.Result, setup *config.Setup, scanErr error) error {
	entries := []pushAuditEntry{{Action: "push-skip", Reason: reason}}
	if scanErr != nil {
		entries[0].Error = "check incomplete: " + report.OneLine(scanErr)
	}
	n := 0
	if res != nil && setup != nil {
		for _, f := range setup.Filter(res.Findings) {
			entries = append(entries, p.findingEntry("push-skip", reason, f))
			n++
		}
	}
	if err := p.record(entries); err != nil {
		return fmt.Errorf("push refused: keysweep.skip cannot be recorded: %w", err)
	}
	fmt.Fprintf(p.Log, "keysweep: check skipped at the pusher's request (%q); %s let through, recorded in the audit log\n", reason, report.Count(int64(n), "secret"))
	return nil
}

// allow returns the findings whose fingerprint the pusher did not allow,
// and entries recording those it did.
func (p *pushCheck) allow(opts pushOptions, fs []finding.Finding) ([]finding.Finding, []pushAuditEntry) {
	if len(opts.allow) == 0 {
		return fs, nil
	}
	var kept []finding.Finding
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
			fmt.Fprintf(p.Log, "keysweep: keysweep.allow=%s matches nothing this push adds\n", report.Escape(fp))
		}
	}
	return kept, entries
}

// inlineAllowed returns the findings no keysweep:allow marker lets
// through, and entries recording those it does: none unless the operator
// trusts the markers of pushed content.
func (p *pushCheck) inlineAllowed(fs []finding.Finding) ([]finding.Finding, []pushAuditEntry) {
	if !p.TrustInline {
		return fs, nil
	}
	var kept []finding.Finding
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

func (p *pushCheck) findingEntry(action, reason string, f finding.Finding) pushAuditEntry {
	return pushAuditEntry{
		Action: action, Reason: reason,
		Fingerprint: p.fp.Fingerprint(f.RuleID, f.KeyID, f.Secret),
		Rule:        f.RuleID, Commit: f.Commit, Path: f.Path, Line: f.Line,
	}
}

// record appends entries to the audit log, filling in what every entry
// says about the push.
func (p *pushCheck) record(entries []pushAuditEntry) error {
	log, err := audit.Open(p.AuditLog)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	refs := p.refs
	if refs == nil {
		refs = []string{} // a check that failed before reading them
	}
	repo := repoName(p.Getenv, absPath(p.Dir))
	who := pusher(p.Getenv)
	from := remoteAddr(p.Getenv)
	for _, e := range entries {
		e.Time, e.Repo, e.Pusher, e.From, e.Refs = now, repo, who, from, refs
		if err := log.Append(e); err != nil {
			log.Close()
			return err
		}
	}
	return log.Close()
}

// bypassHelp is the part of the refusal that says how to push anyway.
func (p *pushCheck) bypassHelp(fingerprints []string) []string {
	if p.NoBypass {
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

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
