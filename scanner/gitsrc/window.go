package gitsrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Window chooses among the commits a walk reaches: those whose commit
// date (the committer's, as git's --since and --until read it) lies
// within [Since, Until], and of those the Max newest in date order. The
// zero Window chooses every commit.
//
// A commit outside the window is not walked at all: the blobs it adds are
// not listed, and a blob a commit inside adds is listed at that commit even
// if an older commit, outside, added it first. A file no commit of the
// window adds or changes is not listed, whatever it holds.
type Window struct {
	// Since and Until bound the commit date, both included; a zero time
	// leaves that side open.
	Since, Until time.Time
	// Max keeps at most the Max newest commits (in date order) of those
	// the dates keep; 0 keeps all.
	Max int
}

// sinceAsFilter is the first git with --since-as-filter.
var sinceAsFilter = [2]int{2, 37}

// maxWindowDate is the latest date a window may name: git's dates end
// with year 9999.
var maxWindowDate = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// IsZero reports whether w chooses every commit.
func (w Window) IsZero() bool { return w.Since.IsZero() && w.Until.IsZero() && w.Max == 0 }

// Check says why w cannot be used, in words for the user.
func (w Window) Check() error {
	switch {
	case w.Max < 0:
		return fmt.Errorf("at most %d commits: want 0 (all) or more", w.Max)
	case !w.Since.IsZero() && w.Since.After(maxWindowDate):
		return fmt.Errorf("since %s: after the year 9999", w.Since.UTC().Format(time.RFC3339))
	case !w.Until.IsZero() && w.Until.After(maxWindowDate):
		return fmt.Errorf("until %s: after the year 9999", w.Until.UTC().Format(time.RFC3339))
	case !w.Until.IsZero() && w.Until.Unix() < 0:
		return fmt.Errorf("until %s: before 1970, when git's dates start", w.Until.UTC().Format(time.RFC3339))
	case !w.Since.IsZero() && !w.Until.IsZero() && w.Until.Before(w.Since):
		return fmt.Errorf("until %s is before since %s: no commit can be in between", w.Until.UTC().Format(time.RFC3339), w.Since.UTC().Format(time.RFC3339))
	}
	return nil
}

// args returns the options of git log that choose w's commits. Dates are
// passed as "@<unix seconds>", which git reads exactly (any other string
// git reads as an approximate date, and a bad one as no bound at all).
// Commit dates are whole seconds: a fractional Since rounds up, Until
// down.
func (r *Repo) windowArgs(w Window) ([]string, error) {
	if err := w.Check(); err != nil {
		return nil, err
	}
	var args []string
	if !w.Since.IsZero() && w.Since.After(time.Unix(0, 0)) {
		if !r.atLeast(sinceAsFilter) {
			return nil, fmt.Errorf("a since date needs git %d.%d or newer (--since-as-filter)", sinceAsFilter[0], sinceAsFilter[1])
		}
		s := w.Since.Unix()
		if w.Since.Nanosecond() != 0 {
			s++
		}
		// --since would stop the walk at the first older commit, so that
		// one commit dated long ago would hide every commit behind it.
		args = append(args, "--since-as-filter=@"+strconv.FormatInt(s, 10))
	}
	if !w.Until.IsZero() {
		args = append(args, "--until=@"+strconv.FormatInt(w.Until.Unix(), 10))
	}
	if w.Max > 0 {
		args = append(args, "--max-count="+strconv.Itoa(w.Max))
	}
	return args, nil
}

// atLeast reports whether the git that Open found is version v or newer.
func (r *Repo) atLeast(v [2]int) bool {
	return r.version[0] > v[0] || r.version[0] == v[0] && r.version[1] >= v[1]
}

// revs returns what git log --stdin reads to walk from tips and not from
// exclude.
func revs(tips []Tip, exclude []string) string {
	var in strings.Builder
	for _, t := range tips {
		if t.Type == "commit" {
			in.WriteString(t.ID + "\n")
		}
	}
	for _, id := range exclude {
		in.WriteString("^" + id + "\n")
	}
	return in.String()
}

// CountCommits returns how many commits are reachable from tips and not
// from exclude (nor, with excludeRefs, from any ref): what a walk with no
// window lists.
func (r *Repo) CountCommits(ctx context.Context, tips []Tip, exclude []string, excludeRefs bool) (int, error) {
	in := revs(tips, exclude)
	if !strings.Contains(in, "\n") || strings.HasPrefix(in, "^") {
		return 0, nil // no commit to walk from
	}
	args := []string{"rev-list", "--count", "--stdin"}
	if excludeRefs {
		args = append(args, "--not", "--all")
	}
	cmd := r.command(ctx, args...)
	cmd.Stdin = strings.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("count commits: %w", gitError("rev-list", err, stderr.Bytes()))
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("count commits: git rev-list answered %q", truncateName(string(out)))
	}
	return n, nil
}

// MergeBases returns the best common ancestors of the commits a and b
// (ids): what git's a...b leaves out, with what they reach. Unrelated
// histories have none.
func (r *Repo) MergeBases(ctx context.Context, a, b string) ([]string, error) {
	if !isHexID(a) || !isHexID(b) {
		return nil, fmt.Errorf("merge base of %q and %q: want commit ids", truncateName(a), truncateName(b))
	}
	cmd := r.command(ctx, "merge-base", "--all", a, b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	switch {
	case err != nil && errors.As(err, &ee) && ee.ExitCode() == 1 && len(bytes.TrimSpace(out)) == 0 && len(bytes.TrimSpace(stderr.Bytes())) == 0:
		return nil, nil // no common ancestor
	case err != nil:
		return nil, fmt.Errorf("merge base of %s and %s: %w", a, b, gitError("merge-base", err, stderr.Bytes()))
	}
	var ids []string
	for _, id := range strings.Fields(string(out)) {
		if !isHexID(id) {
			return nil, fmt.Errorf("merge base of %s and %s: git answered %q", a, b, truncateName(id))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// ErrUnknownRef is returned by SelectRefs for a name no ref has.
var ErrUnknownRef = errors.New("no ref")

// maxRefName bounds the length of a ref name a user gives.
const maxRefName = 1024

// CheckRefName says why name, given by a user to choose a ref, is not one
// git would accept (git check-ref-format, one level allowed), or starts
// with "-" (which a git command would take for an option). It runs no
// git: nothing of name reaches a command line.
func CheckRefName(name string) error {
	bad := func(why string) error { return fmt.Errorf("ref %q: %s", truncateName(name), why) }
	switch {
	case name == "":
		return errors.New("a ref name is empty")
	case len(name) > maxRefName:
		return bad(fmt.Sprintf("longer than %d bytes", maxRefName))
	case strings.HasPrefix(name, "-"):
		return bad(`starts with "-"`)
	case name == "@":
		return bad(`"@" alone is not a ref name`)
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//"):
		return bad(`a "/" at either end, or two in a row`)
	case strings.HasSuffix(name, "."):
		return bad(`ends with "."`)
	case strings.Contains(name, ".."):
		return bad(`holds ".." (a range is not a ref)`)
	case strings.Contains(name, "@{"):
		return bad(`holds "@{" (a reflog entry is not a ref)`)
	case !utf8.ValidString(name):
		return bad("is not valid UTF-8")
	}
	for _, c := range []byte(name) {
		if c < 0x20 || c == 0x7f {
			return bad("holds a control character")
		}
		if strings.IndexByte(" ~^:?*[\\", c) >= 0 {
			return bad(fmt.Sprintf("holds %q, which git refuses in a ref name", c))
		}
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return bad(`a part starts with "."`)
		}
		if strings.HasSuffix(part, ".lock") {
			return bad(`a part ends with ".lock"`)
		}
	}
	return nil
}

// dwimRules are the full names git tries, in order, for a short ref name
// (git's ref_rev_parse_rules).
var dwimRules = []string{"%s", "refs/%s", "refs/tags/%s", "refs/heads/%s", "refs/remotes/%s", "refs/remotes/%s/HEAD"}

// SelectRefs returns the tips among tips of the refs names name: a full
// name (refs/heads/main, HEAD) or a short one resolved as git does
// (main: a tag main first, then the branch, then a remote-tracking
// branch; origin: origin's HEAD). Each name is checked with
// CheckRefName, and one no ref has is an error wrapping ErrUnknownRef
// that names it and repo (the repository as the user gave it). A ref
// named twice is selected once.
func SelectRefs(tips []Tip, names []string, repo string) ([]Tip, error) {
	byRef := make(map[string]int, len(tips))
	for i, t := range tips {
		if _, dup := byRef[t.Ref]; !dup {
			byRef[t.Ref] = i
		}
	}
	var out []Tip
	chosen := make(map[string]bool)
	for _, name := range names {
		if err := CheckRefName(name); err != nil {
			return nil, err
		}
		found := false
		for _, rule := range dwimRules {
			full := fmt.Sprintf(rule, name)
			if rule == "%s" && full != "HEAD" && !strings.HasPrefix(full, "refs/") {
				continue // git's own files (FETCH_HEAD, ...) are not refs to scan
			}
			i, ok := byRef[full]
			if !ok {
				continue
			}
			found = true
			if !chosen[full] {
				chosen[full] = true
				out = append(out, tips[i])
			}
			break
		}
		if !found {
			return nil, fmt.Errorf("%w %q in %s", ErrUnknownRef, name, repo)
		}
	}
	return out, nil
}
