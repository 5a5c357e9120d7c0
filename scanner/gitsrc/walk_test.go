package gitsrc

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	commitA = "1111111111111111111111111111111111111111"
	blobA   = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	commitB = "2222222222222222222222222222222222222222"
	blobB   = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	blobC   = "cccccccccccccccccccccccccccccccccccccccc"
	zero    = "0000000000000000000000000000000000000000"
)

// diffTreeOutput writes what git diff-tree -z prints for one commit that
// adds the blobs at the paths.
func diffTreeOutput(commit string, entries [][2]string) []byte {
	var b bytes.Buffer
	b.WriteString(commit + "\x00")
	for _, e := range entries {
		b.WriteString(":000000 100644 " + zero + " " + e[0] + " A\x00" + e[1] + "\x00")
	}
	return b.Bytes()
}

func parse(t *testing.T, raw []byte) ([]string, []Change, error) {
	t.Helper()
	var commits []string
	var got []Change
	err := ParseDiffTree(bufio.NewReader(bytes.NewReader(raw)), func(c string) { commits = append(commits, c) }, func(c string, id, path []byte) error {
		if c != commits[len(commits)-1] {
			t.Errorf("change of %s given for %s", c, commits[len(commits)-1])
		}
		got = append(got, Change{ID: string(id), Path: string(path)})
		return nil
	})
	return commits, got, err
}

func TestParseDiffTreeNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		paths []string
	}{
		{"plain", []string{"a.txt", "dir/b.txt"}},
		{"a name that reads as a quoted path", []string{"!", `"!\x2fz"`}},
		{"a newline and an object id in a name", []string{"a\n" + blobB + " b", "a"}},
		{"a name that looks like a diff entry", []string{":100644 100644 " + zero + " " + blobB + " M", "x"}},
		{"tabs, quotes, backslashes and bytes", []string{"t\tab", "q\"uote", "b\\s", "\xff\xfe", "\x1b[2J"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var entries [][2]string
			var want []Change
			for i, p := range tt.paths {
				id := blobA
				if i%2 == 1 {
					id = blobB
				}
				entries = append(entries, [2]string{id, p})
				want = append(want, Change{ID: id, Path: p})
			}
			commits, got, err := parse(t, diffTreeOutput(commitA, entries))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" || len(commits) != 1 {
				t.Errorf("commits %v, changes (-want +got):\n%s", commits, diff)
			}
		})
	}
}

func TestParseDiffTreeSkipsWhatIsNotABlob(t *testing.T) {
	t.Parallel()
	raw := commitA + "\x00" +
		":100644 000000 " + blobA + " " + zero + " D\x00gone\x00" +
		":000000 160000 " + zero + " " + blobA + " A\x00submodule\x00" +
		":100644 100755 " + blobA + " " + blobB + " M\x00run.sh\x00" +
		":000000 120000 " + zero + " " + blobA + " A\x00link\x00" +
		// A merge: what differs from both parents.
		commitB + "\x00" + "::100644 100644 100644 " + blobA + " " + blobB + " " + blobC + " MM\x00both.txt\x00" +
		"::100644 000000 000000 " + blobA + " " + zero + " " + zero + " DD\x00gone\x00"
	commits, got, err := parse(t, []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{ID: blobB, Path: "run.sh"}, {ID: blobA, Path: "link"}, {ID: blobC, Path: "both.txt"}}
	if diff := cmp.Diff(want, got); diff != "" || len(commits) != 2 {
		t.Errorf("commits %v, changes (-want +got):\n%s", commits, diff)
	}
}

func TestParseDiffTreeRefusesGarbage(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"not an id\x00",
		":100644 100644 x y M\x00p\x00",
		commitA + "\x00::100644 100644 " + zero + " " + blobA + " MM\x00p\x00", // a merge entry one id short
		commitA + "\x00:000000 100644 " + zero + " " + blobA + " A\x00",        // no path
		commitA + "\x00:000000 100644 " + zero + " nothex A\x00p\x00",
	} {
		if _, got, err := parse(t, []byte(raw)); err == nil {
			t.Errorf("%q: no error, changes %+v", raw, got)
		}
	}
}

func TestParseLsTree(t *testing.T) {
	t.Parallel()
	raw := "100644 blob " + blobA + "\t\"!\\x2fz\"\x00" +
		"160000 commit " + blobB + "\tsub\x00" +
		"100755 blob " + blobB + "\tdir/a\nb\x00"
	var got []Change
	if err := ParseLsTree([]byte(raw), func(id, path string) error {
		got = append(got, Change{ID: id, Path: path})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []Change{{ID: blobA, Path: `"!\x2fz"`}, {ID: blobB, Path: "dir/a\nb"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// FuzzParseDiffTree: no name a pusher chooses changes which blobs the walk
// sees, or where; and no output makes the parser panic.
func FuzzParseDiffTree(f *testing.F) {
	f.Add("a", `"!\x2fz"`, []byte(commitA+"\x00"))
	f.Add("x\n"+blobA, ":1 2 3 4 M", []byte(":000000 100644 "+zero+" "+blobA+" A\x00p\x00"))
	f.Fuzz(func(t *testing.T, p1, p2 string, raw []byte) {
		_, _, _ = parse(t, raw)
		p1, p2 = strings.ReplaceAll(p1, "\x00", ""), strings.ReplaceAll(p2, "\x00", "")
		if p1 == "" || p2 == "" {
			return
		}
		commits, got, err := parse(t, diffTreeOutput(commitA, [][2]string{{blobA, p1}, {blobB, p2}}))
		if err != nil {
			t.Fatal(err)
		}
		want := []Change{{ID: blobA, Path: p1}, {ID: blobB, Path: p2}}
		if diff := cmp.Diff(want, got); diff != "" || len(commits) != 1 {
			t.Fatalf("commits %v, changes (-want +got):\n%s", commits, diff)
		}
	})
}

func TestParseGitLogRaw(t *testing.T) {
	t.Parallel()
	// git log --raw -z --format=%H: an empty field between commits, and a
	// line break before a commit's first entry; a path may start with one.
	raw := commitA + "\x00\x00" + commitB + "\x00\n:000000 100644 " + zero + " " + blobA + " A\x00\n:x\x00"
	commits, got, err := parse(t, []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{ID: blobA, Path: "\n:x"}}
	if diff := cmp.Diff(want, got); diff != "" || !cmp.Equal(commits, []string{commitA, commitB}) {
		t.Errorf("commits %v, changes (-want +got):\n%s", commits, diff)
	}
}
