package scanner

import (
	"context"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// hidden is the history no ref shows that a scan takes in: the commits
// only reflogs reach, and the commits and blobs nothing reaches.
type hidden struct {
	// tips are walked with the refs' tips.
	tips []gitsrc.Tip
	// reflog and dangling are the commits reached only from reflog
	// entries, and from nothing.
	reflog, dangling map[string]bool
	// blobs lists every blob of the store, for those no walked commit
	// names to be scanned too; nil unless unreachable objects are asked
	// for. looseBlobs counts them.
	blobs      []string
	looseBlobs int
}

// findHidden lists what opts asks to scan beyond the refs.
func findHidden(ctx context.Context, repo *gitsrc.Repo, opts Options) (*hidden, error) {
	h := &hidden{}
	if opts.Reflog {
		tips, only, err := repo.Reflog(ctx)
		if err != nil {
			return nil, err
		}
		h.tips, h.reflog = append(h.tips, tips...), only
	}
	if opts.Unreachable {
		tips, commits, blobs, err := repo.Unreachable(ctx)
		if err != nil {
			return nil, err
		}
		h.tips, h.dangling, h.blobs = append(h.tips, tips...), commits, blobs
		if h.blobs == nil {
			h.blobs = []string{}
		}
	}
	return h, nil
}

// mark says, on the findings and in the counts of res, what came from
// history no ref shows.
func (h *hidden) mark(res *Result) {
	for _, c := range res.commits {
		switch {
		case h.reflog[c]:
			res.Stats.ReflogCommits++
		case h.dangling[c]:
			res.Stats.UnreachableCommits++
		}
	}
	res.Stats.UnreachableBlobs = h.looseBlobs
	for i := range res.Findings {
		f := &res.Findings[i]
		switch {
		case h.reflog[f.Commit]:
			f.Reach = finding.ReachReflog
		case h.dangling[f.Commit], f.Commit == "" && f.Source == finding.SourceBlob && h.blobs != nil:
			f.Reach = finding.ReachUnreachable
		}
	}
}
