package aws

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/keysweep/keysweep/internal/atomicfile"
	"github.com/keysweep/keysweep/internal/audit"
)

// KeyState is what keysweep remembers of an own key between runs. It
// never holds a secret.
type KeyState struct {
	// Warned is when the owner was first warned, Due when the key is to
	// be contained if still active, Reminded the last reminder.
	Warned   time.Time `json:"warned,omitzero"`
	Due      time.Time `json:"due,omitzero"`
	Reminded time.Time `json:"reminded,omitzero"`
	// Verified is when keysweep last signed sts:GetCallerIdentity with
	// the key: IAM then records that call as the key's last use, which
	// must not be taken for someone else's.
	Verified time.Time `json:"verified,omitzero"`
}

// State keeps KeyStates by key id. The sweep keeps them in its own
// state; the local commands in a StateFile.
type State interface {
	Get(keyID string) (KeyState, error)
	Put(keyID string, ks KeyState) error
}

// StateFile is a State in a JSON file, rewritten whole (a synced
// temporary file renamed over it) on every Put, so that a crash leaves the
// last state whole. It is safe for concurrent use within one process.
type StateFile struct {
	path string

	mu   sync.Mutex
	keys map[string]KeyState
}

// maxStateFile bounds the state file read: it holds a few hundred bytes
// per key.
const maxStateFile = 64 << 20

// OpenStateFile reads the state at path ("" is DefaultStatePath); a file
// that does not exist yet is an empty state.
func OpenStateFile(path string) (*StateFile, error) {
	if path == "" {
		dir, err := audit.StateDir()
		if err != nil {
			return nil, fmt.Errorf("%w: give --state FILE", err)
		}
		path = filepath.Join(dir, "aws-keys.json")
	}
	s := &StateFile{path: path, keys: map[string]KeyState{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxStateFile+1))
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	if len(data) > maxStateFile {
		return nil, fmt.Errorf("read state %s: larger than %d MiB", path, maxStateFile>>20)
	}
	var file stateFile
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	if file.Version != stateVersion {
		return nil, fmt.Errorf("read state %s: version %d, want %d", path, file.Version, stateVersion)
	}
	for id, ks := range file.Keys {
		if keyIDRe.MatchString(id) {
			s.keys[id] = ks
		}
	}
	return s, nil
}

type stateFile struct {
	Version int                 `json:"version"`
	Keys    map[string]KeyState `json:"keys"`
}

const stateVersion = 1

// Path is the file the state is kept in.
func (s *StateFile) Path() string { return s.path }

// Get returns what is remembered of keyID.
func (s *StateFile) Get(keyID string) (KeyState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[keyID], nil
}

// Put remembers ks for keyID and writes the file.
func (s *StateFile) Put(keyID string, ks KeyState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[keyID] = ks
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	err := atomicfile.Write(s.path, 0o600, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(stateFile{Version: stateVersion, Keys: s.keys})
	})
	if err != nil {
		return fmt.Errorf("write state %s: %w", s.path, err)
	}
	return nil
}
