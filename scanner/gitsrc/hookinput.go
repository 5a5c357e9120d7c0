package gitsrc

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// What git writes to a hook's standard input.

// Update is one ref a push changes, as git hands it to a pre-receive
// hook: "<old> <new> <ref>". An all-zero id is a ref that does not exist
// (a new ref's old id, a deleted ref's new id).
type Update struct {
	Old, New, Ref string
}

// Deletes reports whether the update deletes its ref.
func (u Update) Deletes() bool { return IsZeroID(u.New) }

// IsZeroID reports whether id is git's all-zero id: no object.
func IsZeroID(id string) bool { return strings.Trim(id, "0") == "" }

// ParseUpdates reads the ref updates of a push from a pre-receive hook's
// standard input.
func ParseUpdates(r io.Reader) ([]Update, error) {
	var updates []Update
	err := readHookLines(r, "ref update", "<old-id> <new-id> <ref>", 3, func(f []string) bool {
		if !isObjectID(f[0]) || !isObjectID(f[1]) || len(f[0]) != len(f[1]) || f[2] == "" {
			return false
		}
		updates = append(updates, Update{Old: f[0], New: f[1], Ref: f[2]})
		return true
	})
	return updates, err
}

// readHookLines reads the lines git writes to a hook's standard input,
// each of n space-separated fields (the last one taking the rest), and
// hands them to take, which says whether the line is well formed.
func readHookLines(r io.Reader, what, shape string, n int, take func([]string) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for i := 1; sc.Scan(); i++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			continue
		}
		if f := strings.SplitN(line, " ", n); len(f) != n || !take(f) {
			return fmt.Errorf("%s line %d: want %q, got %q", what, i, shape, truncate(line, 100))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %ss: %w", what, err)
	}
	return nil
}

// isObjectID reports whether s is a full SHA-1 or SHA-256 object id.
func isObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// PushRef is one ref a local push sends, as git hands it to a pre-push
// hook: "<local ref> <local id> <remote ref> <remote id>".
type PushRef struct {
	LocalRef, LocalID, RemoteRef, RemoteID string
}

// ParsePushRefs reads the refs of a push from a pre-push hook's standard
// input.
func ParsePushRefs(r io.Reader) ([]PushRef, error) {
	var refs []PushRef
	err := readHookLines(r, "pushed ref", "<local-ref> <local-id> <remote-ref> <remote-id>", 4, func(f []string) bool {
		if !isObjectID(f[1]) || !isObjectID(f[3]) {
			return false
		}
		refs = append(refs, PushRef{LocalRef: f[0], LocalID: f[1], RemoteRef: f[2], RemoteID: f[3]})
		return true
	})
	return refs, err
}
