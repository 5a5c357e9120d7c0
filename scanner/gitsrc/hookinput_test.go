package gitsrc

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseUpdates(t *testing.T) {
	t.Parallel()
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	zero := strings.Repeat("0", 40)
	long := strings.Repeat("c", 64)
	for _, tc := range []struct {
		name, in string
		want     []Update
		err      string
	}{
		{"update", a + " " + b + " refs/heads/main\n", []Update{{a, b, "refs/heads/main"}}, ""},
		{"create and delete, CRLF", zero + " " + a + " refs/tags/v1\r\n" + b + " " + zero + " refs/heads/old\r\n",
			[]Update{{zero, a, "refs/tags/v1"}, {b, zero, "refs/heads/old"}}, ""},
		{"sha-256", long + " " + long + " refs/heads/x\n", []Update{{long, long, "refs/heads/x"}}, ""},
		{"ref with spaces kept whole", a + " " + b + " refs/heads/a b\n", []Update{{a, b, "refs/heads/a b"}}, ""},
		{"empty", "", nil, ""},
		{"two fields", a + " " + b + "\n", nil, "ref update line 1"},
		{"short id", "abc " + b + " refs/heads/main\n", nil, "ref update line 1"},
		{"upper case", strings.ToUpper(a) + " " + b + " refs/heads/main\n", nil, "ref update line 1"},
		{"mixed lengths", a + " " + long + " refs/heads/main\n", nil, "ref update line 1"},
		{"second line", a + " " + b + " refs/heads/main\nnonsense\n", nil, "ref update line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseUpdates(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePushRefs(t *testing.T) {
	t.Parallel()
	a, zero := strings.Repeat("a", 40), strings.Repeat("0", 40)
	got, err := ParsePushRefs(strings.NewReader("refs/heads/main " + a + " refs/heads/main " + zero + "\n(delete) " + zero + " refs/heads/old " + a + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []PushRef{{"refs/heads/main", a, "refs/heads/main", zero}, {"(delete)", zero, "refs/heads/old", a}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParsePushRefs(strings.NewReader("refs/heads/main " + a + "\n")); err == nil || !strings.Contains(err.Error(), "pushed ref line 1") {
		t.Errorf("malformed: %v", err)
	}
}

// FuzzParseUpdates: whatever reaches the hook's standard input, it is
// either refused with an error or read into updates that name full object
// ids and a ref, and that read back the same when written out again.
func FuzzParseUpdates(f *testing.F) {
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	f.Add(a + " " + b + " refs/heads/main\n")
	f.Add(strings.Repeat("0", 64) + " " + strings.Repeat("c", 64) + " refs/tags/v1\r\n\n")
	f.Add(a + " " + b + " refs/heads/\x1b[2J\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseUpdates(strings.NewReader(in))
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\x1b") {
				t.Fatalf("error is not one line of plain text: %q", err)
			}
			return
		}
		var again strings.Builder
		for _, u := range got {
			if !isObjectID(u.Old) || !isObjectID(u.New) || u.Ref == "" {
				t.Fatalf("bad update %+v from %q", u, in)
			}
			again.WriteString(u.Old + " " + u.New + " " + u.Ref + "\n")
		}
		back, err := ParseUpdates(strings.NewReader(again.String()))
		if err != nil {
			t.Fatalf("written back: %v", err)
		}
		if diff := cmp.Diff(got, back); diff != "" {
			t.Fatalf("round trip (-first +again):\n%s", diff)
		}
	})
}
