package scanner

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// ErrIncomplete means the scan could not read everything it should have.
var ErrIncomplete = errors.New("scan incomplete")

// Options tune a scan.
type Options struct {
	// Workers is the number of blobs read and scanned at once; 0 means one
	// per core.
	Workers int
	// MaxBlobSize skips larger blobs (counted in Stats.SkippedLarge).
	MaxBlobSize int64
	// AllOccurrences reports a secret at every commit and path where it
	// appears, not once per (rule, secret, path) where it was introduced.
	AllOccurrences bool
	// AllowMissing scans what is present when objects are missing (a
	// partial clone) instead of failing with ErrIncomplete.
	AllowMissing bool
	// KeepMarked keeps the secrets whose line carries AllowMarker, with
	// finding.Finding.Marked set, instead of dropping them: content someone else
	// controls must not silence the scanner.
	KeepMarked bool
	// Reflog also scans the commits only reflog entries reach (reset or
	// rebased away); Unreachable also the commits and blobs nothing
	// reaches (what a history rewrite leaves until git prunes it). Git
	// only.
	Reflog, Unreachable bool
	// Since and Until keep, of the history Git or Revisions walks, the
	// commits whose commit date (the committer's) is within [Since, Until],
	// both included; a zero time leaves that side open. MaxCommits keeps at
	// most that many of them, the newest in date order; 0 keeps all.
	// Together they are the scan's window, and a window means: only the
	// blobs that the window's commits add or change are read, each secret
	// reported at the oldest commit of the window that holds it. A secret
	// added before the window is found where a commit of the window
	// changes its file (or adds it elsewhere), at that commit; a file no
	// commit of the window adds or changes is not read, whatever it holds.
	// Only the messages of the window's commits are scanned, and of the
	// annotated tags (among the refs Branches selects) that name one of
	// them; refs that point at a tree or a blob are left out.
	// Stats.TotalCommits counts the commits before the window.
	Since, Until time.Time
	MaxCommits   int
	// Branches limits Git to the history of these refs: full names
	// (refs/heads/main, refs/tags/v1, refs/remotes/origin/main, HEAD) or
	// short ones resolved as git does (a tag first, then a branch, then a
	// remote-tracking branch: main, v1, origin/main; origin for origin's
	// HEAD). A name no ref has is an error (gitsrc.ErrUnknownRef), and so
	// is one git refuses or that starts with "-" (gitsrc.CheckRefName):
	// no name reaches a git command line. Only the messages of the
	// annotated tags among them are scanned. Revisions refuses it: a range
	// names its commits itself.
	//
	// A scan with a window or Branches (a filtered scan) leaves Reflog
	// and Unreachable out: what no selected ref reaches is not its
	// history. Scans other than Git and Revisions ignore all four.
	Branches []string
	// ScanBinary scans binary content too (a NUL in the first 8,000
	// bytes) instead of skipping it: text hides behind one NUL byte.
	ScanBinary bool
	// Stage, if set, is told what the scan is doing: StageRefs,
	// StageWalk, then StageScan once the walk has listed every blob to
	// read (total of them; the scan began before, as the walk went). Git
	// only.
	Stage func(stage string, total int64)
	// Progress, if set, is called after each blob with the totals so far.
	// It is called from several goroutines.
	Progress func(blobs, bytes int64)
}

// The stages of a history scan, as Options.Stage is told them.
const (
	StageRefs = "listing refs"
	StageWalk = "walking history"
	StageScan = "scanning"
)

func (o Options) stage(stage string, total int64) {
	if o.Stage != nil {
		o.Stage(stage, total)
	}
}

// DefaultMaxBlobSize is the size above which blobs are skipped.
const DefaultMaxBlobSize = 25 << 20

// Stats says what a scan covered.
type Stats struct {
	Commits       int
	Blobs         int64 // blobs scanned
	Bytes         int64 // bytes scanned
	SkippedBinary int64
	SkippedLarge  int64
	// InlineAllowed counts secrets marked keysweep:allow on their line.
	InlineAllowed int64
	// Messages counts the commit and tag messages scanned.
	Messages int64
	// Truncated counts blobs where AWS key ids were paired within the
	// detectors' per-blob work bound (detectors.Coverage.Truncated):
	// every id is still reported.
	Truncated int64
	// Undecoded counts blobs holding encoded text the detectors did not
	// decode: their per-blob decode budget was spent.
	Undecoded int64
	// TotalCommits counts the commits of the history the scan chose (the
	// refs, Options.Branches or the range) before Options.Since, Until
	// and MaxCommits kept Commits of them: "scanned Commits of
	// TotalCommits". Without a window it equals Commits.
	TotalCommits int
	// Shallow counts the commits where a shallow clone's history stops.
	Shallow int
	// ReflogCommits and UnreachableCommits count the commits scanned that
	// only reflogs reach, and that nothing reaches; UnreachableBlobs the
	// blobs scanned that no commit names.
	ReflogCommits, UnreachableCommits, UnreachableBlobs int
	// Missing lists objects the history names that the repository lacks.
	Missing  []string
	Duration time.Duration
}

// Result is what a scan found.
type Result struct {
	Findings []finding.Finding
	Stats    Stats
	// Blobs lists the blobs an incremental scan (Push, Outgoing, Since)
	// read or skipped, so that a later scan can leave them out.
	Blobs []string
	// Tips are what the refs pointed at when Since scanned, by ref name.
	Tips map[string]string

	commits []string // the commits walked, oldest first
}

type job struct {
	gitsrc.Blob
	seq int64
}

// found is a finding and its place in the walk, lower being older: the
// order in which findings are deduplicated and reported.
type found struct {
	finding.Finding
	seq int64
}

// findingsOf drops the walk order of fs.
func findingsOf(fs []found) []finding.Finding {
	out := make([]finding.Finding, len(fs))
	for i := range fs {
		out[i] = fs[i].Finding
	}
	return out
}

// Git scans the full history of every ref of the repository at path (or
// of the refs opts.Branches names), and the messages of its commits and
// annotated tags; with opts.Reflog also the commits only reflogs reach,
// and with opts.Unreachable the commits and blobs nothing reaches (both
// only in a scan with no filter: see Options.Branches). A window
// (opts.Since, Until, MaxCommits) keeps some of the commits. Each unique
// blob is read and scanned once. With missing objects and without
// opts.AllowMissing, the result holds what was found and the error wraps
// ErrIncomplete.
func Git(ctx context.Context, path string, det Detector, opts Options) (*Result, error) {
	start := time.Now()
	opts = opts.withDefaults()
	opts.stage(StageRefs, 0)
	w := opts.window()
	if err := w.Check(); err != nil {
		return nil, err
	}
	repo, tips, err := openRefs(ctx, path)
	if err != nil {
		return nil, err
	}
	filtered := !w.IsZero() || len(opts.Branches) > 0
	if len(opts.Branches) > 0 {
		if tips, err = gitsrc.SelectRefs(tips, opts.Branches, path); err != nil {
			return nil, err
		}
	}
	if filtered {
		opts.Reflog, opts.Unreachable = false, false
	}
	h, err := findHidden(ctx, repo, opts)
	if err != nil {
		return nil, err
	}
	// The messages are read and scanned beside the blobs, once the walk
	// has listed the commits.
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan messageScan, 1)
	var walk gitsrc.WalkStats
	opts.stage(StageWalk, 0)
	c, err := scanBlobs(ctx, repo, det, opts, func(ctx context.Context, emit func(gitsrc.Blob) error) error {
		seen := make(map[string]bool)
		defer func() { opts.stage(StageScan, int64(len(seen))+int64(h.looseBlobs)) }()
		once := func(b gitsrc.Blob) error {
			if seen[b.ID] {
				return nil
			}
			seen[b.ID] = true
			return emit(b)
		}
		var err error
		if walk, err = repo.Walk(ctx, tips, nil, false, w, once); err != nil {
			return err
		}
		// History no ref shows comes after: a blob it shares with the
		// refs' history is attributed there.
		if len(h.tips) > 0 {
			var refs []string
			for _, t := range tips {
				if t.Type == "commit" {
					refs = append(refs, t.ID)
				}
			}
			more, err := repo.Walk(ctx, h.tips, refs, false, gitsrc.Window{}, once)
			if err != nil {
				return err
			}
			walk.Commits = append(walk.Commits, more.Commits...)
			walk.Missing = append(walk.Missing, more.Missing...)
		}
		var tags []string
		if filtered {
			tags = tagsIn(tips, w, walk.Commits)
		}
		go func() { msgs <- scanHistoryMessages(mctx, repo, det, opts, walk.Commits, filtered, tags) }()
		for _, id := range h.blobs {
			if !seen[id] {
				h.looseBlobs++
				if err := emit(gitsrc.Blob{ID: id}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m := <-msgs
	if m.err != nil {
		return nil, fmt.Errorf("scan commit and tag messages: %w", m.err)
	}
	c.stats.add(m.stats)
	findings := c.findings
	if opts.AllOccurrences {
		findings, err = expandOccurrences(ctx, repo, tips, w, findings)
		if err != nil {
			return nil, err
		}
	}
	findings = append(findings, m.findings(findings)...)
	if !opts.AllOccurrences {
		findings = dedupe(findings)
	}
	res, err := finish(ctx, repo, c.stats, walk, findings, start)
	if err != nil {
		return nil, err
	}
	if !w.IsZero() {
		if res.Stats.TotalCommits, err = repo.CountCommits(ctx, tips, nil, false); err != nil {
			return nil, err
		}
	}
	h.mark(res)
	if err := addExposure(ctx, repo, res.Findings); err != nil {
		return nil, err
	}
	if n := len(res.Stats.Missing); n > 0 && !opts.AllowMissing {
		return res, fmt.Errorf("%w: %d objects are missing or unreadable (a partial clone, or a damaged repository: see git fsck); rerun with --allow-missing to scan what is present", ErrIncomplete, n)
	}
	res.Stats.Duration = time.Since(start)
	return res, nil
}

// window is the window opts asks for.
func (o Options) window() gitsrc.Window {
	return gitsrc.Window{Since: o.Since, Until: o.Until, Max: o.MaxCommits}
}

// tagsIn returns the annotated tags among tips whose messages a filtered
// scan reads: with a window, those that name a commit walked.
func tagsIn(tips []gitsrc.Tip, w gitsrc.Window, walked []string) []string {
	in := make(map[string]bool, len(walked))
	for _, c := range walked {
		in[c] = true
	}
	var tags []string
	for _, t := range tips {
		if t.Tag != "" && (w.IsZero() || in[t.ID]) {
			tags = append(tags, t.Tag)
		}
	}
	return tags
}

// messageScan is what scanning a history's messages gave.
type messageScan struct {
	found []found
	stats Stats
	err   error
}

// findings returns the message findings placed after the blob findings
// given, in the order of the walk.
func (m messageScan) findings(after []found) []found {
	var last int64
	for _, f := range after {
		last = max(last, f.seq)
	}
	out := make([]found, len(m.found))
	for i, f := range m.found {
		f.seq = last + 1 + int64(i)
		out[i] = f
	}
	return out
}

// scanHistoryMessages scans the messages of commits and of every annotated
// tag the refs name (with filtered, of the tags ids only), with the tags
// they name in turn.
func scanHistoryMessages(ctx context.Context, repo *gitsrc.Repo, det Detector, opts Options, commits []string, filtered bool, ids []string) messageScan {
	var m messageScan
	if !filtered {
		var err error
		if ids, err = repo.TagObjects(ctx); err != nil {
			m.err = err
			return m
		}
	}
	tags, err := repo.TagChain(ctx, ids)
	if err != nil {
		m.err = err
		return m
	}
	m.found, m.err = scanMessages(ctx, repo, det, opts, commits, tags, &m.stats)
	return m
}

// openRefs opens the repository at path and lists what its refs point at.
func openRefs(ctx context.Context, path string) (*gitsrc.Repo, []gitsrc.Tip, error) {
	repo, err := gitsrc.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	tips, err := repo.Tips(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list refs: %w", err)
	}
	return repo, tips, nil
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.MaxBlobSize <= 0 {
		o.MaxBlobSize = DefaultMaxBlobSize
	}
	return o
}

// scanBlobs runs the worker pool over the blobs produce emits: each is
// read through one of opts.Workers git processes and scanned.
func scanBlobs(ctx context.Context, repo *gitsrc.Repo, det Detector, opts Options, produce func(context.Context, func(gitsrc.Blob) error) error) (*collector, error) {
	c := &collector{opts: opts}
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan job, 1024)
	g.Go(func() error {
		defer close(jobs)
		var seq int64
		return produce(gctx, func(b gitsrc.Blob) error {
			seq++
			select {
			case jobs <- job{b, seq}:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	for i := 0; i < opts.Workers; i++ {
		g.Go(func() error { return c.work(gctx, repo, jobs, det) })
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			// Stopped from outside: whatever a worker saw of it (git
			// killed mid-answer) says less.
			return nil, ctx.Err()
		}
		return nil, err
	}
	return c, nil
}

// finish completes a history scan's result: authors, order, what is
// missing and how long it took.
func finish(ctx context.Context, repo *gitsrc.Repo, st Stats, walk gitsrc.WalkStats, findings []found, start time.Time) (*Result, error) {
	if err := addAuthors(ctx, repo, findings); err != nil {
		return nil, err
	}
	shallow, err := repo.Shallow(ctx)
	if err != nil {
		return nil, err
	}
	st.Shallow = len(shallow)
	for i := range findings {
		findings[i].ShallowBoundary = shallow[findings[i].Commit]
	}
	sortFindings(findings)
	res := &Result{Findings: findingsOf(findings), Stats: st}
	res.Stats.Commits = len(walk.Commits)
	res.Stats.TotalCommits = len(walk.Commits)
	res.commits = walk.Commits
	// Workers find missing objects in the order they happen to read
	// them: sorted, the summary is the same from run to run.
	res.Stats.Missing = append(walk.Missing, st.Missing...)
	sort.Strings(res.Stats.Missing)
	res.Stats.Duration = time.Since(start)
	return res, nil
}

// collector gathers what the workers find.
type collector struct {
	opts     Options
	mu       sync.Mutex
	findings []found
	stats    Stats
	blobs    atomic.Int64
	bytes    atomic.Int64
}

// work reads blobs through its own git process and scans them. A helper
// goroutine queues requests ahead so that reading overlaps scanning.
func (c *collector) work(ctx context.Context, repo *gitsrc.Repo, jobs <-chan job, det Detector) (err error) {
	// A worker of its own context: on any return, cancelling it stops the
	// feeder and git, which are then waited for, so nothing outlives work.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	br, err := repo.NewBlobReader(ctx, c.opts.MaxBlobSize)
	if err != nil {
		return err
	}
	pending := make(chan job, 64)
	queueErr := make(chan error, 1)
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		defer close(pending)
		if err := feed(ctx, br, jobs, pending); err != nil {
			queueErr <- err
		}
	}()
	defer func() {
		if err != nil {
			cancel()
			<-fed
			_ = br.Close() // git was killed: its exit status says nothing new
		}
	}()
	var local []found
	var st Stats
	for j := range pending {
		content, err := br.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // git was stopped with the scan
			}
			return fmt.Errorf("read blob %s (%s): %w", j.ID, j.Path, err)
		}
		// Every blob counts toward the progress, skipped or not: the
		// total the walk gave counts them all.
		scanned := int64(0)
		switch {
		case content.NotBlob:
		case content.Missing:
			st.Missing = append(st.Missing, j.ID)
		case content.TooLarge:
			st.SkippedLarge++
		default:
			fs, err := st.scanBounded(ctx, det, c.opts, j.Path, content.Data)
			if err != nil {
				return err
			}
			for _, f := range fs {
				f.Commit, f.Blob, f.Source = j.Commit, j.ID, finding.SourceBlob
				local = append(local, found{f, j.seq})
			}
			scanned = int64(len(content.Data))
		}
		if c.opts.Progress != nil {
			c.opts.Progress(c.blobs.Add(1), c.bytes.Add(scanned))
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	<-fed
	select {
	case err := <-queueErr:
		return err
	default:
	}
	if err := br.Close(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.findings = append(c.findings, local...)
	c.stats.add(st)
	return nil
}

// feed queues each job's blob with br and passes the job on to pending.
// Requests are sent to git in batches, flushed whenever feed would
// otherwise wait, so that no request sits in a buffer while its answer is
// awaited: one write per batch instead of one per blob.
func feed(ctx context.Context, br *gitsrc.BlobReader, jobs <-chan job, pending chan<- job) error {
	for {
		var j job
		var ok bool
		select {
		case j, ok = <-jobs:
		default:
			if err := br.Flush(); err != nil {
				return err
			}
			select {
			case j, ok = <-jobs:
			case <-ctx.Done():
				return nil
			}
		}
		if !ok {
			return br.Flush()
		}
		if err := br.Queue(j.ID); err != nil {
			return err
		}
		select {
		case pending <- j:
		default:
			if err := br.Flush(); err != nil {
				return err
			}
			select {
			case pending <- j:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// dedupe keeps one finding per (rule, secret, path): the one introduced
// first in the walk.
func dedupe(fs []found) []found {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].seq < fs[j].seq })
	seen := make(map[string]bool, len(fs))
	out := fs[:0]
	for _, f := range fs {
		k := f.Identity() + "\x00" + f.Path
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}

// expandOccurrences repeats each finding at every commit (of the window
// w) and path where its blob appears.
func expandOccurrences(ctx context.Context, repo *gitsrc.Repo, tips []gitsrc.Tip, w gitsrc.Window, fs []found) ([]found, error) {
	blobs := make(map[string]bool)
	for _, f := range fs {
		if f.Commit != "" && f.Blob != "" {
			blobs[f.Blob] = true
		}
	}
	occ, err := repo.Occurrences(ctx, tips, w, blobs)
	if err != nil {
		return nil, err
	}
	var out []found
	for _, f := range fs {
		out = append(out, f)
		if f.Blob == "" {
			continue
		}
		for _, o := range occ[f.Blob] {
			if o.Commit == f.Commit && o.Path == f.Path {
				continue
			}
			g := f
			g.Commit, g.Path = o.Commit, o.Path
			out = append(out, g)
		}
	}
	return out, nil
}

// addAuthors fills in who made each finding's commit, when, and the
// commit's subject (a tag message's finding keeps the tag's own).
func addAuthors(ctx context.Context, repo *gitsrc.Repo, fs []found) error {
	seen := make(map[string]bool)
	var ids []string
	for _, f := range fs {
		if f.Commit != "" && f.Author == "" && !seen[f.Commit] {
			seen[f.Commit] = true
			ids = append(ids, f.Commit)
		}
	}
	metas, err := repo.Commits(ctx, ids)
	if err != nil {
		return fmt.Errorf("read commit authors: %w", err)
	}
	for i := range fs {
		if m, ok := metas[fs[i].Commit]; ok {
			fs[i].Author, fs[i].Email, fs[i].Date = m.Author, m.Email, m.Date
			if fs[i].Source != finding.SourceTagMessage {
				fs[i].Subject = m.Subject
			}
		}
	}
	return nil
}

// sortFindings orders findings by when they were introduced, then by place.
func sortFindings(fs []found) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.seq != b.seq {
			return a.seq < b.seq
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
