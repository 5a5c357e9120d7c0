package scanner

import (
	"context"
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
	res, err := scanAdded(ctx, repo, det, tips, exclude, false, keep, opts, start)
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
// revision each; base may be empty), as a CI job scans a push or a pull
// request: each secret at the commit of the range that introduced it.
func Range(ctx context.Context, path string, det Detector, base, head string, opts Options) (*Result, error) {
	start := time.Now()
	opts = opts.withDefaults()
	repo, err := gitsrc.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	tip, err := repo.Commit(ctx, head)
	if err != nil {
		return nil, err
	}
	var exclude []string
	if base != "" {
		id, err := repo.Commit(ctx, base)
		if err != nil {
			return nil, err
		}
		exclude = append(exclude, id)
	}
	res, err := scanAdded(ctx, repo, det, []gitsrc.Tip{{Ref: head, ID: tip, Type: "commit"}}, exclude, false, nil, opts, start)
	if err != nil {
		return res, err
	}
	if err := addMessages(ctx, repo, det, opts, res, nil); err != nil {
		return nil, err
	}
	res.Stats.Duration = time.Since(start)
	return res, nil
}
