package github

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/report"
)

func TestFilter(t *testing.T) {
	t.Parallel()
	repos := []Repo{
		{FullName: "acme/api", Visibility: "public"},
		{FullName: "acme/Web", Visibility: "private"},
		{FullName: "acme/lib-fork", Visibility: "public", Fork: true},
		{FullName: "acme/old", Visibility: "internal", Archived: true},
	}
	for _, tc := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"defaults", Filter{}, []string{"acme/api", "acme/Web"}},
		{"forks and archived", Filter{IncludeForks: true, IncludeArchived: true}, []string{"acme/api", "acme/Web", "acme/lib-fork", "acme/old"}},
		{"private", Filter{Visibility: "private"}, []string{"acme/Web"}},
		{"internal, archived", Filter{Visibility: "internal", IncludeArchived: true}, []string{"acme/old"}},
		{"include, case-insensitive", Filter{Include: []string{"ACME/w*"}}, []string{"acme/Web"}},
		{"exclude", Filter{Exclude: []string{"*/api"}}, []string{"acme/Web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, r := range repos {
				if tc.f.Match(r) {
					got = append(got, r.FullName)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []Filter{{Visibility: "secret"}, {Include: []string{"[a"}}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}

func TestShards(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "1", "3/3", "-1/2", "0/0", "a/b", "1/2/3", "01/2"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q): want an error", bad)
		}
	}
	counts := make([]int, 4)
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("org/repo-%d", i)
		n := 0
		for k := 0; k < 4; k++ {
			if (Shard{K: k, N: 4}).Has(name) {
				counts[k]++
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%s is in %d shards", name, n)
		}
		if !(Shard{K: 0, N: 1}).Has(name) {
			t.Fatal("a single shard must hold everything")
		}
	}
	for k, c := range counts {
		if c < 180 || c > 320 {
			t.Errorf("shard %d holds %d of 1000: the hash spreads badly", k, c)
		}
	}
	if sh := (Shard{K: 1, N: 4}); sh.Has("Org/Repo-7") != sh.Has("org/repo-7") {
		t.Error("shards must not depend on case")
	}
}

func TestStateBlobsAndFindings(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	id := func(c byte) string { return strings.Repeat(string(c), 40) }
	if err := s.Save("acme/a", map[string]string{"refs/heads/main": id('1')}, []string{id('c'), id('a')}, []report.Finding{{Fingerprint: "r:1", Path: "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("acme/a", map[string]string{"refs/heads/main": id('2')}, []string{id('b'), id('a'), id('e')}, []report.Finding{{Fingerprint: "r:2", Path: "y"}}); err != nil {
		t.Fatal(err)
	}
	// A second sweep cannot open the state while this one has it.
	if _, err := OpenState(path); err == nil || !strings.Contains(err.Error(), "in use by another sweep") {
		t.Errorf("second open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rs, err := s.Load("acme/a")
	if err != nil {
		t.Fatal(err)
	}
	if rs.Blobs() != 4 || !rs.Seen(id('a')) || !rs.Seen(id('e')) || rs.Seen(id('d')) || rs.Seen("zz") {
		t.Errorf("blobs: %d", rs.Blobs())
	}
	if diff := cmp.Diff([]string{id('2')}, rs.Since()); diff != "" {
		t.Errorf("since (-want +got):\n%s", diff)
	}
	fs, err := s.Findings("acme/a")
	if err != nil || len(fs) != 2 {
		t.Errorf("findings: %v %+v", err, fs)
	}
	if ok, _ := s.Known("acme/a", "r:2", "y"); !ok {
		t.Error("r:2 at y should be known")
	}
	if ok, _ := s.Known("acme/a", "r:2", "x"); ok {
		t.Error("r:2 at x should not be known")
	}
	if err := s.Delete("acme/a"); err != nil {
		t.Fatal(err)
	}
	if fs, _ := s.Findings("acme/a"); len(fs) != 0 {
		t.Errorf("after delete: %+v", fs)
	}
	if names, _ := s.Repos(); len(names) != 0 {
		t.Errorf("after delete: %v", names)
	}
}

func TestValidName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{"acme/api": true, "a-b/c.d_e": true, "acme/..": false, "../x": false, "acme": false, "a/b/c": false, "a/b c": false} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v", name, got)
		}
	}
}
