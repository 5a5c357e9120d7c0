package github

import (
	"fmt"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"
)

func TestParseShard(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in   string
		want Shard
	}{
		{"0/1", Shard{0, 1}},
		{"0/4", Shard{0, 4}},
		{"3/4", Shard{3, 4}},
		{"9/10", Shard{9, 10}},
		{"41/100", Shard{41, 100}},
	}
	for _, tt := range valid {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseShard(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseShard(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	invalid := []struct{ name, in string }{
		{"K equal to N", "4/4"},
		{"K above N", "5/4"},
		{"N zero", "0/0"},
		{"K negative", "-1/4"},
		{"N negative", "0/-4"},
		{"both negative", "-1/-1"},
		{"empty", ""},
		{"garbage", "shard"},
		{"K only", "1"},
		{"no N", "1/"},
		{"no K", "/4"},
		{"letters for K", "a/4"},
		{"letters for N", "1/b"},
		{"leading space", " 0/4"},
		{"trailing space", "0/4 "},
		{"space before slash", "0 /4"},
		{"space after slash", "0/ 4"},
		{"trailing garbage", "0/4x"},
		{"three parts", "0/4/8"},
		{"leading zero", "01/4"},
		{"plus sign", "+1/4"},
		{"hexadecimal", "0x1/4"},
		{"decimal point", "1.0/4"},
		{"other separator", "1-4"},
		{"trailing newline", "0/4\n"},
		{"overflow", "0/99999999999999999999"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseShard(tt.in)
			if err == nil {
				t.Fatalf("ParseShard(%q) = %v, want an error", tt.in, got)
			}
			if got != (Shard{}) {
				t.Errorf("ParseShard(%q) returned %v with its error, want the zero Shard", tt.in, got)
			}
			if msg := err.Error(); !strings.Contains(msg, "want K/N with 0 <= K < N") || !strings.Contains(msg, fmt.Sprintf("%q", tt.in)) {
				t.Errorf("error %q neither names the input nor says what is wanted", msg)
			}
		})
	}
}

// names are repository names of every shape an organization has.
func names() []string {
	var out []string
	for i := range 300 {
		owner := []string{"acme", "Acme-Corp", "keysweep", "o"}[i%4]
		out = append(out, fmt.Sprintf("%s/repo-%d", owner, i), fmt.Sprintf("%s/Service_%d.Go", owner, i))
	}
	return append(out, "acme/a", "acme/b", "acme/c", "ACME/API", "acme/ünïcode", "a/b", "x/")
}

// TestShardPartition: the shards of N cover the names, each once, all of
// them busy; the case of a name does not move it; and a shard names
// itself as ParseShard reads it.
func TestShardPartition(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 7; n++ {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			t.Parallel()
			sizes := make([]int, n)
			for _, name := range names() {
				var in []int
				for k := range n {
					if (Shard{k, n}).Has(name) {
						in = append(in, k)
					}
				}
				if len(in) != 1 {
					t.Errorf("%s is in shards %v of %d, want exactly one", name, in, n)
					continue
				}
				sizes[in[0]]++
				for _, variant := range []string{strings.ToUpper(name), strings.ToLower(name), strings.ToTitle(name)} {
					if !(Shard{in[0], n}).Has(variant) {
						t.Errorf("%s is in shard %d/%d, %s is not", name, in[0], n, variant)
					}
				}
			}
			for k, size := range sizes {
				if size == 0 {
					t.Errorf("shard %d/%d holds none of %d names", k, n, len(names()))
				}
			}
			for k := range n {
				sh := Shard{k, n}
				got, err := ParseShard(sh.String())
				if err != nil || got != sh {
					t.Errorf("ParseShard(%q) = %v, %v; want %v", sh.String(), got, err, sh)
				}
			}
		})
	}
}

// TestShardStable pins where names fall: every machine of a sweep, and
// every release, puts a repository in the same shard, whose state file
// holds its history.
func TestShardStable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Shard
	}{
		{"acme/api", Shard{0, 4}},
		{"acme/web", Shard{2, 4}},
		{"Acme/Web", Shard{2, 4}},
		{"acme/a", Shard{2, 3}},
		{"acme/b", Shard{1, 3}},
		{"acme/c", Shard{0, 3}},
		{"acme/infra", Shard{4, 7}},
		{"keysweep/keysweep", Shard{5, 7}},
	}
	for _, tt := range tests {
		if !tt.in.Has(tt.name) {
			t.Errorf("%s is not in shard %v", tt.name, tt.in)
		}
	}
}

// TestShardWhole: a single shard, or the zero Shard of a caller that does
// not shard, holds every repository.
func TestShardWhole(t *testing.T) {
	t.Parallel()
	for _, sh := range []Shard{{}, {0, 1}} {
		for _, name := range names() {
			if !sh.Has(name) {
				t.Errorf("%v does not hold %s", sh, name)
			}
		}
	}
}

// TestPointHEAD: the mirror's HEAD follows the default branch the API
// names, and a name that is not a valid branch leaves it alone.
func TestPointHEAD(t *testing.T) {
	t.Parallel()
	repo, err := git.PlainInit(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	head := func() string {
		ref, err := repo.Storer.Reference(plumbing.HEAD)
		if err != nil {
			t.Fatal(err)
		}
		return ref.Target().String()
	}
	if err := pointHEAD(repo, "trunk"); err != nil || head() != "refs/heads/trunk" {
		t.Fatalf("HEAD -> %s (%v), want refs/heads/trunk", head(), err)
	}
	for _, bad := range []string{"", "../../config", "a..b", "x\x1b[2J", "has space", "end.lock"} {
		if err := pointHEAD(repo, bad); err != nil || head() != "refs/heads/trunk" {
			t.Errorf("default branch %q: HEAD -> %s (%v)", bad, head(), err)
		}
	}
}
