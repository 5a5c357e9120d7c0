package scanner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/gittest"
)

// reached is what a test checks of a finding beyond the refs.
type reached struct {
	Rule, Commit, Path, Source, Reach string
}

func reachOf(fs []finding.Finding) []reached {
	var out []reached
	for _, f := range fs {
		out = append(out, reached{f.RuleID, f.Commit, f.Path, f.Source, f.Reach})
	}
	return out
}

// TestReflogCommits: a commit reset away is still in the repository, and
// reflogs reach it; it is scanned and attributed like any other commit.
func TestReflogCommits(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("README.md", "hello\n")
	base := r.Commit("init")
	r.Write("ci/token.txt", "token: "+ghToken+"\n")
	gone := r.Commit("add the bot's token")
	r.Git("reset", "-q", "--hard", base)

	if fs := scanRepo(t, r.Dir, Options{}).Findings; len(fs) != 0 {
		t.Fatalf("without reflogs: %v", reachOf(fs))
	}
	res := scanRepo(t, r.Dir, Options{Reflog: true})
	want := []reached{{"github-token", gone, "ci/token.txt", finding.SourceBlob, finding.ReachReflog}}
	if diff := cmp.Diff(want, reachOf(res.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if res.Stats.ReflogCommits != 1 || res.Stats.Commits != 2 {
		t.Errorf("stats: %d commits, %d only in reflogs; want 2 and 1", res.Stats.Commits, res.Stats.ReflogCommits)
	}
	// The same content back on a branch is reported there, unmarked,
	// though the reflog's commit is older: the branch is what to fix.
	r.Write("app.env", "token: "+ghToken+"\n")
	kept := r.Commit("the token again, on main")
	res = scanRepo(t, r.Dir, Options{Reflog: true})
	want = []reached{{"github-token", kept, "app.env", finding.SourceBlob, ""}}
	if diff := cmp.Diff(want, reachOf(res.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestUnreachableObjects: what a force push leaves in a mirror, and a
// blob no commit names, are scanned with --include-unreachable.
func TestUnreachableObjects(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("README.md", "hello\n")
	base := r.Commit("init")
	r.Write("deploy/prod.env", envPair)
	leaked := r.Commit("deploy")
	mirror := gittest.NewBare(t)
	r.Git("push", "-q", mirror.Dir, "main")
	// The history is rewritten and force-pushed: the mirror keeps the
	// old commit, which no ref reaches.
	r.Git("reset", "-q", "--hard", base)
	r.Write("deploy/prod.env", "AWS_PROFILE=prod\n")
	r.Commit("deploy, without the key")
	r.Git("push", "-q", "--force", mirror.Dir, "main")
	// And a blob written by hand, which no commit names.
	path := filepath.Join(t.TempDir(), "token.txt")
	if err := os.WriteFile(path, []byte("token: "+ghToken+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	loose := mirror.Git("hash-object", "-w", path)

	if fs := scanRepo(t, mirror.Dir, Options{Reflog: true}).Findings; len(fs) != 0 {
		t.Fatalf("without --include-unreachable: %v", reachOf(fs))
	}
	res := scanRepo(t, mirror.Dir, Options{Reflog: true, Unreachable: true})
	want := []reached{
		{"aws-access-key", leaked, "deploy/prod.env", finding.SourceBlob, finding.ReachUnreachable},
		{"github-token", "", "", finding.SourceBlob, finding.ReachUnreachable},
	}
	if diff := cmp.Diff(want, reachOf(res.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(res.Findings) == 2 && res.Findings[1].Blob != loose {
		t.Errorf("the loose blob's finding names blob %s, want %s", res.Findings[1].Blob, loose)
	}
	if st := res.Stats; st.UnreachableCommits != 1 || st.UnreachableBlobs != 1 {
		t.Errorf("stats: %d unreachable commits, %d unreachable blobs; want 1 and 1", st.UnreachableCommits, st.UnreachableBlobs)
	}
}

// TestHistoryMessages: the messages of every commit and annotated tag of
// a history are scanned, each secret once, at its oldest message.
func TestHistoryMessages(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("README.md", "hello\n")
	first := r.Commit("init\n\nthe bot's token for now: " + ghToken + "\n")
	r.Write("README.md", "hello again\n")
	r.Commit("again\n\nstill " + ghToken + "\n")
	r.Git("tag", "-a", "v1", "-m", "release\n\n"+envPair)
	tag := r.Git("rev-parse", "v1")

	res := scanRepo(t, r.Dir, Options{})
	want := []reached{
		{"github-token", first, "", finding.SourceCommitMessage, ""},
		{"aws-access-key", tag, "", finding.SourceTagMessage, ""},
	}
	if diff := cmp.Diff(want, reachOf(res.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, f := range res.Findings {
		if f.Line != 3 {
			t.Errorf("%s at line %d of its message, want 3", f.RuleID, f.Line)
		}
		if f.Source == finding.SourceCommitMessage && !strings.HasPrefix(f.Date, "2024-") {
			t.Errorf("commit message finding without its author date: %q", f.Date)
		}
	}
	if res.Stats.Messages != 3 {
		t.Errorf("%d messages scanned, want 3", res.Stats.Messages)
	}
	// Every occurrence, with --all-occurrences.
	if n := len(scanRepo(t, r.Dir, Options{AllOccurrences: true}).Findings); n != 3 {
		t.Errorf("--all-occurrences: %d findings, want 3", n)
	}
}

// TestExposure: an AWS key's exposure starts at the oldest commit that
// holds it, wherever else it appears, and says whether the default
// branch still holds it.
func TestExposure(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("README.md", "hello\n")
	r.Commit("init")
	r.Write("deploy/prod.env", envPair)
	first := r.Commit("deploy")
	r.Write("deploy/prod.env", "AWS_PROFILE=prod\n")
	r.Commit("the key leaves the file")
	r.Write("ci/creds.txt", "id "+keyID+"\n")
	r.Commit("and lands alone in another")
	firstDate := r.Git("log", "-1", "--format=%aI", first)

	for _, tt := range []struct {
		name     string
		remove   bool
		stillIn  bool
		findings int
	}{
		{"still on the branch", false, true, 2},
		{"removed from the branch", true, false, 2},
	} {
		if tt.remove {
			r.Remove("ci/creds.txt")
			r.Commit("gone")
		}
		res := scanRepo(t, r.Dir, Options{})
		if len(res.Findings) != tt.findings {
			t.Fatalf("%s: %d findings, want %d: %v", tt.name, len(res.Findings), tt.findings, locs(res.Findings))
		}
		for _, f := range res.Findings {
			e := f.Exposure
			if e == nil || e.Since != firstDate || e.Commit != first || e.StillInHead == nil || *e.StillInHead != tt.stillIn {
				t.Errorf("%s: %s at %s: exposure %+v, want since %s at %s, still in HEAD %v", tt.name, f.RuleID, f.Path, e, firstDate, first, tt.stillIn)
			}
		}
	}
	// No exposure on what is not an AWS key.
	r.Write("gh.txt", "token: "+ghToken+"\n")
	r.Commit("token")
	for _, f := range scanRepo(t, r.Dir, Options{}).Findings {
		if f.KeyID == "" && f.Exposure != nil {
			t.Errorf("%s has an exposure", f.RuleID)
		}
	}
}

// TestExposureWithMissingObjects: when HEAD's tree cannot be read whole,
// whether it still holds the key is unknown, not false.
func TestExposureWithMissingObjects(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("deploy/prod.env", envPair)
	r.Commit("deploy")
	// HEAD's copy of the file, which still holds the key, is lost.
	r.Write("deploy/prod.env", envPair+"# reviewed\n")
	r.Commit("review")
	if err := os.Remove(r.ObjectPath(r.BlobID(envPair + "# reviewed\n"))); err != nil {
		t.Fatal(err)
	}
	res := scanRepo(t, r.Dir, Options{AllowMissing: true})
	if len(res.Findings) != 1 || res.Findings[0].Exposure == nil || res.Findings[0].Exposure.StillInHead != nil {
		t.Fatalf("findings %v, exposure %+v: want one, with still_in_head unknown", locs(res.Findings), res.Findings[0].Exposure)
	}
}
