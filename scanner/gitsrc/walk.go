package gitsrc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
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
	// Commits lists the commits walked, oldest first.
	Commits []string
	// Missing lists objects the history names but the repository lacks,
	// as in a partial clone.
	Missing []string
}

// Walk calls fn for every blob reachable from tips and not from the
// commits in exclude (nor, with excludeRefs, from any ref of the
// repository), once, in the order of the commits that introduce them:
// oldest first (parents before children, then by commit date), so the
// commit and path given are where the blob first appears. A blob first
// seen in a merge (a conflict resolution) is attributed to the merge.
// Trees and blobs that refs point at directly come last, with the ref name
// as their path.
//
// Everything is learnt from git in a form no name can forge: the commits
// from rev-list, then each commit's changes from diff-tree with
// NUL-terminated paths (a path may hold a newline, a quote or anything
// but NUL), and types from the tree entries' modes, never from how names
// look.
func (r *Repo) Walk(ctx context.Context, tips []Tip, exclude []string, excludeRefs bool, fn func(Blob) error) (WalkStats, error) {
	var st WalkStats
	var commits, others []Tip
	for _, t := range tips {
		if t.Type == "commit" {
			commits = append(commits, t)
		} else if t.Type == "tree" || t.Type == "blob" {
			others = append(others, t)
		}
	}
	seen := make(map[string]bool)
	emit := func(b Blob) error {
		if seen[b.ID] {
			return nil
		}
		seen[b.ID] = true
		return fn(b)
	}
	if len(commits) > 0 {
		var in strings.Builder
		for _, t := range commits {
			in.WriteString(t.ID + "\n")
		}
		for _, id := range exclude {
			in.WriteString("^" + id + "\n")
		}
		err := r.changes(ctx, in.String(), excludeRefs, func(commit string) {
			st.Commits = append(st.Commits, commit)
		}, func(commit string, c Change) error {
			return emit(Blob{ID: c.ID, Commit: commit, Path: c.Path})
		})
		if err != nil {
			return st, err
		}
	}
	for _, t := range others {
		if t.Type == "blob" {
			if err := emit(Blob{ID: t.ID, Path: t.Ref}); err != nil {
				return st, err
			}
			continue
		}
		err := r.treeBlobs(ctx, t.ID, func(id, path string) error {
			return emit(Blob{ID: id, Path: t.Ref + ":" + path})
		})
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// Change is a blob a commit puts at a path, compared with a parent.
type Change struct {
	ID   string
	Path string
}

// changes lists the commits named on stdin (rev-list syntax: ids, and ^id
// to exclude) oldest first, and for each the blobs it adds or changes,
// compared with each parent (merges included), through commit and fn.
func (r *Repo) changes(ctx context.Context, revs string, excludeRefs bool, commit func(string), fn func(string, Change) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	args := []string{"rev-list", "--reverse", "--date-order", "--stdin"}
	if excludeRefs {
		// Revisions read from stdin are not affected by --not.
		args = append(args, "--not", "--all")
	}
	list := r.command(ctx, args...)
	list.Stdin = strings.NewReader(revs)
	var listErr bytes.Buffer
	list.Stderr = &listErr
	ids, err := list.StdoutPipe()
	if err != nil {
		return fmt.Errorf("walk history: %w", err)
	}
	// --always: a commit that changes nothing is still named, and counted.
	diff := r.command(ctx, "diff-tree", "--stdin", "-r", "-z", "-m", "--root", "--always", "--no-renames", "--no-abbrev")
	diff.Stdin = ids
	var diffErr bytes.Buffer
	diff.Stderr = &diffErr
	out, err := diff.StdoutPipe()
	if err != nil {
		return fmt.Errorf("walk history: %w", err)
	}
	if err := list.Start(); err != nil {
		return fmt.Errorf("walk history: %w", err)
	}
	if err := diff.Start(); err != nil {
		cancel()
		_ = list.Wait()
		return fmt.Errorf("walk history: %w", err)
	}
	br := bufio.NewReaderSize(out, 1<<16)
	ferr := ParseDiffTree(br, commit, fn)
	if ferr != nil {
		cancel()
		drain(br)
	}
	derr := diff.Wait()
	lerr := list.Wait()
	switch {
	case ferr != nil:
		return ferr
	case ctx.Err() != nil:
		return ctx.Err()
	case lerr != nil:
		return fmt.Errorf("walk history: %w", gitError("rev-list", lerr, listErr.Bytes()))
	case derr != nil:
		return fmt.Errorf("walk history: %w", gitError("diff-tree", derr, diffErr.Bytes()))
	}
	return nil
}

// ParseDiffTree reads the output of `git diff-tree --stdin -r -z -m
// --root --always --no-renames`: each commit's id, then for each path it
// adds or changes ":<old mode> <new mode> <old id> <new id> <status>" and
// the path, every field ended by NUL. commit is called once for each
// commit (a merge's id comes once per parent); fn for each blob put at a
// path. Submodules (gitlinks) and deletions are left out.
func ParseDiffTree(r *bufio.Reader, commit func(string), fn func(string, Change) error) error {
	cur := ""
	for {
		field, err := readField(r)
		if err == io.EOF && field == "" {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("walk history: %w", err)
		}
		if field == "" {
			continue
		}
		if field[0] != ':' {
			if !isHexID(field) {
				return fmt.Errorf("walk history: git diff-tree: unexpected %q", truncateName(field))
			}
			if field != cur {
				cur = field
				commit(cur)
			}
			continue
		}
		path, perr := readField(r)
		if perr != nil && !(perr == io.EOF && path != "") {
			return fmt.Errorf("walk history: git diff-tree: entry %q has no path", truncateName(field))
		}
		// ":100644 100644 <old> <new> M"
		f := strings.Fields(field[1:])
		if len(f) != 5 || !isHexID(f[3]) || cur == "" {
			return fmt.Errorf("walk history: git diff-tree: unexpected entry %q", truncateName(field))
		}
		if !isBlobMode(f[1]) || isZeroHex(f[3]) {
			continue // deleted, a submodule, or not a blob
		}
		if err := fn(cur, Change{ID: f[3], Path: path}); err != nil {
			return err
		}
	}
}

// readField reads up to the next NUL, which it drops.
func readField(r *bufio.Reader) (string, error) {
	b, err := r.ReadBytes(0)
	if len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return string(b), err
}

// isBlobMode reports whether a tree entry's mode is a file's or a
// symbolic link's: a blob.
func isBlobMode(mode string) bool {
	return mode == "100644" || mode == "100755" || mode == "120000" || mode == "100664"
}

func isHexID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isZeroHex(s string) bool { return strings.Trim(s, "0") == "" }

func truncateName(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

// treeBlobs calls fn for every blob under the tree id, with its path.
func (r *Repo) treeBlobs(ctx context.Context, id string, fn func(id, path string) error) error {
	out, err := r.output(ctx, "ls-tree", "-r", "-z", "--full-tree", id)
	if err != nil {
		return fmt.Errorf("walk tree %s: %w", id, err)
	}
	return ParseLsTree(out, fn)
}

// ParseLsTree reads `git ls-tree -r -z` output: "<mode> <type> <id>\t<path>"
// entries ended by NUL, and calls fn for each blob.
func ParseLsTree(out []byte, fn func(id, path string) error) error {
	for len(out) > 0 {
		entry, rest, _ := bytes.Cut(out, []byte{0})
		out = rest
		if len(entry) == 0 {
			continue
		}
		meta, path, ok := bytes.Cut(entry, []byte{'\t'})
		f := strings.Fields(string(meta))
		if !ok || len(f) != 3 || !isHexID(f[2]) {
			return fmt.Errorf("git ls-tree: unexpected entry %q", truncateName(string(entry)))
		}
		if f[1] != "blob" || !isBlobMode(f[0]) {
			continue
		}
		if err := fn(f[2], string(path)); err != nil {
			return err
		}
	}
	return nil
}

// Object is a commit or tag object's id and type, and its raw content.
type Object struct {
	ID, Type string
	Data     []byte
}

// Objects reads the objects ids name, whole, and calls fn for each that
// the repository has. It is meant for commits and tags, which are small.
func (r *Repo) Objects(ctx context.Context, ids []string, fn func(Object) error) error {
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := r.command(ctx, "cat-file", "--batch")
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("read objects: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("read objects: %w", err)
	}
	br := bufio.NewReaderSize(stdout, 1<<16)
	ferr := readObjects(br, fn)
	if ferr != nil {
		cancel()
		drain(br)
	}
	werr := cmd.Wait()
	if ferr != nil {
		return ferr
	}
	if werr != nil {
		var ee *exec.ExitError
		if errors.As(werr, &ee) || ctx.Err() == nil {
			return fmt.Errorf("read objects: %w", gitError("cat-file", werr, stderr.Bytes()))
		}
		return ctx.Err()
	}
	return nil
}

func readObjects(br *bufio.Reader, fn func(Object) error) error {
	for {
		header, err := br.ReadString('\n')
		if err == io.EOF && header == "" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read objects: %w", err)
		}
		f := strings.Fields(header)
		if len(f) == 2 && f[1] == "missing" {
			continue
		}
		if len(f) != 3 {
			return fmt.Errorf("read objects: unexpected header %q", strings.TrimSpace(header))
		}
		size, err := strconv.Atoi(f[2])
		if err != nil || size < 0 {
			return fmt.Errorf("read objects: bad size in %q", strings.TrimSpace(header))
		}
		data := make([]byte, size+1)
		if _, err := io.ReadFull(br, data); err != nil {
			return fmt.Errorf("read object %s: %w", f[0], err)
		}
		if err := fn(Object{ID: f[0], Type: f[1], Data: data[:size]}); err != nil {
			return err
		}
	}
}

// maxTagDepth bounds how many annotated tags deep TagChain follows a tag
// that names a tag.
const maxTagDepth = 16

// TagChain returns the annotated tag objects among ids, and the tags they
// name in turn: every tag a push of refs to ids brings.
func (r *Repo) TagChain(ctx context.Context, ids []string) ([]Object, error) {
	var tags []Object
	seen := make(map[string]bool)
	for depth := 0; len(ids) > 0 && depth < maxTagDepth; depth++ {
		var next []string
		err := r.Objects(ctx, ids, func(o Object) error {
			if o.Type != "tag" || seen[o.ID] {
				return nil
			}
			seen[o.ID] = true
			tags = append(tags, o)
			if obj, typ := tagTarget(o.Data); typ == "tag" {
				next = append(next, obj)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		ids = next
	}
	return tags, nil
}

// tagTarget reads the object a raw tag names, and its type, from the
// tag's headers.
func tagTarget(raw []byte) (id, typ string) {
	head, _, _ := bytes.Cut(raw, []byte("\n\n"))
	for _, line := range strings.Split(string(head), "\n") {
		if v, ok := strings.CutPrefix(line, "object "); ok && id == "" {
			id = v
		} else if v, ok := strings.CutPrefix(line, "type "); ok && typ == "" {
			typ = v
		}
	}
	if !isHexID(id) {
		return "", ""
	}
	return id, typ
}
