package gitsrc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
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
// as their path, unless w is set: they have no date.
//
// w chooses among the commits (see Window): only the blobs the chosen
// commits add or change are listed, each at the oldest chosen commit that
// does.
//
// Everything is learnt from git in a form no name can forge: the commits
// from rev-list, then each commit's changes from diff-tree with
// NUL-terminated paths (a path may hold a newline, a quote or anything
// but NUL), and types from the tree entries' modes, never from how names
// look.
func (r *Repo) Walk(ctx context.Context, tips []Tip, exclude []string, excludeRefs bool, w Window, fn func(Blob) error) (WalkStats, error) {
	var st WalkStats
	var commits, others []Tip
	for _, t := range tips {
		if t.Type == "commit" {
			commits = append(commits, t)
		} else if (t.Type == "tree" || t.Type == "blob") && w.IsZero() {
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
		err := r.changes(ctx, revs(commits, exclude), excludeRefs, w, func(commit string) {
			st.Commits = append(st.Commits, commit)
		}, func(commit string, id, path []byte) error {
			if seen[string(id)] {
				return nil
			}
			return emit(Blob{ID: string(id), Commit: commit, Path: string(path)})
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
// to exclude) that w chooses, oldest first, and for each the blobs it adds or changes:
// compared with its parent, or for a merge, those that differ from every
// parent (what no parent had there: a conflict resolution).
func (r *Repo) changes(ctx context.Context, revs string, excludeRefs bool, w Window, commit func(string), fn func(commit string, id, path []byte) error) error {
	window, err := r.windowArgs(w)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// One process lists the commits and diffs each (a rev-list piped to
	// diff-tree costs a third more). Only ids and raw entries are printed,
	// whatever the user's log configuration.
	args := []string{"-c", "log.showRoot=true", "-c", "log.showSignature=false", "log", "--stdin",
		"--reverse", "--date-order", "-c", "--raw", "-z", "--no-renames", "--no-abbrev", "--no-color",
		"--no-mailmap", "--no-decorate", "--format=%H"}
	args = append(args, window...)
	if excludeRefs {
		// Revisions read from stdin are not affected by --not.
		args = append(args, "--not", "--all")
	}
	cmd := r.command(ctx, args...)
	cmd.Stdin = strings.NewReader(revs)
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
	ferr := ParseDiffTree(br, commit, fn)
	if ferr != nil {
		cancel()
		drain(br)
	}
	werr := cmd.Wait()
	switch {
	case ferr != nil:
		return ferr
	case ctx.Err() != nil:
		return ctx.Err()
	case werr != nil:
		return fmt.Errorf("walk history: %w", gitError("log", werr, stderr.Bytes()))
	}
	return nil
}

// ParseDiffTree reads the output of `git log --raw -z -c --no-renames
// --format=%H` (or of `git diff-tree --stdin -r -z -c --root`): each
// commit's id, then for each path it adds or changes a raw entry and the
// path, every field ended by NUL (git log puts an empty field between
// commits, and a line break before a commit's first entry). An entry is ":<old mode> <new mode> <old id> <new id> <status>", or for a
// merge of n parents n colons, n+1 modes, n+1 ids (the last the merge's
// own) and n status letters. commit is called once for each commit; fn
// for each blob put at a path, with bytes valid only during the call.
// Submodules (gitlinks), trees and deletions are left out.
func ParseDiffTree(r *bufio.Reader, commit func(string), fn func(commit string, id, path []byte) error) error {
	cur := ""
	var idBuf [64]byte
	for {
		field, err := readField(r)
		if err == io.EOF && len(field) == 0 {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("walk history: %w", err)
		}
		if len(field) > 0 && field[0] == '\n' {
			field = field[1:]
		}
		if len(field) == 0 {
			continue
		}
		if field[0] != ':' {
			if !isHexID(field) {
				return fmt.Errorf("walk history: git diff-tree: unexpected %q", truncateName(string(field)))
			}
			if string(field) != cur {
				cur = string(field)
				commit(cur)
			}
			continue
		}
		mode, id, ok := rawEntry(field)
		if !ok || cur == "" {
			return fmt.Errorf("walk history: git diff-tree: unexpected entry %q", truncateName(string(field)))
		}
		// Deleted, a submodule, or not a blob: its path is read and
		// passed over. field's bytes are valid only until the next read.
		blob := isBlobMode(mode) && !isZeroHex(id)
		if blob {
			id = idBuf[:copy(idBuf[:], id)]
		}
		path, perr := readField(r)
		if perr != nil && !(perr == io.EOF && len(path) > 0) {
			return fmt.Errorf("walk history: git diff-tree: an entry has no path")
		}
		if !blob {
			continue
		}
		if err := fn(cur, id, path); err != nil {
			return err
		}
	}
}

// rawEntry reads the new mode and id of a raw diff entry (plain or
// combined), without allocating.
func rawEntry(field []byte) (mode, id []byte, ok bool) {
	n := 0
	for n < len(field) && field[n] == ':' {
		n++
	}
	// n parents: n+1 modes, n+1 ids, then the status.
	f := bytes.Fields(field[n:])
	if len(f) != 2*(n+1)+1 {
		return nil, nil, false
	}
	mode, id = f[n], f[2*n+1]
	if !isHexID(id) {
		return nil, nil, false
	}
	return mode, id, true
}

// readField reads up to the next NUL, which it drops. The bytes are valid
// until the next read.
func readField(r *bufio.Reader) ([]byte, error) {
	b, err := r.ReadSlice(0)
	if err == bufio.ErrBufferFull {
		// A path longer than the buffer.
		long := append([]byte(nil), b...)
		for err == bufio.ErrBufferFull {
			b, err = r.ReadSlice(0)
			long = append(long, b...)
		}
		b = long
	}
	if len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b, err
}

// isBlobMode reports whether a tree entry's mode is a file's or a
// symbolic link's: a blob.
func isBlobMode(mode []byte) bool {
	switch string(mode) {
	case "100644", "100755", "120000", "100664":
		return true
	}
	return false
}

func isHexID[T string | []byte](s T) bool {
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

func isZeroHex(s []byte) bool { return len(bytes.Trim(s, "0")) == 0 }

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
		if f[1] != "blob" || !isBlobMode([]byte(f[0])) {
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

// Shallow returns the commits at which a shallow clone's history stops
// (their parents were not fetched), by id; none for a full clone.
func (r *Repo) Shallow(ctx context.Context) (map[string]bool, error) {
	out, err := r.output(ctx, "rev-parse", "--git-path", "shallow")
	if err != nil {
		return nil, err
	}
	p := strings.TrimSpace(string(out))
	if !filepath.IsAbs(p) {
		if p, err = filepath.Abs(p); err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the shallow boundary: %w", err)
	}
	ids := make(map[string]bool)
	for _, id := range strings.Fields(string(data)) {
		if isHexID(id) {
			ids[id] = true
		}
	}
	return ids, nil
}
