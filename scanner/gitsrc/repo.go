// Package gitsrc reads a git repository through the git command line: its
// refs, the blobs its history introduces (each once, with the commit and
// path that introduced it), and blob contents.
//
// git is used rather than an in-process library because it is what keeps
// a full-history scan near the cost of reading the objects at all: on
// helm/helm (20.7k commits) `git rev-list --objects --in-commit-order`
// attributes every blob in 0.6 s where a go-git tree walk took 2.1 s, and
// git also honors partial clones, alternates and the pre-receive
// quarantine without extra work.
package gitsrc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrNotRepository is returned by Open for a path that is not a git
// repository.
var ErrNotRepository = errors.New("not a git repository")

// ErrDubiousOwnership is returned by Open for a repository git refuses to
// use because another user owns it (git's safe.directory check): the usual
// case of a checkout mounted into a CI container that runs as another user.
var ErrDubiousOwnership = errors.New("git refuses a repository another user owns")

// errNoWorkTree is returned by WorkTree for a bare repository or a git
// directory.
var errNoWorkTree = errors.New("a bare repository or a git directory, not a work tree")

// Repo is a git repository, bare or not.
type Repo struct {
	// GitDir is the absolute path of the repository's git directory.
	GitDir  string
	env     []string
	version [2]int // of the git on PATH
}

// minGit is the oldest git with rev-list --filter=object:type=blob.
var minGit = [2]int{2, 32}

// Open returns the repository at path.
func Open(ctx context.Context, path string) (*Repo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open repository %s: %w (a file, not a directory)", path, ErrNotRepository)
	}
	version, err := checkGitVersion(ctx)
	if err != nil {
		return nil, err
	}
	out, err := revParse(ctx, path, "--absolute-git-dir")
	if err != nil {
		return nil, fmt.Errorf("open repository %w", err)
	}
	r := &Repo{
		GitDir: strings.TrimSpace(out),
		// Fixed messages to parse, no prompts, and never a lazy fetch from
		// a partial clone's promisor remote (git 2.44 and later). Objects
		// are read as they are: a refs/replace/<id> ref (which anyone who
		// can push may create) must not stand in for what is scanned.
		env:     append(os.Environ(), "LC_ALL=C", "GIT_TERMINAL_PROMPT=0", "GIT_NO_LAZY_FETCH=1", "GIT_NO_REPLACE_OBJECTS=1"),
		version: version,
	}
	return r, nil
}

// checkGitVersion returns the version of the git on PATH, or why it
// will not do.
func checkGitVersion(ctx context.Context) ([2]int, error) {
	out, err := exec.CommandContext(ctx, "git", "version").Output()
	if err != nil {
		return [2]int{}, fmt.Errorf("run git: %w (keysweep needs git %d.%d or newer on PATH)", err, minGit[0], minGit[1])
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "git version ")
	parts := strings.SplitN(v, ".", 3)
	var version [2]int
	if len(parts) >= 2 {
		major, _ := strconv.Atoi(parts[0])
		minor, _ := strconv.Atoi(parts[1])
		if major < minGit[0] || major == minGit[0] && minor < minGit[1] {
			return version, fmt.Errorf("git %s is too old: keysweep needs git %d.%d or newer", v, minGit[0], minGit[1])
		}
		version = [2]int{major, minor}
	}
	return version, nil
}

// packLimits bound how much of the pack files each git process maps into
// memory. git's default (8 GiB) lets mapped packs count fully toward the
// process's resident size: on hashicorp/terraform, rev-list peaked at
// 437 MB with it and 205 MB with these limits.
var packLimits = []string{"-c", "core.packedGitLimit=64m", "-c", "core.packedGitWindowSize=16m"}

// command returns a git command run in the repository.
func (r *Repo) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append(append([]string{"--git-dir", r.GitDir}, packLimits...), args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Env = r.env
	return cmd
}

// output runs git and returns its standard output, or an error that holds
// git's own one-line reason.
func (r *Repo) output(ctx context.Context, args ...string) ([]byte, error) {
	cmd := r.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, gitError(args[0], err, stderr.Bytes())
	}
	return out, nil
}

// gitError turns a failed git command into an error with git's last
// "fatal:" or "error:" line.
func gitError(sub string, err error, stderr []byte) error {
	msg := ""
	for _, line := range strings.Split(strings.TrimSpace(string(stderr)), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "fatal:") || strings.HasPrefix(line, "error:") || msg == "" {
			msg = line
		}
	}
	if msg == "" {
		return fmt.Errorf("git %s: %w", sub, err)
	}
	return fmt.Errorf("git %s: %s", sub, msg)
}

// Tip is an object a ref points at, peeled through annotated tags.
type Tip struct {
	Ref  string
	ID   string
	Type string // commit, tree or blob
	// Tag is the annotated tag the ref names, when it names one (the
	// outermost of a tag of a tag): ID is what it peels to.
	Tag string
}

// Tips returns what every ref points at: local and remote branches, tags
// (peeled, whatever they point at), notes, HEAD (detached or not) and
// every stash entry, not only the newest.
func (r *Repo) Tips(ctx context.Context) ([]Tip, error) {
	out, err := r.output(ctx, "for-each-ref", "--format=%(objectname) %(objecttype) %(refname)")
	if err != nil {
		return nil, err
	}
	var tips []Tip
	var tags []Tip
	hasStash := false
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 {
			continue
		}
		t := Tip{ID: f[0], Type: f[1], Ref: f[2]}
		if t.Ref == "refs/stash" {
			hasStash = true
		}
		if t.Type == "tag" {
			tags = append(tags, t)
			continue
		}
		tips = append(tips, t)
	}
	if len(tags) > 0 {
		peeled, err := r.peel(ctx, tags)
		if err != nil {
			return nil, err
		}
		tips = append(tips, peeled...)
	}
	if head, err := r.output(ctx, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"); err == nil {
		tips = append(tips, Tip{Ref: "HEAD", ID: strings.TrimSpace(string(head)), Type: "commit"})
	}
	if hasStash {
		out, err := r.output(ctx, "log", "--walk-reflogs", "--format=%H", "refs/stash")
		if err != nil {
			return nil, err
		}
		for i, id := range strings.Fields(string(out)) {
			tips = append(tips, Tip{Ref: fmt.Sprintf("stash@{%d}", i), ID: id, Type: "commit"})
		}
	}
	return tips, nil
}

// peel resolves annotated tags, nested or not, to what they finally name.
func (r *Repo) peel(ctx context.Context, tags []Tip) ([]Tip, error) {
	var in bytes.Buffer
	for _, t := range tags {
		fmt.Fprintf(&in, "%s^{}\n", t.ID)
	}
	cmd := r.command(ctx, "cat-file", "--batch-check=%(objectname) %(objecttype)")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, gitError("cat-file", err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(tags) {
		return nil, fmt.Errorf("peel tags: git answered %d lines for %d tags", len(lines), len(tags))
	}
	var tips []Tip
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) != 2 || f[1] == "missing" {
			return nil, fmt.Errorf("resolve %s: object %s is missing", tags[i].Ref, tags[i].ID)
		}
		tips = append(tips, Tip{Ref: tags[i].Ref, ID: f[0], Type: f[1], Tag: tags[i].ID})
	}
	return tips, nil
}

// CommitMeta is who made a commit, when, and its subject.
type CommitMeta struct {
	Author string
	Email  string
	// Date is the author date as RFC 3339; empty when git could not read
	// one.
	Date string
	// Subject is the first line of the message (see Subject).
	Subject string
}

// maxMetaField bounds what is kept of each field git prints for a
// commit: a hostile message may be of any size, and only its first line
// is kept.
const maxMetaField = 64 << 10

// Commits returns the author, date and subject of each commit in ids.
//
// Every field is ended by NUL, which git never prints inside one: it
// reads a name, an address and a message only up to a NUL they may hold.
// The message comes last and may hold any other byte, newlines included.
func (r *Repo) Commits(ctx context.Context, ids []string) (map[string]CommitMeta, error) {
	metas := make(map[string]CommitMeta, len(ids))
	if len(ids) == 0 {
		return metas, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := r.command(ctx, "-c", "log.showSignature=false", "log", "--no-walk=unsorted", "--stdin", "-z",
		"--no-color", "--encoding=UTF-8", "--format=%H%x00%an%x00%ae%x00%aI%x00%B")
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("git log: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("git log: %w", err)
	}
	br := bufio.NewReaderSize(stdout, 1<<16)
	perr := parseCommitMetas(br, metas)
	if perr != nil {
		cancel()
		drain(br)
	}
	werr := cmd.Wait()
	switch {
	case perr != nil:
		return nil, perr
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case werr != nil:
		return nil, gitError("log", werr, stderr.Bytes())
	}
	return metas, nil
}

// parseCommitMetas reads records of five NUL-ended fields: id, author,
// email, date and message.
func parseCommitMetas(br *bufio.Reader, metas map[string]CommitMeta) error {
	var f [5][]byte
	for {
		for i := range f {
			field, err := readCapped(br, maxMetaField)
			if err == io.EOF && i == 0 && len(field) == 0 {
				return nil
			}
			if err != nil {
				return fmt.Errorf("git log: a commit's fields end early: %w", err)
			}
			f[i] = field
		}
		id := strings.TrimPrefix(string(f[0]), "\n")
		if !isHexID(id) {
			return fmt.Errorf("git log: unexpected %q where a commit id belongs", truncateName(id))
		}
		m := CommitMeta{Author: string(f[1]), Email: string(f[2]), Subject: Subject(f[4])}
		if _, err := time.Parse(time.RFC3339, string(f[3])); err == nil {
			m.Date = string(f[3])
		}
		metas[id] = m
	}
}

// readCapped reads up to the next NUL, which it drops, and returns at
// most the first limit bytes of what came before it. A field that ends
// the input without a NUL is an error.
func readCapped(br *bufio.Reader, limit int) ([]byte, error) {
	var out []byte
	for {
		b, err := br.ReadSlice(0)
		if err == nil {
			b = b[:len(b)-1] // the NUL
		}
		if room := limit - len(out); room > 0 {
			out = append(out, b[:min(len(b), room)]...)
		}
		switch {
		case err == nil:
			return out, nil
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(out) == 0 && len(b) == 0:
			return nil, io.EOF
		case err == io.EOF:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// MaxSubject is the most bytes Subject keeps.
const MaxSubject = 200

// Subject returns the subject of a commit or tag message: its first line
// that is not blank, without the line end and trailing blanks, cut at a
// NUL (where git stops reading a message) and clipped to MaxSubject bytes
// on a character boundary (an invalid byte counts as one character).
// Every other byte is kept as it is, control characters included: text
// output escapes them.
func Subject(msg []byte) string {
	if i := bytes.IndexByte(msg, 0); i >= 0 {
		msg = msg[:i]
	}
	for len(msg) > 0 {
		line, rest, _ := bytes.Cut(msg, []byte{'\n'})
		if line = bytes.TrimRight(line, " \t\r\v\f"); len(line) > 0 {
			msg = line
			break
		}
		msg = rest
	}
	n := 0
	for n < len(msg) {
		_, size := utf8.DecodeRune(msg[n:])
		if n+size > MaxSubject {
			break
		}
		n += size
	}
	return string(msg[:n])
}

// drain discards the rest of a reader so that a child process can exit.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, r) }

// RevFile returns the content of file name at rev (such as HEAD), and
// false when rev or the file does not exist there.
func (r *Repo) RevFile(ctx context.Context, rev, name string) ([]byte, bool, error) {
	cmd := r.command(ctx, "cat-file", "-e", rev+":"+name)
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("git cat-file: %w", err)
	}
	out, err := r.output(ctx, "cat-file", "blob", rev+":"+name)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// WorkTree returns the top directory of the work tree that holds dir.
func WorkTree(ctx context.Context, dir string) (string, error) {
	out, err := revParse(ctx, dir, "--show-toplevel")
	switch {
	case errors.Is(err, ErrNotRepository):
		return "", fmt.Errorf("%w (or a bare repository: staged changes need a work tree)", err)
	case errors.Is(err, errNoWorkTree):
		return "", fmt.Errorf("%w: staged changes need one", err)
	case err != nil:
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// HooksDir returns the directory git runs the hooks of the repository at
// dir from (core.hooksPath honored), and whether the repository is bare.
func HooksDir(ctx context.Context, dir string) (string, bool, error) {
	out, err := revParse(ctx, dir, "--is-bare-repository", "--git-path", "hooks")
	if err != nil {
		return "", false, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		return "", false, fmt.Errorf("%s: git rev-parse answered %q", dir, out)
	}
	hooks := lines[1]
	if !filepath.IsAbs(hooks) {
		hooks = filepath.Join(dir, hooks)
	}
	return hooks, lines[0] == "true", nil
}

// revParse runs git rev-parse in dir, a path that may not be a repository
// at all, and returns its output.
func revParse(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir, "rev-parse"}, args...)...)
	// git's refusals are parsed: in English.
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", revParseError(dir, err, stderr.Bytes())
	}
	return string(out), nil
}

// revParseError says why git rev-parse failed in dir: not a repository,
// a repository git does not trust (with git's reason and the command that
// makes git trust it), or git's own last error line.
func revParseError(dir string, err error, stderr []byte) error {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("%s: run git: %w", dir, err)
	}
	var reason, trust string
	for _, line := range strings.Split(string(stderr), "\n") {
		line = strings.TrimSpace(line)
		if r, ok := strings.CutPrefix(line, "fatal: "); ok && strings.Contains(r, "dubious ownership") {
			reason = r
		}
		if p, ok := strings.CutPrefix(line, "git config --global --add safe.directory "); ok {
			trust = p
			if !strings.HasPrefix(p, "'") {
				trust = shellQuote(p)
			}
		}
	}
	switch {
	case reason != "":
		if trust == "" {
			// git names the directory it refuses: "... at '<path>'".
			if _, at, ok := strings.Cut(reason, " at '"); ok {
				trust = shellQuote(strings.TrimSuffix(at, "'"))
			} else {
				abs, _ := filepath.Abs(dir)
				trust = shellQuote(abs)
			}
		}
		return fmt.Errorf("%s: %w (%s): if you trust it, run: git config --global --add safe.directory %s", dir, ErrDubiousOwnership, reason, trust)
	case bytes.Contains(stderr, []byte("not a git repository")):
		return fmt.Errorf("%s: %w", dir, ErrNotRepository)
	case bytes.Contains(stderr, []byte("must be run in a work tree")):
		return fmt.Errorf("%s: %w", dir, errNoWorkTree)
	}
	return fmt.Errorf("%s: %w", dir, gitError("rev-parse", err, stderr))
}

// shellQuote quotes s for a POSIX shell, when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
