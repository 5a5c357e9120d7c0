package github

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/ghtest"
	"github.com/keysweep/keysweep/internal/gittest"
)

// Secrets assembled at run time, so that this file holds none.
var (
	testToken   = "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE"
	testToken2  = "ghp_" + "Q7jKl1Wp8SyV3uA6mB0oC5rE2fG4hJ9zY0xD"
	testKeyID   = "AKIA" + "ZR3VQ7WXK2MDTE6B"
	testSecret  = "9dr/Wq+XyWX" + "9kM2Lp3QzR8vT0bN6cHjE4fUaGs1Q"
	standInAuth = "ghp_" + "StandInTokenForTheSweepTests00000000"
)

// keys lists findings as "repository fingerprint path".
func keys(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Repository+" "+f.Fingerprint+" "+f.Path)
	}
	sort.Strings(out)
	return out
}

// TestStatePending: Save marks the findings it adds pending, Delivered
// clears exactly those it is given, Delete forgets them; a state file
// written before pending findings existed opens with nothing pending.
func TestStatePending(t *testing.T) {
	t.Parallel()
	id := strings.Repeat("a", 40)
	tips := map[string]string{"refs/heads/main": id}
	x := finding.Finding{Repository: "acme/a", Fingerprint: "r:1", Path: "x"}
	y := finding.Finding{Repository: "acme/a", Fingerprint: "r:2", Path: "y"}
	z := finding.Finding{Repository: "acme/b", Fingerprint: "r:1", Path: "x"}

	// A state file from before: three buckets, one repository.
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for name, kv := range map[string][2]string{
			"repos":    {"acme/old", `{"tips":{"refs/heads/main":"` + id + `"},"swept":"2025-01-01T00:00:00Z"}`},
			"blobs":    {"acme/old", ""},
			"findings": {"acme/old\x00r:9\x00old.env", `{"repository":"acme/old","rule_id":"r","fingerprint":"r:9","path":"old.env"}`},
		} {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			if err := b.Put([]byte(kv[0]), []byte(kv[1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fs, err := s.Findings("acme/old"); err != nil || len(fs) != 1 {
		t.Errorf("an old state's findings: %v %+v", err, fs)
	}
	if fs, err := s.Pending("acme/old"); err != nil || len(fs) != 0 {
		t.Errorf("an old state's findings are pending: %v %+v", err, fs)
	}

	if err := s.Save("acme/a", tips, []string{id}, []finding.Finding{x, y}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("acme/b", tips, []string{id}, []finding.Finding{z}); err != nil {
		t.Fatal(err)
	}
	pending := func(repo string) []string {
		t.Helper()
		fs, err := s.Pending(repo)
		if err != nil {
			t.Fatal(err)
		}
		return keys(fs)
	}
	if diff := cmp.Diff(keys([]finding.Finding{x, y}), pending("acme/a")); diff != "" {
		t.Errorf("pending after Save (-want +got):\n%s", diff)
	}
	if err := s.Delivered([]finding.Finding{y, z}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(keys([]finding.Finding{x}), pending("acme/a")); diff != "" {
		t.Errorf("pending after Delivered (-want +got):\n%s", diff)
	}
	if got := pending("acme/b"); len(got) != 0 {
		t.Errorf("acme/b still pending: %v", got)
	}
	if fs, _ := s.Findings("acme/a"); len(fs) != 2 {
		t.Errorf("Delivered must not forget findings: %+v", fs)
	}
	if err := s.Delete("acme/a"); err != nil {
		t.Fatal(err)
	}
	if got := pending("acme/a"); len(got) != 0 {
		t.Errorf("pending after Delete: %v", got)
	}
}

// sweepFixture is a GitHub stand-in and what a Sweep of it needs.
type sweepFixture struct {
	gh    *ghtest.Server
	hosts *Hosts
	cache string
	det   *detectors.Engine
}

func newSweepFixture(t *testing.T) *sweepFixture {
	t.Helper()
	gh := ghtest.New(t, standInAuth)
	hosts, err := NewHosts(gh.APIURL(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return &sweepFixture{gh: gh, hosts: hosts, cache: t.TempDir(), det: detectors.New(detectors.Catalog())}
}

// repo returns the Repo the API lists for fullName.
func (x *sweepFixture) repo(t *testing.T, fullName string) Repo {
	t.Helper()
	c, err := NewClient(x.hosts, nil, StaticToken(standInAuth), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Repo(context.Background(), fullName)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sweep opens the state, sweeps repos with verify (if not nil) and closes
// the state again, as one run of keysweep does; deliver says whether the
// run gets to deliver what it found, or is killed first.
func (x *sweepFixture) sweep(t *testing.T, repos []Repo, verify Verifier, deliver bool) []Outcome {
	t.Helper()
	state, err := OpenState(filepath.Join(x.cache, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	sw := &Sweep{
		Mirror:      &Mirror{Dir: x.cache, Tokens: StaticToken(standInAuth), Hosts: x.hosts},
		State:       state,
		Concurrency: 4,
		PerRepo:     2,
		Verifier:    verify,
		Detector:    x.det,
	}
	outs := sw.Run(context.Background(), repos)
	for _, o := range outs {
		if o.Err != nil {
			t.Fatalf("%s: %v", o.Repo.FullName, o.Err)
		}
		if deliver {
			if err := state.Delivered(o.New); err != nil {
				t.Fatal(err)
			}
		}
	}
	return outs
}

func where(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Repository+" "+f.Path+":"+f.RuleID)
	}
	sort.Strings(out)
	return out
}

// verifier records the secrets it is given and answers "verified".
type verifier struct {
	mu      sync.Mutex
	secrets []string
}

func (v *verifier) Process(_ context.Context, fs []finding.Finding) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for i := range fs {
		v.secrets = append(v.secrets, fs[i].Secret)
		if fs[i].KeyID != "" {
			fs[i].Verification = &finding.Verification{Status: finding.StatusVerified, Account: "111122223333"}
		}
	}
}

func (v *verifier) seen() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := append([]string(nil), v.secrets...)
	sort.Strings(out)
	return out
}

// TestSweepRedeliversUndelivered: a sweep killed after saving a
// repository and before delivering its findings leaves them pending; the
// next sweep delivers them as new, with their secrets found again in the
// mirror and verified again, and not also as known; once they are
// delivered, they are known.
func TestSweepRedeliversUndelivered(t *testing.T) {
	t.Parallel()
	x := newSweepFixture(t)
	w := x.gh.AddRepo("acme/infra", ghtest.Repo{})
	w.Write("deploy/prod.env", "REGION=eu-west-1\nAWS_ACCESS_KEY_ID="+testKeyID+"\nAWS_SECRET_ACCESS_KEY="+testSecret+"\n")
	w.Write("ci/token.txt", "# the bot\n\ntoken = "+testToken+"\n")
	w.Commit("deploy")
	w.Git("push", "-q", "origin", "main")
	repos := []Repo{x.repo(t, "acme/infra")}
	want := []string{"acme/infra ci/token.txt:github-token", "acme/infra deploy/prod.env:aws-access-key"}

	v1 := &verifier{}
	outs := x.sweep(t, repos, v1, false)
	if diff := cmp.Diff(want, where(outs[0].New)); diff != "" {
		t.Fatalf("first sweep (-want +got):\n%s", diff)
	}

	v2 := &verifier{}
	outs = x.sweep(t, repos, v2, true)
	o := outs[0]
	if diff := cmp.Diff(want, where(o.New)); diff != "" {
		t.Fatalf("after a crash, the findings are not delivered again (-want +got):\n%s", diff)
	}
	if !o.Unchanged || o.Redelivered != 2 || o.Unread != 0 || len(o.Known) != 0 {
		t.Errorf("unchanged %v, redelivered %d, unread %d, known %v", o.Unchanged, o.Redelivered, o.Unread, where(o.Known))
	}
	if diff := cmp.Diff([]string{testSecret, testToken}, v2.seen()); diff != "" {
		t.Errorf("secrets verified again (-want +got):\n%s", diff)
	}
	for _, f := range o.New {
		if f.Secret == testToken || f.Secret == testSecret {
			t.Errorf("%s: the secret is in clear", f.RuleID)
		}
		if f.RuleID == "aws-access-key" && (f.Verification == nil || f.Verification.Status != finding.StatusVerified) {
			t.Errorf("verification: %+v", f.Verification)
		}
	}

	v3 := &verifier{}
	o = x.sweep(t, repos, v3, true)[0]
	if len(o.New) != 0 || o.Redelivered != 0 || len(v3.seen()) != 0 {
		t.Errorf("delivered findings come again: %v, %d verified", where(o.New), len(v3.seen()))
	}
	if diff := cmp.Diff(want, where(o.Known)); diff != "" {
		t.Errorf("known after delivery (-want +got):\n%s", diff)
	}
}

// TestReread: the secrets of findings in a blob and in a commit message
// are found again; findings whose object is gone, or no longer holds a
// secret with their fingerprint, are returned as they were.
func TestReread(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	content := "token: " + testToken + "\nother: " + testToken2 + "\n"
	r.Write("a.txt", content)
	commit := r.Commit("init\n\nthe CI token is " + testToken)
	blob := r.BlobID(content)
	var fps finding.Fingerprinter
	fp := fps.Fingerprint("github-token", "", testToken2)
	good := finding.Finding{RuleID: "github-token", Path: "a.txt", Line: 2, Blob: blob, Fingerprint: fp, Secret: finding.Redact(testToken2)}
	msg := finding.Finding{RuleID: "github-token", Source: finding.SourceCommitMessage, Commit: commit, Line: 3,
		Fingerprint: fps.Fingerprint("github-token", "", testToken), Secret: finding.Redact(testToken)}
	gone := good
	gone.Blob = strings.Repeat("0", 40)
	other := good
	other.Fingerprint = "github-token:00000000000000ff"
	none := good
	none.Blob = ""

	det := detectors.New(detectors.Catalog())
	found, lost, err := reread(context.Background(), r.Dir, det, &fps, []finding.Finding{gone, good, msg, other, none})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		got = append(got, f.Secret+" "+f.Blob+" "+f.Commit+" "+f.Source)
	}
	sort.Strings(got)
	want := []string{testToken + "  " + commit + " " + finding.SourceCommitMessage, testToken2 + " " + blob + "  "}
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("found (-want +got):\n%s", diff)
	}
	var lostBlobs []string
	for _, f := range lost {
		lostBlobs = append(lostBlobs, f.Blob+" "+f.Fingerprint)
	}
	sort.Strings(lostBlobs)
	want = []string{" " + fp, gone.Blob + " " + fp, blob + " " + other.Fingerprint}
	sort.Strings(want)
	if diff := cmp.Diff(want, lostBlobs); diff != "" {
		t.Errorf("lost (-want +got):\n%s", diff)
	}
}

// TestSweepUnreadPending: a pending AWS finding whose secret is not in
// the mirror any more is delivered as recorded, its verification unknown
// and saying why.
func TestSweepUnreadPending(t *testing.T) {
	t.Parallel()
	x := newSweepFixture(t)
	w := x.gh.AddRepo("acme/app", ghtest.Repo{})
	w.Write("README.md", "# app\n")
	w.Commit("init")
	w.Git("push", "-q", "origin", "main")
	repos := []Repo{x.repo(t, "acme/app")}
	x.sweep(t, repos, nil, true)

	// A finding recorded by a sweep that never delivered it, in a blob the
	// mirror does not have.
	state, err := OpenState(filepath.Join(x.cache, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := state.Load("acme/app")
	if err != nil {
		t.Fatal(err)
	}
	lost := finding.Finding{Repository: "acme/app", RuleID: "aws-access-key", Path: "gone.env", Line: 1, Blob: strings.Repeat("0", 40),
		KeyID: testKeyID, Fingerprint: finding.Fingerprint("aws-access-key", testKeyID, ""), Secret: finding.Redact(testSecret)}
	if err := state.Save("acme/app", rs.Tips, nil, []finding.Finding{lost}); err != nil {
		t.Fatal(err)
	}
	state.Close()

	v := &verifier{}
	o := x.sweep(t, repos, v, true)[0]
	if len(o.New) != 1 || o.Redelivered != 1 || o.Unread != 1 || len(v.seen()) != 0 {
		t.Fatalf("new %v, redelivered %d, unread %d, verified %q", where(o.New), o.Redelivered, o.Unread, v.seen())
	}
	if got := o.New[0].Verification; got == nil || got.Status != finding.StatusUnknown || !strings.Contains(got.Error, "not found again in the mirror") {
		t.Errorf("verification %+v", got)
	}
	if o = x.sweep(t, repos, v, true)[0]; len(o.New) != 0 {
		t.Errorf("delivered again: %v", where(o.New))
	}
}

// TestSweepRepeatedRepository: a repository listed twice (in another
// case, too) is swept once: two sweeps of one mirror and one state at
// once would race, and report its findings twice.
func TestSweepRepeatedRepository(t *testing.T) {
	t.Parallel()
	x := newSweepFixture(t)
	for _, name := range []string{"acme/a", "acme/b"} {
		w := x.gh.AddRepo(name, ghtest.Repo{})
		w.Write("ci.env", "TOKEN="+testToken+"\n")
		w.Commit("init")
		w.Git("push", "-q", "origin", "main")
	}
	a, b := x.repo(t, "acme/a"), x.repo(t, "acme/b")
	upper := a
	upper.FullName = "ACME/a"
	outs := x.sweep(t, []Repo{a, b, a, upper}, nil, true)
	var got []finding.Finding
	var names []string
	for _, o := range outs {
		names = append(names, o.Repo.FullName)
		got = append(got, o.New...)
	}
	if diff := cmp.Diff([]string{"acme/a", "acme/b"}, names); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"acme/a ci.env:github-token", "acme/b ci.env:github-token"}, where(got)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
