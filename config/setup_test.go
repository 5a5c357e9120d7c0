package config_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/gittest"
	"github.com/keysweep/keysweep/report"
)

// Tokens assembled at run time, so that this file holds none.
var (
	tokA = "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE"
	tokB = "ghp_" + "Q7jKl1Wp8SyV3uA6mB0oC5rE2fG4hJ9zY0xD"
	tokC = "ghp_" + "P6iJk0Vo7RxU2tZ5lA9nB4qD1eF3gH8yX9wC"
	tokD = "ghp_" + "N5hIj9Un6QwT1sY4kZ8mA3pC0dE2fG7xW8vB"
	tokE = "ghp_" + "M4gHi8Tm5PvS0rX3jY7lZ2oB9cD1eF6wV7uA"
)

// now is when the ignores of these tests are judged: after 2020-01-01,
// before 2999-01-01.
var now = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func fp(tok string) string { return finding.Fingerprint("github-token", "", tok) }

func write(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// leak is a GitHub token finding at path, as a scan gives it: no
// fingerprint yet.
func leak(tok, path string) finding.Finding {
	return finding.Finding{RuleID: "github-token", Description: "GitHub token", Secret: tok, Commit: "c0ffee", Path: path, Line: 1, Column: 1}
}

// writeBaseline writes fs as a JSON report, as --report does.
func writeBaseline(t *testing.T, path string, fs []finding.Finding) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.Write(f, fs, report.Options{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func keptPaths(fs []finding.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}

// TestResolvePrecedence: a file the user names wins over the repository's,
// which wins over the defaults, for the configuration and the ignores
// independently; a baseline is only ever named by the user; and without
// Read the repository's files are not read at all.
func TestResolvePrecedence(t *testing.T) {
	t.Parallel()
	repo := t.TempDir()
	repoConfig := write(t, filepath.Join(repo, config.FileName), "[allowlist]\npaths = [\"repo-allowed/\"]\n")
	repoIgnores := write(t, filepath.Join(repo, config.IgnoreFileName), fp(tokB)+" the repository's ignore\n")
	ops := t.TempDir()
	opConfig := write(t, filepath.Join(ops, "operator.toml"), "[allowlist]\npaths = [\"op-allowed/\"]\n")
	opIgnores := write(t, filepath.Join(ops, "operator.ignore"), fp(tokC)+" the operator's ignore\n")
	baseline := writeBaseline(t, filepath.Join(ops, "base.json"), []finding.Finding{leak(tokD, "base.go")})
	bare := t.TempDir() // holds neither file

	// Each finding is dropped by one source only.
	findings := func() []finding.Finding {
		return []finding.Finding{
			leak(tokA, "repo-allowed/a.go"),
			leak(tokA, "op-allowed/a.go"),
			leak(tokB, "b.go"),
			leak(tokC, "c.go"),
			leak(tokD, "base.go"),
			leak(tokE, "e.go"),
		}
	}
	all := keptPaths(findings())
	without := func(drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(p string) bool { return slices.Contains(drop, p) })
	}

	tests := []struct {
		name    string
		files   config.Files
		sources []string
		kept    []string
		counts  map[string]int
	}{
		{
			name:   "defaults",
			kept:   all,
			counts: map[string]int{},
		},
		{
			name:    "repository's files",
			files:   config.Files{Read: config.DirFile(repo)},
			sources: []string{repoConfig, repoIgnores},
			kept:    without("repo-allowed/a.go", "b.go"),
			counts:  map[string]int{config.ByAllowlist: 1, config.ByIgnore: 1},
		},
		{
			name:   "repository without files",
			files:  config.Files{Read: config.DirFile(bare)},
			kept:   all,
			counts: map[string]int{},
		},
		{
			name:    "--config over the repository's, whose ignores still hold",
			files:   config.Files{Config: opConfig, Read: config.DirFile(repo)},
			sources: []string{opConfig, repoIgnores},
			kept:    without("op-allowed/a.go", "b.go"),
			counts:  map[string]int{config.ByAllowlist: 1, config.ByIgnore: 1},
		},
		{
			name:    "--ignore-file over the repository's, whose config still holds",
			files:   config.Files{Ignores: opIgnores, Read: config.DirFile(repo)},
			sources: []string{repoConfig, opIgnores},
			kept:    without("repo-allowed/a.go", "c.go"),
			counts:  map[string]int{config.ByAllowlist: 1, config.ByIgnore: 1},
		},
		{
			name:    "everything named by the user",
			files:   config.Files{Config: opConfig, Ignores: opIgnores, Baseline: baseline, Read: config.DirFile(repo)},
			sources: []string{opConfig, opIgnores, baseline},
			kept:    without("op-allowed/a.go", "c.go", "base.go"),
			counts:  map[string]int{config.ByAllowlist: 1, config.ByIgnore: 1, config.ByBaseline: 1},
		},
		{
			name:    "untrusted repository: only the user's files",
			files:   config.Files{Baseline: baseline},
			sources: []string{baseline},
			kept:    without("base.go"),
			counts:  map[string]int{config.ByBaseline: 1},
		},
		{
			name:    "untrusted repository, the user's config",
			files:   config.Files{Config: opConfig},
			sources: []string{opConfig},
			kept:    without("op-allowed/a.go"),
			counts:  map[string]int{config.ByAllowlist: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := config.Resolve(tt.files, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.sources, s.Sources); diff != "" {
				t.Errorf("Sources (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.kept, keptPaths(s.Filter(findings()))); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.counts, s.Suppressed().Counts); diff != "" {
				t.Errorf("Suppressed().Counts (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolveReadsOnlyWhatItNeeds: the repository's files are asked for
// only when the user named none, and each at most once.
func TestResolveReadsOnlyWhatItNeeds(t *testing.T) {
	t.Parallel()
	ops := t.TempDir()
	opConfig := write(t, filepath.Join(ops, "operator.toml"), "# nothing\n")
	opIgnores := write(t, filepath.Join(ops, "operator.ignore"), "# nothing\n")
	tests := []struct {
		name  string
		files config.Files
		asked []string
	}{
		{"nothing named", config.Files{}, []string{config.FileName, config.IgnoreFileName, config.GitleaksIgnoreFileName}},
		{"config named", config.Files{Config: opConfig}, []string{config.IgnoreFileName, config.GitleaksIgnoreFileName}},
		{"ignores named", config.Files{Ignores: opIgnores}, []string{config.FileName}},
		{"both named", config.Files{Config: opConfig, Ignores: opIgnores}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var asked []string
			files := tt.files
			files.Read = func(name string) ([]byte, string, bool, error) {
				asked = append(asked, name)
				return nil, "", false, nil
			}
			if _, err := config.Resolve(files, now); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.asked, asked); diff != "" {
				t.Errorf("files asked for (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("disk on fire")
	repoFiles := func(files map[string]string) config.RepoFile {
		return func(name string) ([]byte, string, bool, error) {
			data, ok := files[name]
			return []byte(data), "repo/" + name, ok, nil
		}
	}
	dir := t.TempDir()
	badIgnore := write(t, filepath.Join(dir, "bad.ignore"), fp(tokA)+"\n")
	notReport := write(t, filepath.Join(dir, "notes.json"), "{\"hello\": 1}\n")
	tests := []struct {
		name  string
		files config.Files
		want  string
		is    error
	}{
		{"unreadable repository file", config.Files{Read: func(string) ([]byte, string, bool, error) { return nil, "", false, errDisk }}, "disk on fire", errDisk},
		{"bad repository config", config.Files{Read: repoFiles(map[string]string{config.FileName: "[allowlist]\npath = []\n"})}, `repo/.keysweep.toml: unknown key "allowlist.path"`, nil},
		{"bad repository ignores", config.Files{Read: repoFiles(map[string]string{config.IgnoreFileName: "nonsense\n"})}, `repo/.keysweepignore:1: "nonsense" is not a fingerprint`, nil},
		{"missing --config", config.Files{Config: filepath.Join(dir, "none.toml")}, "read config", os.ErrNotExist},
		{"missing --ignore-file", config.Files{Ignores: filepath.Join(dir, "none")}, "read ignores", os.ErrNotExist},
		{"ignore without reason", config.Files{Ignores: badIgnore}, "has no reason", nil},
		{"missing baseline", config.Files{Baseline: filepath.Join(dir, "none.json")}, "read baseline", os.ErrNotExist},
		{"baseline that is no report", config.Files{Baseline: notReport}, "read baseline", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := config.Resolve(tt.files, now)
			if err == nil {
				t.Fatalf("Resolve succeeded with sources %v, want an error containing %q", s.Sources, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %q, want one line containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want one wrapping %v", err, tt.is)
			}
		})
	}
}

// TestGitFile: the work tree's file from anywhere in it (HEAD's when the
// work tree has none), HEAD's in a bare repository.
func TestGitFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	work := gittest.New(t)
	work.Write(config.FileName, "# committed\n")
	work.Write(config.IgnoreFileName, fp(tokA)+" committed\n")
	work.Write("src/deep/main.go", "package main\n")
	work.Commit("config")
	work.Write(config.FileName, "# edited, not committed\n")
	work.Remove(config.IgnoreFileName)

	bare := t.TempDir()
	work.Git("clone", "-q", "--bare", work.Dir, bare)
	// A file lying in a bare repository's directory (or a work tree's
	// git directory) is not the project's: HEAD's is read.
	write(t, filepath.Join(bare, config.FileName), "# stray, in the git directory\n")
	write(t, filepath.Join(work.Dir, ".git", config.FileName), "# stray, in the git directory\n")

	plain := t.TempDir()
	write(t, filepath.Join(plain, config.FileName), "# a plain directory\n")

	empty := gittest.New(t) // no commit: HEAD names nothing

	type result struct {
		Data, Source string
		OK           bool
	}
	tests := []struct {
		name, path, file string
		want             result
	}{
		{"top of the work tree", work.Dir, config.FileName, result{"# edited, not committed\n", filepath.Join(work.Dir, config.FileName), true}},
		{"subdirectory: the top's file", filepath.Join(work.Dir, "src", "deep"), config.FileName, result{"# edited, not committed\n", filepath.Join(work.Dir, config.FileName), true}},
		{"removed from the work tree: HEAD's", filepath.Join(work.Dir, "src"), config.IgnoreFileName, result{fp(tokA) + " committed\n", "HEAD:" + config.IgnoreFileName, true}},
		{"in neither", work.Dir, "absent.toml", result{}},
		{"bare repository: HEAD's", bare, config.FileName, result{"# committed\n", "HEAD:" + config.FileName, true}},
		{"bare repository, HEAD's other file", bare, config.IgnoreFileName, result{fp(tokA) + " committed\n", "HEAD:" + config.IgnoreFileName, true}},
		{"inside the git directory: HEAD's", filepath.Join(work.Dir, ".git"), config.FileName, result{"# committed\n", "HEAD:" + config.FileName, true}},
		{"plain directory", plain, config.FileName, result{"# a plain directory\n", filepath.Join(plain, config.FileName), true}},
		{"plain directory without the file", plain, config.IgnoreFileName, result{}},
		{"repository without commits", empty.Dir, config.FileName, result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, source, ok, err := config.GitFile(ctx, tt.path)(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got := result{string(data), source, ok}
			if !ok {
				got.Source = "" // names nothing
			}
			if got.OK && tt.want.OK && got.Source != tt.want.Source && sameFile(got.Source, tt.want.Source) {
				got.Source = tt.want.Source // the top as git spells it
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GitFile(%s)(%s) (-want +got):\n%s", tt.path, tt.file, diff)
			}
		})
	}

	// Through Resolve, the sources say where each file came from.
	s, err := config.Resolve(config.Files{Read: config.GitFile(ctx, bare)}, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"HEAD:" + config.FileName, "HEAD:" + config.IgnoreFileName}, s.Sources); diff != "" {
		t.Errorf("Sources of a bare repository (-want +got):\n%s", diff)
	}
}

func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// TestHeadFile: what HEAD holds, never what lies in the directory.
func TestHeadFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	work := gittest.New(t)
	work.Write(config.FileName, "# committed\n")
	work.Write("src/main.go", "package main\n")
	work.Commit("config")
	work.Write(config.FileName, "# edited, not committed\n")
	work.Write(config.IgnoreFileName, fp(tokA)+" never committed\n")
	work.Write("staged.toml", "# staged, not committed\n")
	work.Git("add", "staged.toml")

	bare := t.TempDir()
	work.Git("clone", "-q", "--bare", work.Dir, bare)
	write(t, filepath.Join(bare, config.IgnoreFileName), fp(tokA)+" beside the objects, not committed\n")

	empty := gittest.New(t)
	empty.Write(config.FileName, "# not committed\n")

	type result struct {
		Data, Source string
		OK           bool
	}
	tests := []struct {
		name, path, file string
		want             result
	}{
		{"committed, edited since", work.Dir, config.FileName, result{"# committed\n", "HEAD:" + config.FileName, true}},
		{"from a subdirectory", filepath.Join(work.Dir, "src"), config.FileName, result{"# committed\n", "HEAD:" + config.FileName, true}},
		{"in the work tree only", work.Dir, config.IgnoreFileName, result{}},
		{"staged only", work.Dir, "staged.toml", result{}},
		{"bare repository", bare, config.FileName, result{"# committed\n", "HEAD:" + config.FileName, true}},
		{"bare repository, a file beside its objects", bare, config.IgnoreFileName, result{}},
		{"no commit yet", empty.Dir, config.FileName, result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, source, ok, err := config.HeadFile(ctx, tt.path)(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got := result{string(data), source, ok}
			if !ok {
				got.Source = "" // names nothing
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("HeadFile(%s)(%s) (-want +got):\n%s", tt.path, tt.file, diff)
			}
		})
	}

	// Not a repository: an error, not an empty configuration.
	if _, _, ok, err := config.HeadFile(ctx, t.TempDir())(config.FileName); err == nil || ok {
		t.Errorf("HeadFile of a directory that is no repository: ok %v, err %v; want an error", ok, err)
	}
	if _, err := config.Resolve(config.Files{Read: config.HeadFile(ctx, t.TempDir())}, now); err == nil {
		t.Error("Resolve with HeadFile of a directory that is no repository succeeded")
	}
}

// TestFilterSuppressed: each reason is counted; ignores that expired or
// matched nothing are listed, in the file's order.
func TestFilterSuppressed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := write(t, filepath.Join(dir, "k.toml"), "[allowlist]\npaths = [\"fixtures/\", \"*.lock\"]\n")
	ignores := write(t, filepath.Join(dir, "ignore"), "# reviewed\n"+
		fp(tokB)+" revoked in 2024, kept in the docs\n"+
		fp(tokC)+" expires=2020-01-01 was waiting for rotation\n"+
		"github-token:00000000000000ff nothing matches this\n"+
		fp(tokE)+" expires=2999-01-01 rotated next millennium\n"+
		"github-token:00000000000000ee expires=2020-01-01 expired and unused\n")
	baseline := writeBaseline(t, filepath.Join(dir, "base.json"), []finding.Finding{
		leak(tokD, "src/known.go"),
		leak(tokA, "src/elsewhere.go"),
	})
	s, err := config.Resolve(config.Files{Config: cfg, Ignores: ignores, Baseline: baseline}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !s.NeedsFingerprints() {
		t.Error("NeedsFingerprints() = false with ignores and a baseline")
	}
	got := s.Filter([]finding.Finding{
		leak(tokA, "fixtures/token.txt"), // allowlisted path
		leak(tokA, "deps/yarn.lock"),     // allowlisted name, any directory
		leak(tokB, "docs/auth.md"),       // ignored
		leak(tokB, "docs/other.md"),      // ignored, wherever it is
		leak(tokC, "src/old.go"),         // ignore expired: reported again
		leak(tokD, "src/known.go"),       // in the baseline
		leak(tokD, "src/copy.go"),        // the baseline's secret at a new path
		leak(tokE, "src/soon.go"),        // ignored until 2999
		leak(tokA, "src/leak.go"),        // the baseline has tokA elsewhere only
	})
	if diff := cmp.Diff([]string{"src/old.go", "src/copy.go", "src/leak.go"}, keptPaths(got)); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	for _, f := range got {
		if want := fp(f.Secret); f.Fingerprint != want {
			t.Errorf("%s: fingerprint %q, want %q", f.Path, f.Fingerprint, want)
		}
	}
	sup := s.Suppressed()
	if diff := cmp.Diff(map[string]int{config.ByAllowlist: 2, config.ByIgnore: 3, config.ByBaseline: 1}, sup.Counts); diff != "" {
		t.Errorf("Counts (-want +got):\n%s", diff)
	}
	if sup.IgnoreFile != ignores {
		t.Errorf("IgnoreFile = %q, want %q", sup.IgnoreFile, ignores)
	}
	type entry struct {
		Fingerprint string
		Line        int
	}
	entries := func(es []*config.Ignore) []entry {
		var out []entry
		for _, e := range es {
			out = append(out, entry{e.Fingerprint, e.Line})
		}
		return out
	}
	if diff := cmp.Diff([]entry{{fp(tokC), 3}}, entries(sup.Expired)); diff != "" {
		t.Errorf("Expired (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]entry{{"github-token:00000000000000ff", 4}, {"github-token:00000000000000ee", 6}}, entries(sup.Unused)); diff != "" {
		t.Errorf("Unused (-want +got):\n%s", diff)
	}
	if len(sup.Legacy) != 0 {
		t.Errorf("Legacy = %v, want none", entries(sup.Legacy))
	}

	// Suppressed is a copy: what the caller does with it changes nothing.
	sup.Counts[config.ByIgnore] = 100
	if n := s.Suppressed().Counts[config.ByIgnore]; n != 3 {
		t.Errorf("after changing a copy, Counts[ignore] = %d, want 3", n)
	}
	// Counts add up over calls.
	s.Filter([]finding.Finding{leak(tokB, "again.md")})
	if n := s.Suppressed().Counts[config.ByIgnore]; n != 4 {
		t.Errorf("after one more ignored finding, Counts[ignore] = %d, want 4", n)
	}
}

// TestFilterWithoutFingerprints: a configuration with no ignores and no
// baseline never pays for a fingerprint.
func TestFilterWithoutFingerprints(t *testing.T) {
	t.Parallel()
	cfg := write(t, filepath.Join(t.TempDir(), "k.toml"), "[allowlist]\npaths = [\"fixtures/\"]\n")
	s, err := config.Resolve(config.Files{Config: cfg}, now)
	if err != nil {
		t.Fatal(err)
	}
	if s.NeedsFingerprints() {
		t.Error("NeedsFingerprints() = true without ignores or a baseline")
	}
	got := s.Filter([]finding.Finding{leak(tokA, "fixtures/a"), leak(tokB, "src/b")})
	if diff := cmp.Diff([]string{"src/b"}, keptPaths(got)); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	if got[0].Fingerprint != "" {
		t.Errorf("fingerprint %q computed without need", got[0].Fingerprint)
	}
	sup := s.Suppressed()
	if sup.IgnoreFile != "" || sup.Expired != nil || sup.Unused != nil {
		t.Errorf("Suppressed without ignores: %+v", sup)
	}
}

// TestFilterConcurrent filters separate slices from 8 goroutines at once
// (run it with -race): the counts, the ignores' use and what is kept are
// those of one serial run over all of them.
func TestFilterConcurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := config.Files{
		Config: write(t, filepath.Join(dir, "k.toml"), "[allowlist]\npaths = [\"fixtures/\"]\n"),
		Ignores: write(t, filepath.Join(dir, "ignore"),
			fp(tokB)+" revoked\n"+
				fp(tokC)+" expires=2020-01-01 expired\n"+
				fp(tokE)+" used by one goroutine only\n"+
				"github-token:00000000000000ff unused\n"),
		Baseline: writeBaseline(t, filepath.Join(dir, "base.json"), []finding.Finding{leak(tokD, "src/known.go")}),
	}
	const workers = 8
	batch := func(i int) []finding.Finding {
		toks := []string{tokA, tokB, tokC, tokD}
		var fs []finding.Finding
		for j := range 12 + i {
			tok := toks[(i+j)%len(toks)]
			path := []string{"fixtures/f.txt", "src/known.go", "src/x.go"}[(i*j)%3]
			fs = append(fs, leak(tok, path))
		}
		if i == workers-1 {
			fs = append(fs, leak(tokE, "src/last.go"))
		}
		return fs
	}

	serial, err := config.Resolve(files, now)
	if err != nil {
		t.Fatal(err)
	}
	var all []finding.Finding
	for i := range workers {
		all = append(all, batch(i)...)
	}
	wantKept := serial.Filter(all)

	concurrent, err := config.Resolve(files, now)
	if err != nil {
		t.Fatal(err)
	}
	kept := make([][]finding.Finding, workers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		fs := batch(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			kept[i] = concurrent.Filter(fs)
		}()
	}
	close(start)
	wg.Wait()
	var gotKept []finding.Finding
	for _, fs := range kept {
		gotKept = append(gotKept, fs...)
	}

	if diff := cmp.Diff(wantKept, gotKept); diff != "" {
		t.Errorf("kept (-serial +concurrent):\n%s", diff)
	}
	want, got := serial.Suppressed(), concurrent.Suppressed()
	for _, reason := range []string{config.ByAllowlist, config.ByIgnore, config.ByBaseline} {
		if want.Counts[reason] == 0 {
			t.Errorf("the serial run suppressed nothing by %s: the test tests less than it says", reason)
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(config.Ignore{})); diff != "" {
		t.Errorf("Suppressed (-serial +concurrent):\n%s", diff)
	}
}
