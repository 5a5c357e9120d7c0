package scanner

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/gittest"
)

// Fake credentials, assembled so that this file holds none.
var (
	keyID   = "AKIA" + "QYLPMN5HHHFPZAM2"
	secret  = "9dr/Wq+XyWX" + "9kM2Lp3QzR8vT0bN6cHjE4fUaGs1Q"
	envPair = "AWS_ACCESS_KEY_ID=" + keyID + "\nAWS_SECRET_ACCESS_KEY=" + secret + "\n"
	ghToken = "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE"
)

// loc is what a test checks of a finding.
type loc struct {
	Rule   string
	Commit string
	Path   string
	Line   int
	Column int
}

func locs(fs []finding.Finding) []loc {
	var out []loc
	for _, f := range fs {
		out = append(out, loc{f.RuleID, f.Commit, f.Path, f.Line, f.Column})
	}
	return out
}

func scanRepo(t *testing.T, dir string, opts Options) *Result {
	t.Helper()
	res, err := Git(context.Background(), dir, detectors.Default(), opts)
	if err != nil {
		t.Fatalf("Git() error: %v", err)
	}
	return res
}

func TestGitHistory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		build func(r *gittest.Repo) []loc
	}{
		{"secret committed then deleted", func(r *gittest.Repo) []loc {
			r.Write("README.md", "hello\n")
			r.Commit("init")
			r.Write("config/.env", "# prod\n"+envPair)
			c := r.Commit("add config")
			r.Remove("config/.env")
			r.Commit("remove config")
			return []loc{{detectors.AWSKeyRule, c, "config/.env", 2, 19}}
		}},
		{"secret only on an unmerged branch", func(r *gittest.Repo) []loc {
			r.Write("a.txt", "a\n")
			r.Commit("init")
			r.Git("checkout", "-q", "-b", "feature")
			r.Write("ci.yml", "token: "+ghToken+"\n")
			c := r.Commit("wip")
			r.Git("checkout", "-q", "main")
			return []loc{{"github-token", c, "ci.yml", 1, 8}}
		}},
		{"secret only on a remote-tracking branch", func(r *gittest.Repo) []loc {
			r.Write("a.txt", "a\n")
			r.Commit("init")
			r.Git("checkout", "-q", "-b", "tmp")
			r.Write("r.env", envPair)
			c := r.Commit("pushed by someone else")
			r.Git("update-ref", "refs/remotes/origin/feature", c)
			r.Git("checkout", "-q", "main")
			r.Git("branch", "-D", "tmp")
			return []loc{{detectors.AWSKeyRule, c, "r.env", 1, 19}}
		}},
		{"secret only behind a lightweight tag", func(r *gittest.Repo) []loc {
			r.Write("a.txt", "a\n")
			r.Commit("init")
			r.Git("checkout", "-q", "-b", "tmp")
			r.Write("t.yml", "token: "+ghToken+"\n")
			c := r.Commit("tagged")
			r.Git("tag", "v1-light")
			r.Git("checkout", "-q", "main")
			r.Git("branch", "-D", "tmp")
			return []loc{{"github-token", c, "t.yml", 1, 8}}
		}},
		{"secret in an orphan commit reachable only from an annotated tag", func(r *gittest.Repo) []loc {
			r.Write("a.txt", "a\n")
			r.Commit("init")
			r.Git("checkout", "-q", "--orphan", "hidden")
			r.Git("rm", "-rfq", ".")
			r.Write("keys.txt", "id "+keyID+"\n")
			c := r.Commit("orphan")
			r.Git("tag", "-a", "-m", "hidden", "v0-hidden")
			r.Git("checkout", "-q", "main")
			r.Git("branch", "-D", "hidden")
			return []loc{{detectors.AWSKeyIDRule, c, "keys.txt", 1, 4}}
		}},
		{"secret introduced by a merge's conflict resolution", func(r *gittest.Repo) []loc {
			r.Write("app.conf", "token = none\n")
			r.Commit("init")
			r.Git("checkout", "-q", "-b", "other")
			r.Write("app.conf", "token = other\n")
			r.Commit("other")
			r.Git("checkout", "-q", "main")
			r.Write("app.conf", "token = mine\n")
			r.Commit("mine")
			r.GitFails("merge", "-q", "other")
			r.Write("app.conf", "token = "+ghToken+"\n")
			r.Git("add", "app.conf")
			r.Git("commit", "-q", "--no-edit")
			merge := r.Git("rev-parse", "HEAD")
			return []loc{{"github-token", merge, "app.conf", 1, 9}}
		}},
		{"renamed file is not a new finding", func(r *gittest.Repo) []loc {
			r.Write("old/name.env", envPair)
			c := r.Commit("add")
			r.Git("mv", "old/name.env", "new name.env")
			r.Commit("rename")
			return []loc{{detectors.AWSKeyRule, c, "old/name.env", 1, 19}}
		}},
		{"edited file reports the secret once per path", func(r *gittest.Repo) []loc {
			r.Write("cfg.ini", "[aws]\n"+envPair)
			c := r.Commit("add")
			r.Write("cfg.ini", "[aws]\nregion=us-east-1\n"+envPair)
			r.Commit("edit")
			return []loc{{detectors.AWSKeyRule, c, "cfg.ini", 2, 19}}
		}},
		{"same secret in two files is two findings", func(r *gittest.Repo) []loc {
			r.Write("a.env", envPair)
			r.Write("b/c.sh", "export X=1\n"+envPair)
			c := r.Commit("add")
			return []loc{{detectors.AWSKeyRule, c, "a.env", 1, 19}, {detectors.AWSKeyRule, c, "b/c.sh", 2, 19}}
		}},
		{"crlf line ends", func(r *gittest.Repo) []loc {
			r.Write("win.env", "A=1\r\nB=2\r\nAWS_ACCESS_KEY_ID="+keyID+"\r\nAWS_SECRET_ACCESS_KEY="+secret+"\r\n")
			c := r.Commit("crlf")
			return []loc{{detectors.AWSKeyRule, c, "win.env", 3, 19}}
		}},
		{"20 KB single line", func(r *gittest.Repo) []loc {
			r.Write("app.min.js", strings.Repeat("var a=1;", 2500)+`var t="`+ghToken+`";`+"\n")
			c := r.Commit("minified")
			return []loc{{"github-token", c, "app.min.js", 1, 20008}}
		}},
		{"multi-MB file", func(r *gittest.Repo) []loc {
			r.Write("big.log", strings.Repeat("INFO all good here\n", 200000)+"key="+keyID+"\n")
			c := r.Commit("big")
			return []loc{{detectors.AWSKeyIDRule, c, "big.log", 200001, 5}}
		}},
		{"unicode path with spaces and column in characters", func(r *gittest.Repo) []loc {
			r.Write("dossier été/clé secrète.txt", "clé: "+ghToken+"\n")
			c := r.Commit("unicode")
			return []loc{{"github-token", c, "dossier été/clé secrète.txt", 1, 6}}
		}},
		{"example keys and decoys are not findings", func(r *gittest.Repo) []loc {
			r.Write("README.md", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
			r.Write("go.sum", "github.com/a/token v1.0.0 h1:Xk9mP2vL7qR4wZ8f14e45fceea167a5a36dedd4be=\n")
			r.Write("ids.yaml", "token: 123e4567-e89b-12d3-a456-426614174000\ncommit: 3f786850e387550fdab836ed7e6dc881de23001b\n")
			r.Write("logo.txt", "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\n")
			r.Commit("decoys")
			return nil
		}},
		{"binary blob is skipped", func(r *gittest.Repo) []loc {
			r.Write("bin.dat", "\x00\x01"+envPair)
			r.Commit("binary")
			return nil
		}},
		{"stash entries, not only the newest", func(r *gittest.Repo) []loc {
			r.Write("a.txt", "a\n")
			r.Commit("init")
			r.Write("a.txt", "a\ntoken: "+ghToken+"\n")
			r.Git("stash", "-q")
			stashed := r.Git("rev-parse", "stash@{0}")
			r.Write("a.txt", "b\n")
			r.Git("stash", "-q")
			return []loc{{"github-token", stashed, "a.txt", 2, 8}}
		}},
		{"detached HEAD", func(r *gittest.Repo) []loc {
			r.Write("a.txt", "a\n")
			r.Commit("init")
			r.Git("checkout", "-q", "--detach")
			r.Write("b.env", envPair)
			c := r.Commit("detached")
			return []loc{{detectors.AWSKeyRule, c, "b.env", 1, 19}}
		}},
		{"refs that point at a blob and a tree", func(r *gittest.Repo) []loc {
			r.Write("a.txt", "a\n")
			r.Commit("init")
			id := r.BlobID("token: " + ghToken + "\n")
			r.Write("t/blob.txt", "token: "+ghToken+"\n")
			r.Git("hash-object", "-w", "t/blob.txt")
			r.Git("update-ref", "refs/tags/blob-tag", id)
			r.Write("t/tree.env", envPair)
			r.Git("add", "t/tree.env")
			tree := r.Git("write-tree", "--prefix=t/")
			r.Git("update-ref", "refs/keep/tree", tree)
			r.Git("reset", "-q")
			return []loc{
				{detectors.AWSKeyRule, "", "refs/keep/tree:tree.env", 1, 19},
				{"github-token", "", "refs/tags/blob-tag", 1, 8},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := gittest.New(t)
			want := tt.build(r)
			got := scanRepo(t, r.Dir, Options{Workers: 2})
			if diff := cmp.Diff(want, locs(got.Findings)); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGitScansEachBlobOnce(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	for i := 0; i < 5; i++ {
		r.Write("same.txt", "unchanged\n")
		r.Write("n.txt", strings.Repeat("x", i+1)+"\n")
		r.Commit("c")
	}
	r.Git("branch", "copy")
	r.Git("tag", "t1")
	res := scanRepo(t, r.Dir, Options{})
	// same.txt once, n.txt five times.
	if res.Stats.Blobs != 6 || res.Stats.Commits != 5 {
		t.Errorf("scanned %d blobs in %d commits, want 6 in 5", res.Stats.Blobs, res.Stats.Commits)
	}
}

func TestGitAllOccurrences(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.env", envPair)
	c1 := r.Commit("add")
	r.Git("mv", "a.env", "b.env")
	c2 := r.Commit("rename")
	r.Write("b.env", "# moved\n"+envPair)
	c3 := r.Commit("edit")
	res := scanRepo(t, r.Dir, Options{AllOccurrences: true})
	want := []loc{
		{detectors.AWSKeyRule, c1, "a.env", 1, 19},
		{detectors.AWSKeyRule, c2, "b.env", 1, 19},
		{detectors.AWSKeyRule, c3, "b.env", 2, 19},
	}
	if diff := cmp.Diff(want, locs(res.Findings)); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s", diff)
	}
}

func TestGitAuthorAndAccount(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write(".env", envPair)
	r.Commit("add")
	res := scanRepo(t, r.Dir, Options{})
	if len(res.Findings) != 1 {
		t.Fatalf("got %d findings, want 1", len(res.Findings))
	}
	f := res.Findings[0]
	if f.Author != "Alice Example" || f.Email != "alice@example.com" || !strings.HasPrefix(f.Date, "2024-01-01T00:") {
		t.Errorf("author = %q <%s> %s", f.Author, f.Email, f.Date)
	}
	if f.KeyID != keyID || f.Account() == "" || f.Secret != secret {
		t.Errorf("key %q account %q secret %q", f.KeyID, f.Account(), f.Secret)
	}
}

func TestGitBareAndEmpty(t *testing.T) {
	t.Parallel()
	empty := gittest.New(t)
	if res := scanRepo(t, empty.Dir, Options{}); len(res.Findings) != 0 || res.Stats.Commits != 0 {
		t.Errorf("empty repository: %d findings, %d commits", len(res.Findings), res.Stats.Commits)
	}
	src := gittest.New(t)
	src.Write(".env", envPair)
	src.Commit("add")
	bare := gittest.NewBare(t)
	src.Git("push", "-q", bare.Dir, "main")
	if res := scanRepo(t, bare.Dir, Options{}); len(res.Findings) != 1 {
		t.Errorf("bare repository: %d findings, want 1", len(res.Findings))
	}
}

func TestGitMaxBlobSize(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("big.env", strings.Repeat("#\n", 1000)+envPair)
	r.Commit("big")
	res := scanRepo(t, r.Dir, Options{MaxBlobSize: 1000})
	if len(res.Findings) != 0 || res.Stats.SkippedLarge != 1 {
		t.Errorf("got %d findings, %d skipped as large; want 0 and 1", len(res.Findings), res.Stats.SkippedLarge)
	}
}

func TestGitErrors(t *testing.T) {
	t.Parallel()
	t.Run("not a repository", func(t *testing.T) {
		t.Parallel()
		_, err := Git(context.Background(), t.TempDir(), detectors.Default(), Options{})
		if err == nil || !strings.Contains(err.Error(), "not a git repository") {
			t.Errorf("err = %v, want not a git repository", err)
		}
	})
	t.Run("corrupt object", func(t *testing.T) {
		t.Parallel()
		r := gittest.New(t)
		r.Write("a.txt", "some content\n")
		r.Commit("a")
		p := r.ObjectPath(r.BlobID("some content\n"))
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("this is not zlib"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Git(context.Background(), r.Dir, detectors.Default(), Options{})
		if err == nil {
			t.Fatal("scan of a corrupt repository succeeded")
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
	})
	t.Run("missing object", func(t *testing.T) {
		t.Parallel()
		r := gittest.New(t)
		r.Write("gone.txt", "will be lost\n")
		r.Write(".env", envPair)
		r.Commit("a")
		if err := os.Remove(r.ObjectPath(r.BlobID("will be lost\n"))); err != nil {
			t.Fatal(err)
		}
		res, err := Git(context.Background(), r.Dir, detectors.Default(), Options{})
		if !errors.Is(err, ErrIncomplete) {
			t.Fatalf("err = %v, want ErrIncomplete", err)
		}
		if res == nil || len(res.Findings) != 1 {
			t.Fatalf("findings of an incomplete scan were lost: %+v", res)
		}
		res, err = Git(context.Background(), r.Dir, detectors.Default(), Options{AllowMissing: true})
		if err != nil || len(res.Stats.Missing) != 1 || len(res.Findings) != 1 {
			t.Errorf("--allow-missing: err %v, missing %v, %d findings", err, res.Stats.Missing, len(res.Findings))
		}
	})
}
