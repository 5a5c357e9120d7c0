package github

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/keysweep/keysweep/finding"
)

// State is what earlier sweeps did, in an embedded database (bbolt) whose
// every write is one transaction: a crash or Ctrl-C loses at most the
// repository being swept, never the file.
//
// Per repository it holds the ref tips scanned, the ids of the blobs
// scanned (packed, sorted), the findings made, by fingerprint and path,
// redacted, and which of those findings no output has had yet.
//
// The file has five buckets:
//
//	repos     owner/name -> RepoState as JSON (tips, time of the sweep)
//	blobs     owner/name -> one byte of id size, then the sorted binary ids
//	findings  owner/name NUL fingerprint NUL path -> finding.Finding as JSON, redacted
//	pending   owner/name NUL fingerprint NUL path -> finding.Finding as JSON, redacted
//	cursors   owner/name NUL source -> how far a source other than git was read
//
// A finding is put in pending by the transaction that adds it to findings
// (Save), and taken out by Delivered once the report is written and the
// webhook has it: a sweep killed in between leaves it there, and the next
// sweep delivers it again. pending came after the other three: a file
// without it is read as one with nothing pending (the bucket is created
// when the file is opened), and a keysweep from before it ignores it;
// cursors likewise (no cursor: the source is read from its start).
type State struct {
	db   *bolt.DB
	Path string
}

var (
	reposBucket    = []byte("repos")
	blobsBucket    = []byte("blobs")
	findingsBucket = []byte("findings")
	pendingBucket  = []byte("pending")
	cursorsBucket  = []byte("cursors")
)

// OpenState opens (or creates) the state file at path. A file another
// sweep holds open is an error, not a wait.
func OpenState(path string) (*State, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("state %s is in use by another sweep", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w (delete it to start over with a full sweep)", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{reposBucket, blobsBucket, findingsBucket, pendingBucket, cursorsBucket} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	return &State{db: db, Path: path}, nil
}

// Close closes the file.
func (s *State) Close() error { return s.db.Close() }

// RepoState is what the last sweep of a repository left.
type RepoState struct {
	// Tips are the ref tips scanned, by ref name.
	Tips  map[string]string `json:"tips"`
	Swept time.Time         `json:"swept"`
	// blobs are the scanned blobs' binary ids, sorted.
	blobs  []byte
	idSize int
}

// Since lists the commits scanned: the next sweep starts from there.
func (rs *RepoState) Since() []string {
	seen := make(map[string]bool)
	var ids []string
	for _, id := range rs.Tips {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Seen reports whether the blob id was scanned.
func (rs *RepoState) Seen(id string) bool {
	b, err := hex.DecodeString(id)
	if err != nil || rs.idSize == 0 || len(b) != rs.idSize {
		return false
	}
	n := len(rs.blobs) / rs.idSize
	i := sort.Search(n, func(i int) bool { return bytes.Compare(rs.blobs[i*rs.idSize:(i+1)*rs.idSize], b) >= 0 })
	return i < n && bytes.Equal(rs.blobs[i*rs.idSize:(i+1)*rs.idSize], b)
}

// Blobs counts the blobs scanned.
func (rs *RepoState) Blobs() int {
	if rs.idSize == 0 {
		return 0
	}
	return len(rs.blobs) / rs.idSize
}

// Load returns what the last sweep of the repository left: an empty state
// for one never swept.
func (s *State) Load(name string) (*RepoState, error) {
	rs := &RepoState{Tips: map[string]string{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(reposBucket).Get([]byte(name)); v != nil {
			if err := json.Unmarshal(v, rs); err != nil {
				return fmt.Errorf("repository %s: %w", name, err)
			}
		}
		if v := tx.Bucket(blobsBucket).Get([]byte(name)); len(v) > 0 {
			rs.idSize = int(v[0])
			rs.blobs = append([]byte(nil), v[1:]...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	return rs, nil
}

// Save records a completed sweep of the repository, in one transaction:
// its tips now, the blobs just scanned added to those before, and the
// findings (built for output, so redacted) added to those known and to
// those pending until Delivered.
func (s *State) Save(name string, tips map[string]string, blobs []string, found []finding.Finding) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		v, err := json.Marshal(RepoState{Tips: tips, Swept: time.Now().UTC()})
		if err != nil {
			return err
		}
		if err := tx.Bucket(reposBucket).Put([]byte(name), v); err != nil {
			return err
		}
		bb := tx.Bucket(blobsBucket)
		merged, err := mergeIDs(bb.Get([]byte(name)), blobs)
		if err != nil {
			return err
		}
		if err := bb.Put([]byte(name), merged); err != nil {
			return err
		}
		fb, pb := tx.Bucket(findingsBucket), tx.Bucket(pendingBucket)
		for _, f := range found {
			v, err := json.Marshal(f)
			if err != nil {
				return err
			}
			k := findingKey(name, f.Fingerprint, f.Path)
			if err := fb.Put(k, v); err != nil {
				return err
			}
			if err := pb.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save state of %s: %w", name, err)
	}
	return nil
}

// Pending returns the findings of the repository that a sweep recorded
// and no sweep has delivered yet.
func (s *State) Pending(repo string) ([]finding.Finding, error) {
	return s.list(pendingBucket, repo)
}

// Delivered records that the findings reached every output: they are no
// longer pending. Each is found by its Repository, Fingerprint and Path;
// one transaction clears them all.
func (s *State) Delivered(fs []finding.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		pb := tx.Bucket(pendingBucket)
		for _, f := range fs {
			if err := pb.Delete(findingKey(f.Repository, f.Fingerprint, f.Path)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record delivered findings in the state: %w", err)
	}
	return nil
}

func findingKey(repo, fingerprint, path string) []byte {
	return []byte(repo + "\x00" + fingerprint + "\x00" + path)
}

// Update rewrites recorded findings (a new verification), each found by
// its Repository, Fingerprint and Path, without making them pending.
// One transaction writes them all.
func (s *State) Update(fs []finding.Finding) error {
	if len(fs) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		fb := tx.Bucket(findingsBucket)
		for _, f := range fs {
			k := findingKey(f.Repository, f.Fingerprint, f.Path)
			if fb.Get(k) == nil {
				continue // forgotten since: not brought back
			}
			v, err := json.Marshal(f)
			if err != nil {
				return err
			}
			if err := fb.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record verifications in the state: %w", err)
	}
	return nil
}

// Known reports whether a finding with this fingerprint at this path is
// already recorded for the repository.
func (s *State) Known(repo, fingerprint, path string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(findingsBucket).Get(findingKey(repo, fingerprint, path)) != nil
		return nil
	})
	return ok, err
}

// Findings returns every finding recorded for the repository.
func (s *State) Findings(repo string) ([]finding.Finding, error) {
	return s.list(findingsBucket, repo)
}

// list returns the findings of the repository in bucket.
func (s *State) list(bucket []byte, repo string) ([]finding.Finding, error) {
	var out []finding.Finding
	prefix := []byte(repo + "\x00")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var f finding.Finding
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("finding %q: %w", k, err)
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	return out, nil
}

// Cursor returns how far an earlier sweep read the repository's source
// (finding.SourceIssue, ...): for the discussions of --issues, the newest
// updated_at it scanned, RFC 3339; "" when none did.
func (s *State) Cursor(repo, source string) (string, error) {
	var c string
	err := s.db.View(func(tx *bolt.Tx) error {
		c = string(tx.Bucket(cursorsBucket).Get(cursorKey(repo, source)))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read state: %w", err)
	}
	return c, nil
}

// SetCursor records how far the repository's source was read. The caller
// sets it only once what was read is scanned and its findings saved: a
// sweep killed before reads the same items again, and skips none.
func (s *State) SetCursor(repo, source, cursor string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(cursorsBucket).Put(cursorKey(repo, source), []byte(cursor))
	})
	if err != nil {
		return fmt.Errorf("save the %s cursor of %s: %w", source, repo, err)
	}
	return nil
}

func cursorKey(repo, source string) []byte {
	return []byte(repo + "\x00" + source)
}

// Repos lists the repositories swept before.
func (s *State) Repos() ([]string, error) {
	var names []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(reposBucket).ForEach(func(k, _ []byte) error {
			names = append(names, string(k))
			return nil
		})
	})
	return names, err
}

// Delete forgets a repository.
func (s *State) Delete(repo string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(reposBucket).Delete([]byte(repo)); err != nil {
			return err
		}
		if err := tx.Bucket(blobsBucket).Delete([]byte(repo)); err != nil {
			return err
		}
		prefix := []byte(repo + "\x00")
		for _, name := range [][]byte{findingsBucket, pendingBucket, cursorsBucket} {
			b := tx.Bucket(name)
			var keys [][]byte
			c := b.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				keys = append(keys, append([]byte(nil), k...))
			}
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// mergeIDs adds hex ids to a packed set (one byte of id size, then the
// sorted binary ids) and returns the new set.
func mergeIDs(packed []byte, ids []string) ([]byte, error) {
	size := 0
	var old []byte
	if len(packed) > 0 {
		size, old = int(packed[0]), packed[1:]
	}
	add := make([][]byte, 0, len(ids))
	for _, id := range ids {
		b, err := hex.DecodeString(id)
		if err != nil || len(b) != 20 && len(b) != 32 {
			return nil, fmt.Errorf("invalid object id %q", id)
		}
		if size == 0 {
			size = len(b)
		}
		if len(b) != size {
			return nil, fmt.Errorf("object id %q: the repository changed hash function", id)
		}
		add = append(add, b)
	}
	if size == 0 {
		return nil, nil
	}
	sort.Slice(add, func(i, j int) bool { return bytes.Compare(add[i], add[j]) < 0 })
	out := make([]byte, 1, 1+len(old)+len(add)*size)
	out[0] = byte(size)
	var last []byte
	push := func(b []byte) {
		if last == nil || !bytes.Equal(last, b) {
			out = append(out, b...)
			last = b
		}
	}
	i := 0
	for o := 0; o+size <= len(old); o += size {
		cur := old[o : o+size]
		for i < len(add) && bytes.Compare(add[i], cur) < 0 {
			push(add[i])
			i++
		}
		push(cur)
	}
	for ; i < len(add); i++ {
		push(add[i])
	}
	return out, nil
}

// validName reports whether fullName is a plain owner/name, safe as a
// path under the cache directory.
func validName(fullName string) bool {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok {
		return false
	}
	for _, p := range []string{owner, name} {
		if p == "" || p == "." || p == ".." || strings.Trim(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
			return false
		}
	}
	return true
}
