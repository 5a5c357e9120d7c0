package scanner

import (
	"context"
	"fmt"
	"time"

	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// Push scans what a push adds to the repository at path: the commits
// reachable from the updates' new ids and from no ref the repository has
// before the push, their blobs and their messages, and the messages of the
// annotated tags pushed. It is meant to run in a pre-receive hook, where
// git keeps the pushed objects in a quarantine directory that its
// environment points to; the git commands run here inherit that
// environment and so see them. Deletions add nothing; neither does a ref
// pointed at history a ref already reaches.
//
// Known means reachable from the refs, never present in the object
// store: a push can bring objects no ref reaches (git keeps them), and a
// fork network shares its stores; such objects are scanned when a later
// push makes them reachable. Each secret is reported once per (rule,
// secret, path), at the pushed commit that introduced it.
func Push(ctx context.Context, path string, det Detector, updates []gitsrc.Update, opts Options) (*Result, error) {
	start := time.Now()
	opts = opts.withDefaults()
	var tips []gitsrc.Tip
	var pushed []string
	for _, u := range updates {
		if !u.Deletes() {
			tips = append(tips, gitsrc.Tip{Ref: u.Ref, ID: u.New})
			pushed = append(pushed, u.New)
		}
	}
	repo, tips, err := openTips(ctx, path, tips)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIncomplete, err)
	}
	if repo == nil {
		return &Result{Stats: Stats{Duration: time.Since(start)}}, nil
	}
	res, err := scanAdded(ctx, repo, det, tips, nil, true, gitsrc.Window{}, nil, opts, start)
	if err != nil {
		return res, err
	}
	if err := addMessages(ctx, repo, det, opts, res, pushed); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIncomplete, err)
	}
	res.Stats.Duration = time.Since(start)
	return res, nil
}

// openTips opens the repository at path and resolves tips there; with no
// tips it returns a nil repository: there is nothing to scan.
func openTips(ctx context.Context, path string, tips []gitsrc.Tip) (*gitsrc.Repo, []gitsrc.Tip, error) {
	if len(tips) == 0 {
		return nil, nil, nil
	}
	repo, err := gitsrc.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	tips, err = repo.Resolve(ctx, tips)
	if err != nil {
		return nil, nil, err
	}
	return repo, tips, nil
}

// blobFilter keeps the blobs of a walk that need scanning.
type blobFilter func(context.Context, []gitsrc.Blob) ([]gitsrc.Blob, error)

// scanAdded scans the blobs of the commits reachable from tips and not
// from exclude (nor, with excludeRefs, from any ref) that w chooses, and
// of those only what keep (if not nil) keeps.
func scanAdded(ctx context.Context, repo *gitsrc.Repo, det Detector, tips []gitsrc.Tip, exclude []string, excludeRefs bool, w gitsrc.Window, keep blobFilter, opts Options, start time.Time) (*Result, error) {
	// The new blobs are few, so they are listed before any is read.
	var blobs []gitsrc.Blob
	walk, err := repo.Walk(ctx, tips, exclude, excludeRefs, w, func(b gitsrc.Blob) error {
		blobs = append(blobs, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if keep != nil && len(blobs) > 0 {
		if blobs, err = keep(ctx, blobs); err != nil {
			return nil, err
		}
	}
	var st Stats
	var findings []found
	if len(blobs) > 0 {
		opts.Workers = min(opts.Workers, len(blobs))
		c, err := scanBlobs(ctx, repo, det, opts, func(ctx context.Context, emit func(gitsrc.Blob) error) error {
			for _, b := range blobs {
				if err := emit(b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		st, findings = c.stats, dedupe(c.findings)
	}
	res, err := finish(ctx, repo, st, walk, findings, start)
	if err != nil {
		return nil, err
	}
	res.commits = walk.Commits
	for _, b := range blobs {
		res.Blobs = append(res.Blobs, b.ID)
	}
	if n := len(res.Stats.Missing); n > 0 {
		return res, fmt.Errorf("%w: %d objects are missing or unreadable, starting with %s", ErrIncomplete, n, res.Stats.Missing[0])
	}
	return res, nil
}

// Outgoing scans what a push from the repository at path adds to remote:
// the commits reachable from the pushed ids and neither from the remote's
// tracking refs nor from the ids the remote's refs have now (those the
// repository knows). remote is the name or URL git gives a pre-push hook.
func Outgoing(ctx context.Context, path string, det Detector, remote string, refs []gitsrc.PushRef, opts Options) (*Result, error) {
	start := time.Now()
	opts = opts.withDefaults()
	var tips []gitsrc.Tip
	var theirs []string
	for _, r := range refs {
		if !gitsrc.IsZeroID(r.LocalID) {
			tips = append(tips, gitsrc.Tip{Ref: r.RemoteRef, ID: r.LocalID})
		}
		if !gitsrc.IsZeroID(r.RemoteID) {
			theirs = append(theirs, r.RemoteID)
		}
	}
	repo, tips, err := openTips(ctx, path, tips)
	if err != nil {
		return nil, err
	}
	if repo == nil {
		return &Result{Stats: Stats{Duration: time.Since(start)}}, nil
	}
	exclude, err := repo.RemoteTips(ctx, remote)
	if err != nil {
		return nil, err
	}
	// A remote id the repository lacks (someone else pushed it) cannot be
	// named to git; its history is then not known here either.
	known, err := repo.Known(ctx, theirs)
	if err != nil {
		return nil, err
	}
	var pushed []string
	for _, id := range theirs {
		if known[id] {
			exclude = append(exclude, id)
		}
	}
	for _, r := range refs {
		if !gitsrc.IsZeroID(r.LocalID) {
			pushed = append(pushed, r.LocalID)
		}
	}
	res, err := scanAdded(ctx, repo, det, tips, exclude, false, gitsrc.Window{}, nil, opts, start)
	if err != nil {
		return res, err
	}
	if err := addMessages(ctx, repo, det, opts, res, pushed); err != nil {
		return nil, err
	}
	res.Stats.Duration = time.Since(start)
	return res, nil
}
