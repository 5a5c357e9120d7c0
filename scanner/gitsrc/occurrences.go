package gitsrc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
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
	cmd := r.command(ctx, "-c", "core.quotePath=false", "log", "--stdin", "--reverse", "--date-order",
		"--raw", "--no-abbrev", "-m", "--no-renames", "--format=C%H")
	cmd.Stdin = strings.NewReader(in.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("list occurrences: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("list occurrences: %w", err)
	}
	seen := make(map[Occurrence]bool)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	commit := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "C"):
			commit = line[1:]
		case strings.HasPrefix(line, ":"):
			// :old-mode new-mode old-id new-id status<TAB>path
			tab := strings.IndexByte(line, '\t')
			f := strings.Fields(line[:max(tab, 0)])
			if tab < 0 || len(f) < 5 || !blobs[f[3]] {
				continue
			}
			o := Occurrence{Commit: commit, Path: unquotePath(line[tab+1:])}
			if !seen[o] {
				seen[o] = true
				out[f[3]] = append(out[f[3]], o)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("list occurrences: %w", gitError("log", err, stderr.Bytes()))
	}
	return out, nil
}
