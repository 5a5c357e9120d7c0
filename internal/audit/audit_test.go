package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppendAndRead(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state", "audit.jsonl")
	if got, err := Read(path); err != nil || got != nil {
		t.Fatalf("Read of a log not written yet = %v, %v", got, err)
	}
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Entry{{Action: "push-allow", Refs: []string{"refs/heads/main"}, Line: 3}, {Action: "sweep-inline-allow", Repo: "acme/api"}} {
		if err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 != 0 {
		t.Errorf("the log is readable by others: %v %v", st.Mode(), err)
	}
	got, err := Read(path)
	if err != nil || len(got) != 2 || got[0].Action != "push-allow" || got[0].Refs[0] != "refs/heads/main" || got[0].Line != 3 || got[1].Repo != "acme/api" {
		t.Errorf("Read = %+v, %v", got, err)
	}
	// A line that is not JSON says where it is.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("not json\n")
	f.Close()
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "audit.jsonl:3") {
		t.Errorf("Read of a damaged log: %v", err)
	}
}

func TestOpenDefault(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	l, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if want := filepath.Join(state, "keysweep", "audit.jsonl"); l.Path != want {
		t.Errorf("Open(\"\") opened %s, want %s", l.Path, want)
	}
}
