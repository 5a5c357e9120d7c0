package gitsrc

import (
	"context"
)

// Occurrence is a commit that puts a blob at a path.
type Occurrence struct {
	Commit string
	Path   string
}

// Occurrences returns, for each blob in blobs, every commit reachable from
// tips and chosen by w that adds it at a path or changes a path to it,
// merges included (compared with each parent), oldest first.
func (r *Repo) Occurrences(ctx context.Context, tips []Tip, w Window, blobs map[string]bool) (map[string][]Occurrence, error) {
	out := make(map[string][]Occurrence)
	in := revs(tips, nil)
	if len(blobs) == 0 || in == "" {
		return out, nil
	}
	seen := make(map[Occurrence]bool)
	err := r.changes(ctx, in, false, w, func(string) {}, func(commit string, id, path []byte) error {
		if !blobs[string(id)] {
			return nil
		}
		o := Occurrence{Commit: commit, Path: string(path)}
		if !seen[o] {
			seen[o] = true
			out[string(id)] = append(out[string(id)], o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
