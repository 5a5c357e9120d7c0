package scanner

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/internal/gittest"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// TestPushOutsideQuarantine runs Push on updates whose objects are all in
// the repository (a hook run by hand, or a server without quarantine):
// what no existing ref reaches is scanned.
func TestPushOutsideQuarantine(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.env", "TOKEN="+ghToken+"\n")
	old := r.Commit("old, already on the server")
	r.Git("checkout", "-q", "-b", "topic")
	r.Write("b.env", envPair)
	added := r.Commit("new")
	r.Git("checkout", "-q", "main")
	r.Git("update-ref", "-d", "refs/heads/topic")
	det := detectors.New(detectors.Catalog())
	zero := strings.Repeat("0", 40)
	res, err := Push(context.Background(), r.Dir, det, []gitsrc.Update{{Old: zero, New: added, Ref: "refs/heads/topic"}, {Old: old, New: zero, Ref: "refs/heads/gone"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []loc{{"aws-access-key", added, "b.env", 1, 19}}
	if diff := cmp.Diff(want, locs(res.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if res.Stats.Commits != 1 || res.Stats.Blobs != 1 {
		t.Errorf("stats: %+v", res.Stats)
	}
}
