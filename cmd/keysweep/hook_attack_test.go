package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysweep/keysweep/internal/gittest"
)

// These tests push what an attacker would to get a secret past the
// pre-receive hook. Each was accepted before the hook learnt better.

func TestPreReceiveIgnoresInlineMarkersOfPushedContent(t *testing.T) {
	t.Parallel()
	minified := "var a=1;" + strings.Repeat("x=1;", 2000) + "t='" + tokA + "';" + strings.Repeat("y=2;", 2000) + "/*keysweep:allow*/\n"
	for _, tc := range []struct{ name, file, content, place string }{
		{"marker on the line", "ci.env", "TOKEN=" + tokA + " # keysweep:allow\n", "ci.env:1"},
		{"marker far along a minified line", "app.min.js", minified, "app.min.js:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newGitServer(t)
			s.hook("--no-bypass")
			s.seed()
			s.client.Write(tc.file, tc.content)
			s.client.Commit("add")
			checkRefusal(t, s.refused("main"), allSecrets, tc.place)
			if got := s.auditEntries(); len(got) != 0 {
				t.Errorf("a refused push was audited: %+v", got)
			}

			// The operator may trust the markers: each use is audited.
			s.hook("--trust-inline-markers")
			out := s.accepted("main")
			if !strings.Contains(out, "1 secret marked keysweep:allow let through (--trust-inline-markers), recorded in the audit log") {
				t.Errorf("trusted marker:\n%s", out)
			}
			entries := s.auditEntries()
			if len(entries) != 1 || entries[0].Action != "push-inline-allow" || entries[0].Path != tc.file || entries[0].Fingerprint == "" {
				t.Errorf("audit: %+v", entries)
			}
		})
	}
}

func TestInlineMarkersLocally(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("ci.env", "TOKEN="+tokA+" # keysweep:allow\n")
	r.Commit("marked")
	code, stdout, stderr := runCLI(t, "git", r.Dir, "--format", "jsonl")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "1 marked keysweep:allow") {
		t.Errorf("local scan honours the marker: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "git", r.Dir, "--format", "jsonl", "--ignore-inline-markers")
	if code != 1 || !strings.Contains(stdout, `"path":"ci.env"`) {
		t.Errorf("--ignore-inline-markers: exit %d\n%s", code, stdout)
	}
}

func TestPreReceiveTreeEntryNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, secretFile, sibling string }{
		// rev-list quotes the sibling's name as "!\x2fz", which reads as
		// "!/z": the secret's file "!" looked like a directory.
		{"quoted sibling", "!", `"!\x2fz"`},
		{"newline in a name", "a", "a\n" + strings.Repeat("0", 40) + " b"},
		{"sibling under the secret's name", "cfg", "cfg\x01/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newGitServer(t)
			s.hook()
			s.seed()
			c := s.client
			c.Write(tc.secretFile, "TOKEN="+tokB+"\n")
			c.Write(tc.sibling, "nothing here\n")
			c.Commit("names")
			out := s.refused("main")
			checkRefusal(t, out, allSecrets, "github-token")

			// The history scan sees it too.
			code, stdout, _ := runCLI(t, "git", c.Dir, "--format", "jsonl")
			if code != 1 || !strings.Contains(stdout, `"path":"`+tc.secretFile+`"`) {
				t.Errorf("keysweep git: exit %d\n%s", code, stdout)
			}
		})
	}
}

func TestPreReceiveReplaceRefs(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	s.hook()
	s.seed()
	c := s.client
	leaky := "TOKEN=" + tokC + "\n"
	secretBlob := c.BlobID(leaky)
	harmless := strings.TrimSpace(c.Git("hash-object", "-w", "--stdin", "--path", "x")) // empty blob
	if harmless == "" {
		t.Fatal("no blob")
	}
	// First, a harmless blob that stands in for the secret's blob.
	s.accepted(harmless + ":refs/replace/" + secretBlob)
	c.Write("app.env", leaky)
	c.Commit("leak")
	checkRefusal(t, s.refused("main"), allSecrets, "app.env:1")

	// A replace ref's own content is scanned as well.
	c.Write("other.env", "TOKEN="+tokD+"\n")
	leak := c.Git("hash-object", "-w", "other.env")
	out := s.refused(leak + ":refs/replace/" + strings.Repeat("1", 40))
	checkRefusal(t, out, allSecrets, "refs/replace/")
}

func TestPreReceiveObjectsTheServerHasButNoRefReaches(t *testing.T) {
	t.Parallel()
	t.Run("unreachable objects in the store", func(t *testing.T) {
		t.Parallel()
		s := newGitServer(t)
		s.seed()
		c := s.client
		c.Git("checkout", "-q", "-b", "smuggle")
		c.Write("deploy.env", "TOKEN="+tokE+"\n")
		leak := c.Commit("smuggled")
		// Left in the store by an earlier push, no ref pointing at them.
		s.bare.Git("fetch", "-q", c.Dir, "smuggle")
		if s.ref(leak+"^{commit}") == "" {
			t.Fatal("the objects did not reach the server")
		}
		s.hook()
		checkRefusal(t, s.refused("smuggle"), allSecrets, "deploy.env:1", "commit       "+leak[:12])

		// A new commit that refers to the smuggled blob again.
		c.Git("checkout", "-q", "main")
		c.Write("again.env", "TOKEN="+tokE+"\n")
		c.Commit("again")
		checkRefusal(t, s.refused("main"), allSecrets, "again.env:1")
	})
	t.Run("objects of a fork network's shared store", func(t *testing.T) {
		t.Parallel()
		s := newGitServer(t)
		s.seed()
		fork := gittest.NewBare(t)
		c := s.client
		c.Git("checkout", "-q", "-b", "topic")
		c.Write("deploy.env", "TOKEN="+tokE+"\n")
		leak := c.Commit("in the fork")
		c.Git("push", "-q", fork.Dir, "topic")
		writeFile(t, filepath.Join(s.bare.Dir, "objects", "info", "alternates"), filepath.Join(fork.Dir, "objects")+"\n", 0o644)
		s.hook()
		checkRefusal(t, s.refused("topic"), allSecrets, "deploy.env:1", "commit       "+leak[:12])
	})
}

func TestPreReceiveMessages(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	s.hook()
	s.seed()
	c := s.client
	c.Write("notes.txt", "nothing\n")
	c.Git("add", "-A")
	c.Git("commit", "-q", "-m", "deploy\n\nused GITHUB_TOKEN="+tokA+" for this")
	checkRefusal(t, s.refused("main"), allSecrets, "commit message", "github-token")
	c.Git("commit", "-q", "--amend", "-m", "deploy")
	s.accepted("main")

	// An annotated tag on known history, its message the leak.
	c.Git("tag", "-a", "v1", "-m", "release\n\nnpm token "+tokD)
	checkRefusal(t, s.refused("v1"), allSecrets, "tag message")
	if s.ref("refs/tags/v1") != "" {
		t.Error("a refused tag was created")
	}
}

func TestPreReceiveEncodedAndUnscannedContent(t *testing.T) {
	t.Parallel()
	creds := "aws_access_key_id = " + keyID + "\naws_secret_access_key = " + secret + "\n"
	b64 := base64.StdEncoding.EncodeToString([]byte("# config\n" + creds + "# end\n"))
	// One stray base64 character early on: everything after it decodes out
	// of step.
	odd := b64[:8] + "Q" + b64[8:]
	var xxd strings.Builder
	for h := hex.EncodeToString([]byte("GITHUB_TOKEN=" + tokA + "\n")); len(h) > 0; {
		n := min(60, len(h))
		xxd.WriteString(h[:n] + "\n")
		h = h[n:]
	}
	long := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("filler line of ordinary text\n", 10<<10) + "GITHUB_TOKEN=" + tokB + "\n"))
	for _, tc := range []struct{ name, content, rule, place string }{
		{"base64 with an odd byte", "data: " + odd + "\n", "aws-access-key ", "k8s.yaml:1"},
		{"xxd -p hex over lines", xxd.String(), "github-token", "k8s.yaml:1"},
		{"base64 run over 256 KiB", "data: " + long + "\n", "github-token", "k8s.yaml:1"},
		{"text behind a NUL byte", "\x00" + strings.Repeat("\x01", 100) + "\nGITHUB_TOKEN=" + tokB + "\n", "github-token", "k8s.yaml:2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newGitServer(t)
			s.hook("--timeout", "60s") // the race detector is slow
			s.seed()
			s.client.Write("k8s.yaml", tc.content)
			s.client.Commit("add")
			checkRefusal(t, s.refused("main"), allSecrets, tc.rule, tc.place)
		})
	}

	t.Run("content the check cannot look at", func(t *testing.T) {
		t.Parallel()
		s := newGitServer(t)
		s.hook("--max-blob-size", "1KiB")
		s.seed()
		c := s.client
		c.Write("big.txt", strings.Repeat("a", 1025))
		c.Commit("one byte over")
		out := s.accepted("main")
		if !strings.Contains(out, "not checked: 1 file larger than 1.0 KiB") {
			t.Errorf("summary:\n%s", out)
		}
		c.Write("big.txt", strings.Repeat("b", 1025))
		c.Commit("again")
		s.hook("--max-blob-size", "1KiB", "--refuse-unscanned")
		out = s.refused("main")
		if !strings.Contains(out, "push refused: it holds content the check could not look at (1 file larger than 1.0 KiB)") {
			t.Errorf("--refuse-unscanned:\n%s", out)
		}
	})
	t.Run("encoded text beyond the decode budget", func(t *testing.T) {
		t.Parallel()
		s := newGitServer(t)
		s.hook("--refuse-unscanned", "--timeout", "60s")
		s.seed()
		var b strings.Builder
		chunk := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("plain text, nothing secret here. ", 3000)))
		for b.Len() < 7<<20 {
			b.WriteString("v: " + chunk + "\n")
		}
		s.client.Write("dump.yaml", b.String())
		s.client.Commit("dump")
		out := s.refused("main")
		if !strings.Contains(out, "more encoded text than the decode budget") {
			t.Errorf("budget:\n%s", out)
		}
	})
}

func TestContentCannotReachTheTerminal(t *testing.T) {
	t.Parallel()
	s := newGitServer(t)
	s.hook()
	s.seed()
	c := s.client
	evil := "\x1b[2J\x1b]0;pwned\x07deploy\u202e.env"
	c.Write(evil, "TOKEN="+tokA+"\n")
	c.Git("add", "-A")
	c.Git("commit", "-q", "--author", "Mallory\x1b[31m <m@example.com>", "-m", "x")
	out := s.refused("main")
	checkRefusal(t, out, allSecrets, `"\033[2J\033]0;pwned\adeploy\342\200\256.env":1`, `Mallory\x1b[31m`)

	code, stdout, stderr := runCLI(t, "git", c.Dir)
	if code != 1 || !strings.Contains(stdout, `"\033[2J`) {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
	for name, text := range map[string]string{"push": out, "stdout": stdout, "stderr": stderr} {
		if strings.ContainsAny(text, "\x1b\x07\u202e") {
			t.Errorf("%s holds a raw control character: %q", name, text)
		}
	}
}

func TestUnredactedReportIsPrivate(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("ci.env", "TOKEN="+tokA+"\n")
	r.Commit("leak")
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		perm os.FileMode
	}{
		{[]string{"--no-redact"}, 0o600},
		{nil, 0o666},
	} {
		path := filepath.Join(dir, fmt.Sprint(len(tc.args))+".json")
		if code, _, stderr := runCLI(t, append([]string{"git", r.Dir, "--format", "json", "--report", path}, tc.args...)...); code != 1 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		// The umask may take more away, never add.
		if st.Mode().Perm()&^tc.perm != 0 {
			t.Errorf("%v: report mode %v, want at most %v", tc.args, st.Mode().Perm(), tc.perm)
		}
	}
}
