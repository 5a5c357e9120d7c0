package scanner

import (
	"context"
	"errors"
	"time"

	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// Since scans what the refs of the repository at path reach beyond the
// commits in since (tips of an earlier scan), skipping the blobs for which
// seen returns true. Ids in since that the repository no longer has (a
// force-pushed branch, after git gc) are ignored. With since empty and
// seen nil it scans the whole history, like Git. Result.Blobs lists the
// blobs it covered, for the next scan's seen.
func Since(ctx context.Context, path string, det Detector, since []string, seen func(id string) bool, opts Options) (*Result, error) {
	start := time.Now()
	opts = opts.withDefaults()
	repo, tips, err := openRefs(ctx, path)
	if err != nil {
		return nil, err
	}
	present, err := repo.Known(ctx, since)
	if err != nil {
		return nil, err
	}
	var exclude []string
	for _, id := range since {
		if present[id] {
			exclude = append(exclude, id)
		}
	}
	var keep blobFilter
	if seen != nil {
		keep = func(_ context.Context, blobs []gitsrc.Blob) ([]gitsrc.Blob, error) {
			out := blobs[:0]
			for _, b := range blobs {
				if !seen(b.ID) {
					out = append(out, b)
				}
			}
			return out, nil
		}
	}
	res, err := scanAdded(ctx, repo, det, tips, exclude, false, gitsrc.Window{}, keep, opts, start)
	if err != nil {
		return res, err
	}
	// Every annotated tag: few, and a secret in one is found again only
	// as known.
	tags, err := repo.TagObjects(ctx)
	if err != nil {
		return nil, err
	}
	if err := addMessages(ctx, repo, det, opts, res, tags); err != nil {
		return nil, err
	}
	if err := addExposure(ctx, repo, res.Findings); err != nil {
		return nil, err
	}
	res.Stats.Duration = time.Since(start)
	res.Tips = make(map[string]string, len(tips))
	for _, t := range tips {
		res.Tips[t.Ref] = t.ID
	}
	return res, nil
}

// Range scans the commits reachable from head and not from base (a
// revision each; base may be empty): Revisions of base..head.
func Range(ctx context.Context, path string, det Detector, base, head string, opts Options) (*Result, error) {
	return Revisions(ctx, path, det, gitsrc.Range{Base: base, Head: head}, opts)
}

// Revisions scans the commits of rng, as a CI job scans a push or a pull
// request: each secret at the commit of the range that introduced it.
// rng.Base may be empty: the history of rng.Head. With rng.Symmetric,
// the commits either side reaches and not both (git's A...B). A window
// (opts.Since, Until, MaxCommits) keeps some of the range's commits;
// opts.Branches is refused.
func Revisions(ctx context.Context, path string, det Detector, rng gitsrc.Range, opts Options) (*Result, error) {
	start := time.Now()
	opts = opts.withDefaults()
	if len(opts.Branches) > 0 {
		return nil, errors.New("a range and branches both choose the commits to scan: give one or the other")
	}
	w := opts.window()
	if err := w.Check(); err != nil {
		return nil, err
	}
	repo, err := gitsrc.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	tip, err := repo.Commit(ctx, rng.Head)
	if err != nil {
		return nil, err
	}
	tips := []gitsrc.Tip{{Ref: rng.Head, ID: tip, Type: "commit"}}
	var exclude []string
	if rng.Base != "" {
		id, err := repo.Commit(ctx, rng.Base)
		if err != nil {
			return nil, err
		}
		if rng.Symmetric {
			tips = append(tips, gitsrc.Tip{Ref: rng.Base, ID: id, Type: "commit"})
			if exclude, err = repo.MergeBases(ctx, id, tip); err != nil {
				return nil, err
			}
		} else {
			exclude = append(exclude, id)
		}
	}
	res, err := scanAdded(ctx, repo, det, tips, exclude, false, w, nil, opts, start)
	if err != nil {
		return res, err
	}
	if !w.IsZero() {
		if res.Stats.TotalCommits, err = repo.CountCommits(ctx, tips, exclude, false); err != nil {
			return nil, err
		}
	}
	if err := addMessages(ctx, repo, det, opts, res, nil); err != nil {
		return nil, err
	}
	res.Stats.Duration = time.Since(start)
	return res, nil
}
