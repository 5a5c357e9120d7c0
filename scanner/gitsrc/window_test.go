package gitsrc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/internal/gittest"
)

func TestCheckRefName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, err string
	}{
		{"main", ""},
		{"HEAD", ""},
		{"refs/heads/feature/x-1", ""},
		{"origin/main", ""},
		{"v1.0", ""},
		{"été", ""},
		{"", "empty"},
		{"-all", `starts with "-"`},
		{"--upload-pack=touch /tmp/x", `starts with "-"`},
		{"@", `"@" alone`},
		{"/main", `"/"`},
		{"main/", `"/"`},
		{"a//b", `"/"`},
		{"main.", `ends with "."`},
		{"a..b", `".."`},
		{"main@{1}", `"@{"`},
		{"main~1", "git refuses"},
		{"main^", "git refuses"},
		{"a:b", "git refuses"},
		{"a b", "git refuses"},
		{"a?", "git refuses"},
		{"a*", "git refuses"},
		{"a[", "git refuses"},
		{`a\b`, "git refuses"},
		{"a\x00b", "control character"},
		{"a\nb", "control character"},
		{"a\x7fb", "control character"},
		{".hidden", `starts with "."`},
		{"refs/.x", `starts with "."`},
		{"main.lock", `".lock"`},
		{"refs/heads/x.lock/y", `".lock"`},
		{"\xff", "UTF-8"},
		{strings.Repeat("a", 2000), "longer than"},
	}
	for _, tt := range tests {
		err := CheckRefName(tt.name)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("CheckRefName(%q) = %v, want nil", tt.name, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("CheckRefName(%q) = %v, want an error with %q", tt.name, err, tt.err)
		case err != nil && strings.ContainsAny(err.Error(), "\x00\n\x7f"):
			t.Errorf("CheckRefName(%q): the error %q holds a control character", tt.name, err)
		}
	}
}

func TestSelectRefs(t *testing.T) {
	t.Parallel()
	tip := func(ref string) Tip { return Tip{Ref: ref, ID: strings.Repeat("1", 40), Type: "commit"} }
	tips := []Tip{
		tip("refs/heads/main"), tip("refs/heads/dup"), tip("refs/tags/dup"),
		tip("refs/remotes/origin/HEAD"), tip("refs/remotes/origin/main"), tip("refs/tags/v1"),
		tip("refs/notes/commits"), tip("HEAD"), tip("stash@{0}"),
	}
	tests := []struct {
		names []string
		want  []string
		err   string
	}{
		{[]string{"main"}, []string{"refs/heads/main"}, ""},
		{[]string{"refs/heads/main"}, []string{"refs/heads/main"}, ""},
		{[]string{"heads/main"}, []string{"refs/heads/main"}, ""},
		{[]string{"dup"}, []string{"refs/tags/dup"}, ""}, // git: a tag before a branch
		{[]string{"heads/dup"}, []string{"refs/heads/dup"}, ""},
		{[]string{"origin/main"}, []string{"refs/remotes/origin/main"}, ""},
		{[]string{"origin"}, []string{"refs/remotes/origin/HEAD"}, ""},
		{[]string{"v1", "main", "refs/tags/v1"}, []string{"refs/tags/v1", "refs/heads/main"}, ""},
		{[]string{"HEAD"}, []string{"HEAD"}, ""},
		{[]string{"notes/commits"}, []string{"refs/notes/commits"}, ""},
		{[]string{"nope"}, nil, `no ref "nope" in /repo`},
		{[]string{"main", "FETCH_HEAD"}, nil, `no ref "FETCH_HEAD"`},
		{[]string{"stash@{0}"}, nil, `"@{"`},
		{[]string{"-main"}, nil, `starts with "-"`},
	}
	for _, tt := range tests {
		got, err := SelectRefs(tips, tt.names, "/repo")
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SelectRefs(%q) = %v, %v; want an error with %q", tt.names, got, err, tt.err)
			}
			continue
		}
		var refs []string
		for _, t := range got {
			refs = append(refs, t.Ref)
		}
		if err != nil || !cmp.Equal(refs, tt.want) {
			t.Errorf("SelectRefs(%q) = %q, %v; want %q", tt.names, refs, err, tt.want)
		}
	}
	if _, err := SelectRefs(tips, []string{"nope"}, "/repo"); !errors.Is(err, ErrUnknownRef) {
		t.Errorf("err = %v, want ErrUnknownRef", err)
	}
}

func TestWindowArgs(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		w    Window
		git  [2]int
		want []string
		err  string
	}{
		{"none", Window{}, [2]int{2, 39}, nil, ""},
		{"since", Window{Since: at("2026-01-01T00:00:00Z")}, [2]int{2, 39}, []string{"--since-as-filter=@1767225600"}, ""},
		{"since in another zone", Window{Since: at("2026-01-01T01:00:00+01:00")}, [2]int{2, 39}, []string{"--since-as-filter=@1767225600"}, ""},
		{"a fraction rounds since up and until down", Window{Since: at("2026-01-01T00:00:00.5Z"), Until: at("2026-01-02T00:00:00.5Z")}, [2]int{2, 39},
			[]string{"--since-as-filter=@1767225601", "--until=@1767312000"}, ""},
		{"since before 1970 is no bound", Window{Since: at("1960-01-01T00:00:00Z"), Max: 3}, [2]int{2, 32}, []string{"--max-count=3"}, ""},
		{"until, max", Window{Until: at("1970-01-01T00:00:00Z"), Max: 1}, [2]int{2, 32}, []string{"--until=@0", "--max-count=1"}, ""},
		{"since on an old git", Window{Since: at("2026-01-01T00:00:00Z")}, [2]int{2, 36}, nil, "needs git 2.37"},
		{"until before since", Window{Since: at("2026-01-02T00:00:00Z"), Until: at("2026-01-01T00:00:00Z")}, [2]int{2, 39}, nil, "is before since"},
		{"same second", Window{Since: at("2026-01-01T00:00:00Z"), Until: at("2026-01-01T00:00:00Z")}, [2]int{2, 39},
			[]string{"--since-as-filter=@1767225600", "--until=@1767225600"}, ""},
		{"negative max", Window{Max: -5}, [2]int{2, 39}, nil, "want 0 (all) or more"},
		{"year 10000", Window{Since: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, [2]int{2, 39}, nil, "after the year 9999"},
		{"until before 1970", Window{Until: at("1969-12-31T23:59:59Z")}, [2]int{2, 39}, nil, "before 1970"},
	}
	for _, tt := range tests {
		r := &Repo{version: tt.git}
		got, err := r.windowArgs(tt.w)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: windowArgs = %q, %v; want an error with %q", tt.name, got, err, tt.err)
			}
		case err != nil || !cmp.Equal(got, tt.want):
			t.Errorf("%s: windowArgs = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestSubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg, want string
	}{
		{"fix\n\nbody", "fix"},
		{"fix  \r\nbody", "fix"},
		{"\n\n \t\n  indented\n", "  indented"},
		{"", ""},
		{"\n\n\n", ""},
		{"a\x1b[2Jb\x07\tc\rd\n", "a\x1b[2Jb\x07\tc\rd"},
		{"cut\x00 after a NUL", "cut"},
		{"\x00hidden", ""},
		{strings.Repeat("a", 10<<10), strings.Repeat("a", MaxSubject)},
		{strings.Repeat("€", 100), strings.Repeat("€", 66)}, // 198 bytes: a 67th would make 201
		{strings.Repeat("\xff", 300), strings.Repeat("\xff", MaxSubject)},
		{strings.Repeat("a", 199) + "é", strings.Repeat("a", 199)},
	}
	for _, tt := range tests {
		if got := Subject([]byte(tt.msg)); got != tt.want {
			t.Errorf("Subject(%.40q) = %.40q (%d bytes), want %.40q (%d bytes)", tt.msg, got, len(got), tt.want, len(tt.want))
		}
	}
}

func TestParseCommitMetas(t *testing.T) {
	t.Parallel()
	id1, id2 := strings.Repeat("1", 40), strings.Repeat("2", 40)
	rec := func(id, name, email, date, msg string) string {
		return id + "\x00" + name + "\x00" + email + "\x00" + date + "\x00" + msg + "\x00"
	}
	tests := []struct {
		name, out string
		want      map[string]CommitMeta
		err       string
	}{
		{"two commits", rec(id1, "A", "a@x", "2025-01-01T00:00:00+01:00", "one\n\nbody\n") + rec(id2, "", "", "2025-01-02T00:00:00Z", ""),
			map[string]CommitMeta{
				id1: {Author: "A", Email: "a@x", Date: "2025-01-01T00:00:00+01:00", Subject: "one"},
				id2: {Date: "2025-01-02T00:00:00Z"},
			}, ""},
		{"a date git could not read", rec(id1, "", "", "%aI", "x"), map[string]CommitMeta{id1: {Subject: "x"}}, ""},
		{"a huge message", rec(id1, "A", "a@x", "2025-01-01T00:00:00Z", strings.Repeat("m", 1<<20)) + rec(id2, "B", "b@x", "2025-01-01T00:00:00Z", "two"),
			map[string]CommitMeta{
				id1: {Author: "A", Email: "a@x", Date: "2025-01-01T00:00:00Z", Subject: strings.Repeat("m", MaxSubject)},
				id2: {Author: "B", Email: "b@x", Date: "2025-01-01T00:00:00Z", Subject: "two"},
			}, ""},
		{"nothing", "", map[string]CommitMeta{}, ""},
		{"cut short", rec(id1, "A", "a@x", "2025-01-01T00:00:00Z", "x") + id2 + "\x00B\x00", nil, "end early"},
		{"no final NUL", id1 + "\x00A\x00a@x\x00d\x00msg", nil, "end early"},
		{"out of step", "not an id\x00A\x00a@x\x00d\x00msg\x00", nil, "where a commit id belongs"},
	}
	for _, tt := range tests {
		got := map[string]CommitMeta{}
		err := parseCommitMetas(bufio.NewReaderSize(strings.NewReader(tt.out), 16), got)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v, want one with %q", tt.name, err, tt.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		default:
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", tt.name, diff)
			}
		}
	}
}

// hashObject writes a raw object as it is, however git would judge it.
func hashObject(t *testing.T, r *gittest.Repo, typ string, raw []byte) string {
	t.Helper()
	cmd := exec.Command("git", "hash-object", "-t", typ, "-w", "--literally", "--stdin")
	cmd.Dir = r.Dir
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hash-object: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestCommitsHostile: a commit crafted with NUL bytes in its author and
// message, and one with invalid UTF-8, keep every other commit's
// fields in place.
func TestCommitsHostile(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.txt", "a\n")
	normal := r.Commit("normal subject\n\nbody")
	tree := r.Git("rev-parse", "HEAD^{tree}")
	nul := hashObject(t, r, "commit", []byte("tree "+tree+"\nauthor Ev\x00il <e@x> 1700000000 +0000\ncommitter c <c@x> 1700000000 +0000\n\nsub\x00ject\nbody\x00more\n"))
	latin := hashObject(t, r, "commit", []byte("tree "+tree+"\nauthor B <b@x> 1700000000 +0000\ncommitter c <c@x> 1700000000 +0000\n\n"+strings.Repeat("\xff", 300)+"\n"))
	repo, err := Open(context.Background(), r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := repo.Commits(context.Background(), []string{nul, normal, latin})
	if err != nil {
		t.Fatal(err)
	}
	if m := got[normal]; m.Author != "Alice Example" || m.Email != "alice@example.com" || m.Subject != "normal subject" || m.Date == "" {
		t.Errorf("the normal commit: %+v", m)
	}
	if m := got[nul]; m.Subject != "sub" || strings.Contains(m.Author, "\x00") {
		t.Errorf("the commit with NULs: %+v", m)
	}
	if m := got[latin]; m.Author != "B" || len(m.Subject) > MaxSubject || m.Subject == "" {
		t.Errorf("the commit with invalid UTF-8: %+v", m)
	}
}

func TestMergeBasesAndCount(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a", "1\n")
	base := r.Commit("base")
	r.Git("checkout", "-q", "-b", "topic")
	r.Write("b", "1\n")
	topic := r.Commit("topic")
	r.Git("checkout", "-q", "main")
	r.Write("c", "1\n")
	main := r.Commit("main")
	r.Git("checkout", "-q", "--orphan", "lone")
	r.Write("d", "1\n")
	lone := r.Commit("lone")
	repo, err := Open(context.Background(), r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := repo.MergeBases(ctx, main, topic); err != nil || !cmp.Equal(got, []string{base}) {
		t.Errorf("MergeBases(main, topic) = %v, %v; want [%s]", got, err, base)
	}
	if got, err := repo.MergeBases(ctx, main, lone); err != nil || len(got) != 0 {
		t.Errorf("MergeBases(main, lone) = %v, %v; want none", got, err)
	}
	if _, err := repo.MergeBases(ctx, "--all", main); err == nil {
		t.Error("MergeBases took an option")
	}
	commit := func(id string) Tip { return Tip{ID: id, Type: "commit"} }
	for _, tt := range []struct {
		tips    []Tip
		exclude []string
		want    int
	}{
		{[]Tip{commit(main), commit(topic)}, nil, 3},
		{[]Tip{commit(main), commit(topic)}, []string{base}, 2},
		{[]Tip{commit(main), commit(lone)}, nil, 3},
		{[]Tip{{ID: main, Type: "tree"}}, nil, 0},
		{nil, []string{base}, 0},
	} {
		if got, err := repo.CountCommits(ctx, tt.tips, tt.exclude, false); err != nil || got != tt.want {
			t.Errorf("CountCommits(%v, %v) = %d, %v; want %d", tt.tips, tt.exclude, got, err, tt.want)
		}
	}
}
