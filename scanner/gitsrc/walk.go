package gitsrc

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Blob is a blob of the history and where it first appears.
type Blob struct {
	ID string
	// Commit introduced the blob; "" for a blob reached from a ref that
	// points at a tree or blob rather than a commit.
	Commit string
	Path   string
}

// WalkStats counts what a walk saw.
type WalkStats struct {
	Commits int
	// Missing lists objects the history names but the repository lacks,
	// as in a partial clone.
	Missing []string
}

// Walk calls fn for every blob reachable from tips and not from the
// objects in exclude, once, in the order of the commits that introduce
// them: oldest first (parents before children, then by commit date), so
// the commit and path given are where the blob first appears. A blob first
// seen in a merge (a conflict resolution) is attributed to the merge.
// Trees and blobs that refs point at directly come last, with the ref name
// as their path.
func (r *Repo) Walk(ctx context.Context, tips []Tip, exclude []string, fn func(Blob) error) (WalkStats, error) {
	var st WalkStats
	var commits, others []Tip
	for _, t := range tips {
		if t.Type == "commit" {
			commits = append(commits, t)
		} else if t.Type == "tree" || t.Type == "blob" {
			others = append(others, t)
		}
	}
	var not strings.Builder
	for _, id := range exclude {
		not.WriteString("^" + id + "\n")
	}
	if len(commits) > 0 {
		var in strings.Builder
		for _, t := range commits {
			in.WriteString(t.ID + "\n")
		}
		in.WriteString(not.String())
		err := r.revList(ctx, in.String(), []string{"--in-commit-order", "--reverse", "--date-order"}, "", &st, fn)
		if err != nil {
			return st, err
		}
	}
	for _, t := range others {
		// Objects a commit already reached are left out by naming the
		// commits as uninteresting.
		var in strings.Builder
		in.WriteString(t.ID + "\n")
		for _, c := range commits {
			in.WriteString("^" + c.ID + "\n")
		}
		in.WriteString(not.String())
		if err := r.revList(ctx, in.String(), nil, t.Ref, &st, fn); err != nil {
			return st, err
		}
	}
	return st, nil
}

// revList runs git rev-list --objects over the objects named on stdin and
// hands each blob to fn. For a walk that starts at a tree or blob, prefix
// (the ref) is put before the paths.
func (r *Repo) revList(ctx context.Context, stdin string, extra []string, prefix string, st *WalkStats, fn func(Blob) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// No --filter=object:type=blob: with it, rev-list leaves out every
	// commit line but the tips', and blobs would be attributed to the
	// wrong commit. Trees are told apart from blobs below.
	args := append([]string{"rev-list", "--objects", "--missing=print", "--stdin"}, extra...)
	cmd := r.command(ctx, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("walk history: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("walk history: %w", err)
	}
	br := bufio.NewReaderSize(out, 1<<16)
	commit := ""
	// rev-list prints a tree just before the entries it adds, so an entry
	// is held until the next line shows whether it was a tree (the next
	// path lies under it). A tree none of whose entries are new looks like
	// a blob; the blob reader skips it by its type.
	var held *Blob
	flush := func() error {
		if held == nil {
			return nil
		}
		b := *held
		held = nil
		if b.Path == "" && prefix == "" {
			return nil // a root tree
		}
		return fn(b)
	}
	var ferr error
	for ferr == nil {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A path longer than the buffer: read the rest of the line.
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) == 0 && err != nil {
			break
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		if len(line) == 0 {
			continue
		}
		if line[0] == '?' {
			st.Missing = append(st.Missing, string(line[1:]))
			continue
		}
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			ferr = flush()
			if prefix == "" {
				commit = string(line)
				st.Commits++
			} else {
				// The object a ref names directly is printed without a path.
				held = &Blob{ID: string(line), Path: prefix}
			}
			continue
		}
		p := unquotePath(string(line[sp+1:]))
		if prefix != "" {
			if p == "" {
				p = prefix // the object the ref names
			} else {
				p = prefix + ":" + p
			}
		}
		if held != nil && (held.Path == "" && prefix == "" || strings.HasPrefix(p, held.Path+"/")) {
			held = nil // it was a tree
		} else {
			ferr = flush()
		}
		held = &Blob{ID: string(line[:sp]), Commit: commit, Path: p}
	}
	if ferr == nil {
		ferr = flush()
	}
	if ferr != nil {
		cancel()
		drain(br)
		_ = cmd.Wait()
		return ferr
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("walk history: %w", gitError("rev-list", err, stderr.Bytes()))
	}
	return nil
}

// unquotePath undoes git's C-style quoting of unusual path names, which
// newer versions of git apply to rev-list output.
func unquotePath(p string) string {
	if len(p) < 2 || p[0] != '"' || p[len(p)-1] != '"' {
		return p
	}
	if s, err := strconv.Unquote(p); err == nil {
		return s
	}
	return p
}
