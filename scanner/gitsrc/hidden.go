package gitsrc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
)

// What history no ref shows still holds: commits only a reflog reaches
// (reset or rebased away, in a local repository) and objects nothing
// reaches (what a history rewrite leaves in a server's or mirror's store
// until it is pruned).

// TagObjects returns the ids of the annotated tags refs point at.
func (r *Repo) TagObjects(ctx context.Context) ([]string, error) {
	out, err := r.output(ctx, "for-each-ref", "--format=%(objectname) %(objecttype)")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, line := range strings.Split(string(out), "\n") {
		if id, typ, ok := strings.Cut(line, " "); ok && typ == "tag" && isHexID(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Reflog returns, as tips, the commits reflog entries name, and the set of
// commits they reach that no ref reaches.
func (r *Repo) Reflog(ctx context.Context) ([]Tip, map[string]bool, error) {
	entries, err := r.commitList(ctx, "rev-list", "--stdin", "--ignore-missing", "--no-walk=unsorted", "--reflog")
	if err != nil {
		return nil, nil, fmt.Errorf("read reflogs: %w", err)
	}
	if len(entries) == 0 {
		return nil, nil, nil // a mirror, a server: no reflogs
	}
	only, err := r.commitList(ctx, "rev-list", "--stdin", "--ignore-missing", "--reflog", "--not", "--all")
	if err != nil {
		return nil, nil, fmt.Errorf("read reflogs: %w", err)
	}
	tips := make([]Tip, 0, len(entries))
	for _, id := range entries {
		tips = append(tips, Tip{Ref: "reflog", ID: id, Type: "commit"})
	}
	set := make(map[string]bool, len(only))
	for _, id := range only {
		set[id] = true
	}
	return tips, set, nil
}

// Unreachable lists what neither a ref nor a reflog reaches: the dangling
// commits, as tips, with the set of them, and every blob of the object
// store (alternates included), for the caller to leave out those the walk
// from all tips reached.
func (r *Repo) Unreachable(ctx context.Context) (tips []Tip, commits map[string]bool, blobs []string, err error) {
	reachable, err := r.commitList(ctx, "rev-list", "--stdin", "--ignore-missing", "--all", "--reflog")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list reachable commits: %w", err)
	}
	known := make(map[string]bool, len(reachable))
	for _, id := range reachable {
		known[id] = true
	}
	commits = make(map[string]bool)
	err = r.eachObject(ctx, func(id, typ string) {
		switch {
		case typ == "commit" && !known[id]:
			commits[id] = true
			tips = append(tips, Tip{Ref: "unreachable", ID: id, Type: "commit"})
		case typ == "blob":
			blobs = append(blobs, id)
		}
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list objects: %w", err)
	}
	return tips, commits, blobs, nil
}

// commitList runs a rev-list and returns the ids it prints.
func (r *Repo) commitList(ctx context.Context, args ...string) ([]string, error) {
	out, err := r.output(ctx, args...)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, f := range strings.Fields(string(out)) {
		if isHexID(f) {
			ids = append(ids, f)
		}
	}
	return ids, nil
}

// eachObject calls fn with every object of the repository's store and of
// its alternates, and its type.
func (r *Repo) eachObject(ctx context.Context, fn func(id, typ string)) error {
	cmd := r.command(ctx, "cat-file", "--batch-all-objects", "--unordered", "--batch-check=%(objectname) %(objecttype)")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if id, typ, ok := strings.Cut(sc.Text(), " "); ok && isHexID(id) {
			fn(id, typ)
		}
	}
	if err := sc.Err(); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return err
	}
	if err := cmd.Wait(); err != nil {
		return gitError("cat-file", err, stderr.Bytes())
	}
	return nil
}
