package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/scanner"
)

// Sweep sweeps repositories: mirror, scan what is new, remember it.
type Sweep struct {
	Mirror *Mirror
	State  *State
	// Concurrency is the number of repositories swept at once.
	Concurrency int
	// Full rescans every repository from scratch.
	Full bool
	// NoRedact shows the secrets of new findings in clear in the output
	// (never in the state).
	NoRedact bool
	// Detector scans each mirror beyond the commits an earlier sweep
	// scanned, PerRepo blobs at once, skipping those over MaxBlobSize. A
	// finding an earlier sweep recorded but did not deliver has its secret
	// found again with it when it is delivered, to be verified or shown
	// (NoRedact): the state holds no secret.
	Detector    scanner.Detector
	PerRepo     int
	MaxBlobSize int64
	// Filter, if set, drops suppressed findings of a repository.
	Filter Suppressor
	// Verifier, if set, verifies new findings in place, and known
	// findings whose last verification was verified or unknown once
	// ReverifyAfter has passed since it (0: never again), their secrets
	// found again in the mirror.
	Verifier      Verifier
	ReverifyAfter time.Duration
	// Now is the clock of re-verification; nil is time.Now.
	Now func() time.Time
	// Log receives a line per repository swept.
	Log io.Writer
	// Progress, if set, is told as each repository starts.
	Progress Progress
	// Sources are what is read beside git history, through Client, each
	// listing up to SourcePages pages per repository (0:
	// DefaultSourcePages). Their findings are scanned by Detector and
	// kept like the blobs' ones.
	Sources     Sources
	Client      *Client
	SourcePages int
	// Wikis also mirrors and scans each repository's wiki, as its code
	// (its own state entry, owner/name.wiki). ActionsLogs also scans the
	// logs of its workflow runs of the last ActionsDays (0:
	// DefaultActionsDays), through Client, beyond the highest run id
	// scanned.
	Wikis, ActionsLogs bool
	ActionsDays        int

	fps finding.Fingerprinter
}

// Suppressor drops the suppressed findings of the repository named
// (owner/name). It is called from several repositories' goroutines at
// once.
type Suppressor interface {
	Filter(repo string, fs []finding.Finding) []finding.Finding
}

// Outcome is what sweeping one repository gave.
type Outcome struct {
	Repo Repo
	// New are the findings to deliver, built for output: those no earlier
	// sweep recorded, then those an earlier sweep recorded but did not
	// deliver (it was killed, or an output failed, before
	// State.Delivered). Once every output has them, the caller passes
	// them to State.Delivered.
	New []finding.Finding
	// Redelivered counts the findings of New that an earlier sweep
	// recorded. Unread counts those of them whose secret could not be
	// found again in the mirror when it was needed: they are delivered as
	// recorded, redacted and with the verification they had.
	Redelivered, Unread int
	// rereadErr says why the mirror could not be read for them.
	rereadErr error
	// Known are the findings earlier sweeps recorded and delivered
	// (redacted), with this sweep's verification when it verified them
	// again.
	Known []finding.Finding
	// Reverified counts the known findings verified again, Changed those
	// of them whose status changed (a key no longer live): Changed are
	// reported even with --new-only.
	Reverified int
	Changed    []finding.Finding
	Stats      scanner.Stats
	// Sources counts what the sources beside git gave.
	Sources SourceStats
	// Unchanged is set when no ref moved since the last sweep, and no
	// text of another source was scanned.
	Unchanged bool
	Err       error
}

// Run sweeps repos, Concurrency at a time, and returns an outcome for
// each, in order; a repository named more than once is swept once, and
// has one outcome, since two sweeps of a mirror and its state at once
// would trip over each other. A repository that fails does not stop the
// others; each one that completes is saved to the state before Run moves
// on, so an interrupted sweep resumes where it stopped.
func (s *Sweep) Run(ctx context.Context, repos []Repo) []Outcome {
	repos = distinct(repos)
	out := make([]Outcome, len(repos))
	var done atomic.Int64
	var logMu sync.Mutex
	sem := make(chan struct{}, max(1, s.Concurrency))
	var wg sync.WaitGroup
	for i, r := range repos {
		out[i].Repo = r
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			out[i].Err = ctx.Err()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if s.Progress != nil {
				logMu.Lock()
				s.Progress.Sweeping(int(done.Load()), len(repos), r.FullName)
				logMu.Unlock()
			}
			start := time.Now()
			if strings.HasPrefix(r.FullName, gistPrefix) {
				s.sweepGist(ctx, &out[i])
			} else {
				s.sweepOne(ctx, &out[i])
			}
			n := done.Add(1)
			logMu.Lock()
			defer logMu.Unlock()
			s.logOutcome(&out[i], int(n), len(repos), time.Since(start))
		}()
	}
	wg.Wait()
	if s.Progress != nil {
		s.Progress.Sweeping(len(repos), len(repos), "")
	}
	return out
}

// distinct returns repos without the repeats of a name (in any case).
func distinct(repos []Repo) []Repo {
	seen := make(map[string]bool, len(repos))
	out := make([]Repo, 0, len(repos))
	for _, r := range repos {
		if k := strings.ToLower(r.FullName); !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

func (s *Sweep) logOutcome(o *Outcome, n, total int, took time.Duration) {
	if s.Log == nil {
		return
	}
	prefix := fmt.Sprintf("keysweep: [%d/%d] %s: ", n, total, report.Escape(o.Repo.FullName))
	again := "" // escaped below: an error may quote the repository
	if o.Redelivered > 0 {
		again = fmt.Sprintf("; %d findings not delivered by an earlier sweep", o.Redelivered)
		if o.Unread > 0 {
			again += fmt.Sprintf(" (%d whose secret was not found again in the mirror: as recorded, not verified again", o.Unread)
			if o.rereadErr != nil {
				again += ": " + strings.Join(strings.Fields(o.rereadErr.Error()), " ")
			}
			again += ")"
		}
	}
	if o.Reverified > 0 {
		again += fmt.Sprintf("; %d known verified again, %d changed", o.Reverified, len(o.Changed))
	}
	again += sourcesLine(o.Sources)
	switch {
	case o.Err != nil:
		fmt.Fprintf(s.Log, "%sFAILED: %s\n", prefix, report.Escape(strings.Join(strings.Fields(o.Err.Error()), " ")))
	case o.Unchanged:
		fmt.Fprintf(s.Log, "%sunchanged since the last sweep%s\n", prefix, report.Escape(again))
	default:
		fmt.Fprintf(s.Log, "%s%s, %s (%s) scanned in %s; %s%s\n",
			prefix, report.Count(int64(o.Stats.Commits), "new commit"), report.Count(o.Stats.Blobs, "blob"), report.HumanBytes(o.Stats.Bytes),
			took.Round(time.Millisecond), report.Count(int64(len(o.New)-o.Redelivered), "new finding"), report.Escape(again))
	}
}

func (s *Sweep) sweepOne(ctx context.Context, o *Outcome) {
	name := o.Repo.FullName
	if !validName(name) {
		o.Err = fmt.Errorf("unusable repository name %q", name)
		return
	}
	prev, err := s.State.Load(name)
	if err != nil {
		o.Err = err
		return
	}
	// The sources beside git are read first: a repository that fails
	// there records nothing, and the next sweep reads it all again.
	src, err := s.scanSources(ctx, o.Repo)
	if err != nil {
		o.Err = err
		return
	}
	more, err := s.scanMore(ctx, o.Repo, src)
	if err != nil {
		o.Err = err
		return
	}
	src.findings = append(src.findings, more.findings...)
	o.Sources = src.stats
	dir, err := s.Mirror.Sync(ctx, o.Repo)
	if errors.Is(err, ErrEmpty) {
		o.Unchanged = len(prev.Tips) == 0 && src.stats.Texts == 0 && more.commits == 0
		s.record(ctx, o, dir, map[string]string{}, nil, src.findings, src)
		s.saveMore(o, more)
		return
	}
	if err != nil {
		o.Err = err
		return
	}
	res, err := s.scanSince(ctx, dir, prev)
	if err != nil {
		o.Err = fmt.Errorf("scan: %w", err)
		return
	}
	o.Stats = res.Stats
	o.Unchanged = !s.Full && sameTips(prev.Tips, res.Tips) && res.Stats.Commits == 0 && src.stats.Texts == 0 && more.commits == 0
	s.record(ctx, o, dir, res.Tips, res.Blobs, append(res.Findings, src.findings...), src)
	s.saveMore(o, more)
}

// scanMore reads the wiki and the workflow logs of repo, as Wikis and
// ActionsLogs ask; the logs' cursor goes with src's.
func (s *Sweep) scanMore(ctx context.Context, repo Repo, src *sourceScan) (*moreScan, error) {
	more := &moreScan{}
	if s.Wikis {
		if err := s.scanWiki(ctx, repo, more, src); err != nil {
			return nil, err
		}
	}
	if s.ActionsLogs {
		if s.Client == nil || s.Detector == nil {
			return nil, errors.New("actions logs: the sweep has no API client or no detector")
		}
		if err := s.scanActions(ctx, repo, more, src); err != nil {
			return nil, err
		}
	}
	return more, nil
}

// saveMore records the sweeps of the wiki once the repository's findings
// are saved: a sweep killed before scans the same commits again.
func (s *Sweep) saveMore(o *Outcome, more *moreScan) {
	if o.Err != nil {
		return
	}
	for _, g := range more.saves {
		if err := s.State.Save(g.name, g.tips, g.blobs, nil); err != nil {
			o.Err = err
			return
		}
	}
}

// record makes o's findings of what was found (the history's beyond the
// tips of an earlier sweep, and the other sources'), with those an earlier
// sweep left pending and those known, and saves the sweep of the
// repository: its tips and blobs and the findings first, then the other
// sources' cursors.
func (s *Sweep) record(ctx context.Context, o *Outcome, dir string, tips map[string]string, blobs []string, found []finding.Finding, src *sourceScan) {
	name := o.Repo.FullName
	if s.Filter != nil {
		found = s.Filter.Filter(name, found)
	}
	var fresh []finding.Finding
	if err := s.fps.Warm(ctx, found); err != nil {
		o.Err = err
		return
	}
	for _, f := range found {
		known, err := s.State.Known(name, s.fps.Fingerprint(f.RuleID, f.KeyID, f.Secret), f.Path)
		if err == nil && !known {
			// Recorded by a sweep from before fingerprints were hashed
			// slowly: known all the same.
			known, err = s.State.Known(name, finding.LegacyFingerprint(f.RuleID, f.KeyID, f.Secret), f.Path)
		}
		if err != nil {
			o.Err = err
			return
		}
		if !known {
			fresh = append(fresh, f)
		}
	}
	stored, err := s.deliverable(ctx, o, dir, fresh)
	if err != nil {
		o.Err = err
		return
	}
	// Known findings are read before this sweep's are saved; those still
	// pending are in o.New.
	all, err := s.State.Findings(name)
	if err != nil {
		o.Err = err
		return
	}
	pending := make(map[string]bool, o.Redelivered)
	for _, f := range o.New[len(o.New)-o.Redelivered:] {
		pending[string(findingKey(name, f.Fingerprint, f.Path))] = true
	}
	for _, f := range all {
		if !pending[string(findingKey(name, f.Fingerprint, f.Path))] {
			o.Known = append(o.Known, f)
		}
	}
	if err := s.reverify(ctx, o, dir); err != nil {
		o.Err = err
		return
	}
	if err := ctx.Err(); err != nil {
		o.Err = err // do not record a scan cut short
		return
	}
	if err := s.State.Save(name, tips, blobs, stored); err != nil {
		o.Err = err
		return
	}
	// Only now that their findings are saved: a sweep killed before
	// reads the same texts again, and skips none.
	for _, source := range sortedKeys(src.cursors) {
		if err := s.State.SetCursor(name, source, src.cursors[source]); err != nil {
			o.Err = err
			return
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sourcesLine is what the log line of a repository adds for the sources
// beside git.
func sourcesLine(st SourceStats) string {
	var parts []string
	if st.Texts > 0 {
		parts = append(parts, fmt.Sprintf("%s (%s) of the sources beside git scanned (issues, pull requests, workflow logs)", report.Count(st.Texts, "text"), report.HumanBytes(st.Bytes)))
	}
	if st.SkippedLarge > 0 {
		parts = append(parts, fmt.Sprintf("%s over %s skipped", report.Count(st.SkippedLarge, "text"), report.HumanBytes(MaxTextSize)))
	}
	if len(st.Unavailable) > 0 {
		parts = append(parts, "nothing to scan in "+strings.Join(st.Unavailable, ", "))
	}
	if len(st.Capped) > 0 {
		parts = append(parts, "cut short (the next sweep goes on): "+strings.Join(st.Capped, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// deliverable sets o.New: the fresh findings, verified, then those the
// state holds as pending (recorded by an earlier sweep, never delivered),
// their secrets found again in the mirror at dir to be verified anew, or
// shown with NoRedact. It returns the fresh findings as the state records
// them, redacted.
//
// A pending finding whose secret cannot be found again (its object is no
// longer in the mirror, or no Detector is set) is delivered as recorded:
// redacted, with the verification it had then, or, for an AWS key that
// had none while Verifier is set, an unknown one that says why.
func (s *Sweep) deliverable(ctx context.Context, o *Outcome, dir string, fresh []finding.Finding) ([]finding.Finding, error) {
	name := o.Repo.FullName
	pending, err := s.State.Pending(name)
	if err != nil {
		return nil, err
	}
	var again []finding.Finding
	unread := pending
	if len(pending) > 0 && s.Detector != nil && (s.Verifier != nil || s.NoRedact) {
		// A mirror that cannot be read fails no repository: its pending
		// findings are delivered as recorded, and logOutcome says why.
		again, unread, o.rereadErr = reread(ctx, dir, s.Detector, &s.fps, pending)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if s.Verifier != nil {
		for i := range again {
			again[i].Verification, again[i].Remediation = nil, nil
		}
		if batch := append(fresh[:len(fresh):len(fresh)], again...); len(batch) > 0 {
			s.Verifier.Process(ctx, batch)
			now := time.Now
			if s.Now != nil {
				now = s.Now
			}
			stamp(batch, now().UTC())
			fresh, again = batch[:len(fresh)], batch[len(fresh):]
		}
	}
	batch := append(fresh[:len(fresh):len(fresh)], again...)
	if err := s.fps.Fill(ctx, batch); err != nil {
		return nil, err
	}
	stored := finding.Redacted(batch[:len(fresh)], false)
	o.New = finding.Redacted(batch, s.NoRedact)
	for _, f := range unread {
		if s.Verifier != nil && f.Verification == nil && f.KeyID != "" {
			f.Verification = &finding.Verification{Status: finding.StatusUnknown, Error: "not verified: the secret was not found again in the mirror"}
		}
		o.New = append(o.New, f)
	}
	// A key in a public repository is to be taken as compromised.
	public := o.Repo.Visibility == "public"
	for _, fs := range [][]finding.Finding{stored, o.New} {
		for i := range fs {
			fs[i].Repository = name
			if fs[i].KeyID != "" {
				fs[i].Public = &public
			}
		}
	}
	o.Redelivered = len(pending)
	if s.Verifier != nil || s.NoRedact {
		o.Unread = len(unread)
	}
	return stored, nil
}

// reverify verifies again the known findings of o whose last
// verification (verified or unknown) is ReverifyAfter old, their secrets
// found again in the mirror at dir, and records the new verification.
// A finding whose secret is not found again keeps what it had.
func (s *Sweep) reverify(ctx context.Context, o *Outcome, dir string) error {
	if s.Verifier == nil || s.ReverifyAfter <= 0 || s.Detector == nil {
		return nil
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	at := now().UTC()
	var due []finding.Finding
	for _, f := range o.Known {
		if dueAgain(f.Verification, at, s.ReverifyAfter) {
			due = append(due, f)
		}
	}
	if len(due) == 0 {
		return nil
	}
	again, _, _ := reread(ctx, dir, s.Detector, &s.fps, due)
	if err := ctx.Err(); err != nil {
		return err
	}
	before := map[string]*finding.Verification{}
	for _, f := range due {
		before[f.Fingerprint+"\x00"+f.Path] = f.Verification
	}
	for i := range again {
		again[i].Verification, again[i].Remediation = nil, nil
	}
	s.Verifier.Process(ctx, again)
	stamp(again, at)
	if err := s.fps.Fill(ctx, again); err != nil {
		return err
	}
	redacted := finding.Redacted(again, false)
	byKey := map[string]finding.Finding{}
	public := o.Repo.Visibility == "public"
	for i, f := range redacted {
		f.Repository, f.Public = o.Repo.FullName, nil
		if f.KeyID != "" {
			f.Public = &public
		}
		redacted[i] = f
		byKey[f.Fingerprint+"\x00"+f.Path] = f
		if was := before[f.Fingerprint+"\x00"+f.Path]; f.Verification != nil && (was == nil || was.Status != f.Verification.Status) {
			o.Changed = append(o.Changed, f)
		}
	}
	for i, f := range o.Known {
		if g, ok := byKey[f.Fingerprint+"\x00"+f.Path]; ok {
			o.Known[i] = g
		}
	}
	o.Reverified = len(redacted)
	return s.State.Update(redacted)
}

// dueAgain reports whether a known finding's verification is to be made
// again at: it was verified or unknown, ReverifyAfter ago or more (or at
// an unknown time).
func dueAgain(v *finding.Verification, at time.Time, after time.Duration) bool {
	if v == nil || v.Status != finding.StatusVerified && v.Status != finding.StatusUnknown {
		return false
	}
	checked, err := time.Parse(time.RFC3339, v.Checked)
	return err != nil || !at.Before(checked.Add(after))
}

// stamp records when the findings were verified.
func stamp(fs []finding.Finding, at time.Time) {
	for i := range fs {
		if v := fs[i].Verification; v != nil && v.Checked == "" {
			c := *v
			c.Checked = at.Format(time.RFC3339)
			fs[i].Verification = &c
		}
	}
}

// scanSince scans the mirror at dir beyond what prev records as scanned
// (everything with Full). A swept repository's content is not trusted to
// mark its own secrets as harmless: the markers are kept, and Filter
// decides.
func (s *Sweep) scanSince(ctx context.Context, dir string, prev *RepoState) (*scanner.Result, error) {
	var since []string
	var seen func(string) bool
	if !s.Full {
		since, seen = prev.Since(), prev.Seen
	}
	return scanner.Since(ctx, dir, s.Detector, since, seen, scanner.Options{Workers: s.PerRepo, MaxBlobSize: s.MaxBlobSize, KeepMarked: true})
}

func sameTips(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Prune forgets the repositories of owner in the state (and their
// mirrors) that are no longer in listed, the organization's whole listing:
// deleted, or transferred away. Only those of shard are touched, since the
// other shards keep their own state.
func (s *Sweep) Prune(owner string, listed map[string]bool, shard Shard) ([]string, error) {
	names, err := s.State.Repos()
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, name := range names {
		o, _, _ := strings.Cut(name, "/")
		// A wiki's entry (owner/name.wiki) goes with its repository's.
		base := strings.TrimSuffix(name, ".wiki")
		if !strings.EqualFold(o, owner) || listed[strings.ToLower(base)] || !shard.Has(base) {
			continue
		}
		if err := s.State.Delete(name); err != nil {
			return gone, err
		}
		if err := s.Mirror.Remove(name); err != nil {
			return gone, err
		}
		gone = append(gone, name)
	}
	return gone, nil
}
