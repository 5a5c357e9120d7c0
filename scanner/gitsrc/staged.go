package gitsrc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
)

// StagedFile is a file whose staged content differs from HEAD's.
type StagedFile struct {
	Path string
	Blob string
	Mode string
	// Added are the line ranges the staged content adds: [first, last],
	// 1-based and inclusive.
	Added [][2]int
}

// Staged returns the files added, modified or retyped in the index
// relative to HEAD (or to nothing, before the first commit), with the
// lines each adds.
func (r *Repo) Staged(ctx context.Context) ([]StagedFile, error) {
	base := "HEAD"
	if _, err := r.output(ctx, "rev-parse", "--verify", "-q", "HEAD^{commit}"); err != nil {
		empty, err := r.output(ctx, "hash-object", "-t", "tree", "--stdin")
		if err != nil {
			return nil, fmt.Errorf("empty tree: %w", err)
		}
		base = strings.TrimSpace(string(empty))
	}
	raw, err := r.output(ctx, "diff-index", "--cached", "-z", "--no-renames", "--diff-filter=AMT", base)
	if err != nil {
		return nil, err
	}
	var files []StagedFile
	byPath := map[string]int{}
	fields := bytes.Split(raw, []byte{0})
	for i := 0; i+1 < len(fields); i += 2 {
		meta := strings.Fields(strings.TrimPrefix(string(fields[i]), ":"))
		if len(meta) < 5 {
			return nil, fmt.Errorf("git diff-index: unexpected line %q", fields[i])
		}
		byPath[string(fields[i+1])] = len(files)
		files = append(files, StagedFile{Path: string(fields[i+1]), Mode: meta[1], Blob: meta[3]})
	}
	if len(files) == 0 {
		return nil, nil
	}
	patch, err := r.output(ctx, "-c", "core.quotePath=false", "diff", "--cached", "-U0", "--no-renames", "--no-color", "--no-ext-diff",
		"--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", "--diff-filter=AMT", base)
	if err != nil {
		return nil, err
	}
	cur := -1
	sc := bufio.NewScanner(bytes.NewReader(patch))
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "diff --git "):
			cur = -1
		case strings.HasPrefix(line, "+++ "):
			p := unquotePath(strings.TrimPrefix(line, "+++ "))
			if i, ok := byPath[strings.TrimPrefix(p, "b/")]; ok && strings.HasPrefix(p, "b/") {
				cur = i
			}
		case strings.HasPrefix(line, "@@ ") && cur >= 0:
			if first, n, ok := hunkAdded(line); ok && n > 0 {
				files[cur].Added = append(files[cur].Added, [2]int{first, first + n - 1})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read staged diff: %w", err)
	}
	return files, nil
}

// hunkAdded reads the new side of a hunk header: @@ -a,b +c,d @@.
func hunkAdded(h string) (first, n int, ok bool) {
	parts := strings.Fields(h)
	if len(parts) < 3 || !strings.HasPrefix(parts[2], "+") {
		return 0, 0, false
	}
	spec := strings.TrimPrefix(parts[2], "+")
	n = 1
	if s, c, found := strings.Cut(spec, ","); found {
		spec = s
		v, err := strconv.Atoi(c)
		if err != nil {
			return 0, 0, false
		}
		n = v
	}
	first, err := strconv.Atoi(spec)
	if err != nil {
		return 0, 0, false
	}
	return first, n, true
}

// unquotePath undoes git's C-style quoting of unusual path names in a
// patch's "+++ b/path" line.
func unquotePath(p string) string {
	if len(p) < 2 || p[0] != '"' || p[len(p)-1] != '"' {
		return p
	}
	if s, err := strconv.Unquote(p); err == nil {
		return s
	}
	return p
}
