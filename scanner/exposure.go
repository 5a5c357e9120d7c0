package scanner

import (
	"context"
	"time"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// addExposure sets the exposure of each AWS finding of fs: the oldest
// commit, among all of fs, that holds its key id, and whether HEAD's
// tree still holds it.
func addExposure(ctx context.Context, repo *gitsrc.Repo, fs []finding.Finding) error {
	type oldest struct {
		at           time.Time
		date, commit string
	}
	first := make(map[string]oldest)
	var ids []string
	for _, f := range fs {
		if f.KeyID == "" {
			continue
		}
		o, seen := first[f.KeyID]
		if !seen {
			ids = append(ids, f.KeyID)
		}
		at, err := time.Parse(time.RFC3339, f.Date)
		if err == nil && f.Commit != "" && (o.commit == "" || at.Before(o.at)) {
			o = oldest{at, f.Date, f.Commit}
		}
		first[f.KeyID] = o
	}
	if len(ids) == 0 {
		return nil
	}
	// A HEAD that cannot be read whole (a partial clone) leaves the
	// answer unknown, not false, for the keys not found in what it read.
	present, err := repo.InHead(ctx, ids)
	if err != nil && ctx.Err() != nil {
		return err
	}
	for i := range fs {
		if id := fs[i].KeyID; id != "" {
			o := first[id]
			e := &finding.Exposure{Since: o.date, Commit: o.commit}
			if in := present[id]; in || err == nil {
				e.StillInHead = &in
			}
			fs[i].Exposure = e
		}
	}
	return nil
}
