package local_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/gittest"
	"github.com/keysweep/keysweep/local"
	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// Tokens assembled at run time, so that this file holds none.
var (
	tokA = "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE"
	tokB = "ghp_" + "Q7jKl1Wp8SyV3uA6mB0oC5rE2fG4hJ9zY0xD"
	tokC = "ghp_" + "P6iJk0Vo7RxU2tZ5lA9nB4qD1eF3gH8yX9wC"
)

// reporter records what Run gives it.
type reporter struct {
	calls int
	got   []finding.Finding
	err   error
}

var _ local.Reporter = (*reporter)(nil)

func (r *reporter) Report(fs []finding.Finding) error {
	r.calls++
	r.got = append(r.got, fs...)
	return r.err
}

// progress records what Run tells it; the scan calls Scanned from several
// goroutines.
type progress struct {
	mu       sync.Mutex
	scanned  int
	finished int
	stages   []string
	total    int64
}

func (p *progress) Stage(stage string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stages = append(p.stages, stage)
	p.total = max(p.total, total)
}

var _ local.Progress = (*progress)(nil)

func (p *progress) Scanned(blobs, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.scanned++
}

func (p *progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished++
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func defaults(t *testing.T) *config.Setup {
	t.Helper()
	s, err := config.Resolve(config.Files{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// where is what identifies a finding in these tests.
type where struct{ RuleID, Secret, Commit, Path string }

func wheres(fs []finding.Finding) []where {
	var out []where
	for _, f := range fs {
		out = append(out, where{f.RuleID, f.Secret, f.Commit, f.Path})
	}
	return out
}

// summary returns the line of log that starts "keysweep: scanned ".
func summary(log string) string {
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, "keysweep: scanned ") {
			return line
		}
	}
	return ""
}

// TestRun runs each source over content with and without a secret: the
// reporter gets what was found, the summary counts it, and the error says
// whether there were findings.
func TestRun(t *testing.T) {
	t.Parallel()

	// History: a token added, then removed; the work tree is clean.
	leaky := gittest.New(t)
	leaky.Write("README.md", "# demo\n")
	first := leaky.Commit("init")
	leaky.Write("deploy/prod.env", "REGION=eu-west-1\nGITHUB_TOKEN="+tokA+"\n")
	added := leaky.Commit("add prod settings")
	leaky.Remove("deploy/prod.env")
	removed := leaky.Commit("oops, remove secrets")

	clean := gittest.New(t)
	clean.Write("README.md", "# demo\n")
	clean.Commit("init")
	clean.Write("main.go", "package main\n")
	clean.Commit("code")

	dir := t.TempDir()
	write(t, filepath.Join(dir, ".env"), "GITHUB_TOKEN="+tokB+"\n")
	write(t, filepath.Join(dir, "src", "a.txt"), "hello\n")
	cleanDir := t.TempDir()
	write(t, filepath.Join(cleanDir, "a.txt"), "hello\n")

	// Staged: one token staged, another only in the work tree.
	staged := gittest.New(t)
	staged.Write("README.md", "# app\n")
	staged.Commit("init")
	staged.Write("deploy.sh", "export GITHUB_TOKEN="+tokC+"\n")
	staged.Git("add", "deploy.sh")
	staged.Write("README.md", "# app\ntoken: "+tokB+"\n")
	nothingStaged := gittest.New(t)
	nothingStaged.Write("README.md", "# app\n")
	nothingStaged.Commit("init")
	nothingStaged.Write("README.md", "# app\ntoken: "+tokB+"\n")

	tests := []struct {
		name    string
		src     local.Source
		want    []where
		summary string // the start of the summary line
	}{
		{"git with a secret in history", local.Git{Path: leaky.Dir}, []where{{"github-token", tokA, added, "deploy/prod.env"}}, "keysweep: scanned 3 commits, 2 blobs ("},
		{"git, clean", local.Git{Path: clean.Dir}, nil, "keysweep: scanned 2 commits, 2 blobs ("},
		{"git range with the secret", local.Git{Path: leaky.Dir, Range: &gitsrc.Range{Base: first, Head: added}}, []where{{"github-token", tokA, added, "deploy/prod.env"}}, "keysweep: scanned 1 commit, 1 blob ("},
		{"git range after the secret", local.Git{Path: leaky.Dir, Range: &gitsrc.Range{Base: added, Head: removed}}, nil, "keysweep: scanned 1 commit, 0 blobs ("},
		{"dir with a secret", local.Dir{Path: dir}, []where{{"github-token", tokB, "", ".env"}}, "keysweep: scanned 2 files ("},
		{"dir, one file", local.Dir{Path: filepath.Join(dir, ".env")}, []where{{"github-token", tokB, "", ".env"}}, "keysweep: scanned 1 file ("},
		{"dir, clean", local.Dir{Path: cleanDir}, nil, "keysweep: scanned 1 file ("},
		{"staged secret", local.Staged{Top: staged.Dir}, []where{{"github-token", tokC, "", "deploy.sh"}}, "keysweep: scanned 1 file ("},
		{"nothing staged", local.Staged{Top: nothingStaged.Dir}, nil, "keysweep: scanned 0 files ("},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			rep := &reporter{}
			err := local.Run(context.Background(), local.Options{
				Source: tt.src, Setup: defaults(t), Report: rep, Log: &log,
				Scan: scanner.Options{MaxBlobSize: scanner.DefaultMaxBlobSize},
			})
			wantErr := error(nil)
			if len(tt.want) > 0 {
				wantErr = finding.ErrFindings
			}
			if !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
				t.Errorf("Run: %v, want %v", err, wantErr)
			}
			if rep.calls != 1 {
				t.Errorf("Report called %d times, want once", rep.calls)
			}
			if diff := cmp.Diff(tt.want, wheres(rep.got)); diff != "" {
				t.Errorf("reported (-want +got):\n%s", diff)
			}
			line := summary(log.String())
			count := "; 0 findings"
			if len(tt.want) == 1 {
				count = "; 1 finding"
			}
			if !strings.HasPrefix(line, tt.summary) || !strings.HasSuffix(line, count) {
				t.Errorf("summary %q, want %q...%q; log:\n%s", line, tt.summary, count, log.String())
			}
			if strings.Contains(log.String(), "not reported") {
				t.Errorf("the defaults suppressed something:\n%s", log.String())
			}
		})
	}
}

// TestRunErrors: a scan that could not start reports nothing and returns
// its error; one that could not read everything reports what it found and
// returns its error, not finding.ErrFindings.
func TestRunErrors(t *testing.T) {
	t.Parallel()
	missing := gittest.New(t)
	missing.Write("README.md", "# demo\n")
	missing.Commit("init")
	missing.Write("deploy/prod.env", "GITHUB_TOKEN="+tokA+"\n")
	added := missing.Commit("add prod settings")
	if err := os.Remove(missing.ObjectPath(missing.BlobID("# demo\n"))); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		src     local.Source
		is      error
		want    []where
		summary string // "" when no summary is written
	}{
		{"git, not a repository", local.Git{Path: t.TempDir()}, gitsrc.ErrNotRepository, nil, ""},
		{"git, no such path", local.Git{Path: filepath.Join(t.TempDir(), "nope")}, os.ErrNotExist, nil, ""},
		{"git, unknown base", local.Git{Path: missing.Dir, Range: &gitsrc.Range{Base: "no-such-rev", Head: "HEAD"}}, nil, nil, ""},
		{"staged, not a repository", local.Staged{Top: t.TempDir()}, gitsrc.ErrNotRepository, nil, ""},
		{"dir, no such path", local.Dir{Path: filepath.Join(t.TempDir(), "nope")}, os.ErrNotExist, nil, ""},
		{"git, an object missing", local.Git{Path: missing.Dir}, scanner.ErrIncomplete, []where{{"github-token", tokA, added, "deploy/prod.env"}}, "; 1 object missing; 1 finding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			rep := &reporter{}
			prog := &progress{}
			err := local.Run(context.Background(), local.Options{
				Source: tt.src, Setup: defaults(t), Report: rep, Log: &log, Progress: prog,
			})
			if err == nil || errors.Is(err, finding.ErrFindings) {
				t.Fatalf("Run: %v, want the scan's error", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Run: %v, want one wrapping %v", err, tt.is)
			}
			if strings.Contains(err.Error(), tokA) {
				t.Errorf("the error holds the secret: %v", err)
			}
			if diff := cmp.Diff(tt.want, wheres(rep.got)); diff != "" {
				t.Errorf("reported (-want +got):\n%s", diff)
			}
			if prog.finished != 1 {
				t.Errorf("Progress.Finish called %d times, want once", prog.finished)
			}
			line := summary(log.String())
			switch {
			case tt.summary == "" && (rep.calls != 0 || line != ""):
				t.Errorf("a scan that did not run: Report called %d times, summary %q", rep.calls, line)
			case tt.summary != "" && (rep.calls != 1 || !strings.HasSuffix(line, tt.summary)):
				t.Errorf("an incomplete scan: Report called %d times, summary %q; want once and %q", rep.calls, line, tt.summary)
			}
		})
	}
}

// TestRunProgress: the bar sees the blobs go by and is finished before the
// summaries are written.
func TestRunProgress(t *testing.T) {
	t.Parallel()
	r := gittest.New(t)
	r.Write("a.txt", "one\n")
	r.Write("b.txt", "two\n")
	r.Commit("two files")
	var log bytes.Buffer
	prog := &progress{}
	err := local.Run(context.Background(), local.Options{
		Source: local.Git{Path: r.Dir}, Setup: defaults(t), Report: &reporter{}, Log: &log, Progress: prog,
	})
	if err != nil {
		t.Fatal(err)
	}
	if prog.scanned != 2 || prog.finished != 1 {
		t.Errorf("Scanned called %d times, Finish %d; want 2 and 1", prog.scanned, prog.finished)
	}
	// The stages in order, and the total once the walk has counted it.
	if strings.Join(prog.stages, ", ") != "listing refs, walking history, scanning" || prog.total != 2 {
		t.Errorf("stages %v, total %d", prog.stages, prog.total)
	}
	// The bar's line is ended before the summary.
	if !strings.HasPrefix(log.String(), "\nkeysweep: scanned 1 commit, 2 blobs (") {
		t.Errorf("log:\n%q", log.String())
	}
}

// TestRunSuppressed: the source's own configuration, resolved by the
// caller, suppresses findings; what it suppressed is counted in the log,
// and a scan whose findings are all suppressed is clean.
func TestRunSuppressed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := gittest.New(t)
	r.Write(config.FileName, "[allowlist]\npaths = [\"fixtures/\"]\n")
	r.Write(config.IgnoreFileName, "github-token:00000000000000ff nothing matches this\n")
	r.Write("fixtures/token.txt", "token: "+tokA+"\n")
	r.Write("src/client.go", "var t = \""+tokB+"\" // keysweep:allow: the public demo token\n")
	r.Commit("fixtures")
	src := local.Git{Path: r.Dir}
	setup, err := config.Resolve(config.Files{Read: src.Config(ctx)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	rep := &reporter{}
	if err := local.Run(ctx, local.Options{Source: src, Setup: setup, Report: rep, Log: &log}); err != nil {
		t.Errorf("Run: %v, want nil", err)
	}
	if rep.calls != 1 || len(rep.got) != 0 {
		t.Errorf("Report called %d times with %v; want once with nothing", rep.calls, wheres(rep.got))
	}
	for _, want := range []string{
		"; 0 findings\n",
		"keysweep: not reported: 1 allowlisted, 1 marked keysweep:allow\n",
		"unused ignore of github-token:00000000000000ff (nothing matches this)\n",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

// TestRunReportError: a reporter that fails ends the run with its error,
// before any summary.
func TestRunReportError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, ".env"), "GITHUB_TOKEN="+tokB+"\n")
	errFull := errors.New("disk full")
	var log bytes.Buffer
	err := local.Run(context.Background(), local.Options{
		Source: local.Dir{Path: dir}, Setup: defaults(t), Report: &reporter{err: errFull}, Log: &log,
	})
	if !errors.Is(err, errFull) {
		t.Errorf("Run: %v, want %v", err, errFull)
	}
	if line := summary(log.String()); line != "" {
		t.Errorf("summary %q written after the report failed", line)
	}
}
