package gitsrc

import (
	"context"
	"strings"
)

// Occurrence is a commit that puts a blob at a path.
type Occurrence struct {
	Commit string
	Path   string
}

// Occurrences returns, for each blob in blobs, every commit reachable from
// tips that adds it at a path or changes a path to it, merges included
// (compared with each parent), oldest first.
func (r *Repo) Occurrences(ctx context.Context, tips []Tip, blobs map[string]bool) (map[string][]Occurrence, error) {
	out := make(map[string][]Occurrence)
	var in strings.Builder
	for _, t := range tips {
		if t.Type == "commit" {
			in.WriteString(t.ID + "\n")
		}
	}
	if len(blobs) == 0 || in.Len() == 0 {
		return out, nil
	}
	seen := make(map[Occurrence]bool)
	err := r.changes(ctx, in.String(), false, func(string) {}, func(commit string, id, path []byte) error {
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
