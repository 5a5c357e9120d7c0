package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// GitleaksIgnoreFileName is gitleaks' ignore file, which keysweep reads
// beside its own, with the same trust: where .keysweepignore is read.
const GitleaksIgnoreFileName = ".gitleaksignore"

// GitleaksIgnores are the entries of a .gitleaksignore. Each names a
// finding by where it is, not by its secret:
//
//	commit:path:rule-id:line   one commit's finding (a history scan)
//	path:rule-id:line          the finding at that place, in any commit
//
// An entry suppresses the findings at that path and line (and commit,
// when it names one) whose rule is the gitleaks rule's keysweep
// equivalent (GitleaksRuleIDs). A rule keysweep has no equivalent of
// matches only a rule with the same id, such as one `config import`
// brought over: never any rule at that line, which could silence another
// secret.
type GitleaksIgnores struct {
	Source  string
	entries []*gitleaksIgnore
	at      map[gitleaksPlace][]*gitleaksIgnore
}

// gitleaksIgnore is one line of a .gitleaksignore.
type gitleaksIgnore struct {
	*Ignore // Fingerprint is the line as written
	commit  string
	path    string
	line    int
	rule    string   // gitleaks' rule id
	rules   []string // the keysweep rules it silences
}

type gitleaksPlace struct {
	path string
	line int
}

var commitPrefixRe = regexp.MustCompile(`^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64}):`)

// maxGitleaksLine bounds a line number: more lines than this make no
// file a scan reads.
const maxGitleaksLine = 1 << 30

// LoadGitleaksIgnores reads a .gitleaksignore file.
func LoadGitleaksIgnores(path string) (*GitleaksIgnores, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ignores: %w", err)
	}
	return ParseGitleaksIgnores(path, data)
}

// ParseGitleaksIgnores reads gitleaks fingerprints, one a line, with #
// comments. Backslashes in paths are read as slashes, as gitleaks does.
// A line that is not a fingerprint is an error that says where.
func ParseGitleaksIgnores(source string, data []byte) (*GitleaksIgnores, error) {
	g := &GitleaksIgnores{Source: source, at: map[gitleaksPlace][]*gitleaksIgnore{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseGitleaksFingerprint(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", source, n, err)
		}
		e.Ignore = &Ignore{
			Fingerprint: line,
			Reason:      fmt.Sprintf("from %s line %d", GitleaksIgnoreFileName, n),
			Line:        n,
			Source:      source,
		}
		g.entries = append(g.entries, e)
		place := gitleaksPlace{e.path, e.line}
		g.at[place] = append(g.at[place], e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return g, nil
}

// parseGitleaksFingerprint takes a fingerprint apart from the right, so
// that a path may hold colons.
func parseGitleaksFingerprint(s string) (*gitleaksIgnore, error) {
	bad := func(why string) error {
		return fmt.Errorf("%q is not a gitleaks fingerprint (%s; want commit:path:rule-id:line or path:rule-id:line)", s, why)
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return nil, bad("no colon")
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n < 1 || n > maxGitleaksLine || strings.HasPrefix(s[i+1:], "+") {
		return nil, bad("the line is not a number from 1 up")
	}
	j := strings.LastIndexByte(s[:i], ':')
	if j < 0 {
		return nil, bad("no rule id")
	}
	rule := s[j+1 : i]
	if rule == "" || strings.ContainsAny(rule, " \t") {
		return nil, bad("empty rule id")
	}
	rest, commit := s[:j], ""
	if commitPrefixRe.MatchString(rest) {
		k := strings.IndexByte(rest, ':')
		commit, rest = strings.ToLower(rest[:k]), rest[k+1:]
	}
	path := strings.TrimPrefix(strings.ReplaceAll(rest, `\`, "/"), "./")
	if path == "" {
		return nil, bad("empty path")
	}
	return &gitleaksIgnore{commit: commit, path: path, line: n, rule: rule, rules: GitleaksRuleIDs(rule)}, nil
}

// Len returns how many entries g holds.
func (g *GitleaksIgnores) Len() int {
	if g == nil {
		return 0
	}
	return len(g.entries)
}

// Match reports whether a finding of rule at path and line, introduced
// by commit, is ignored, and remembers which entries were used.
func (g *GitleaksIgnores) Match(rule, path, commit string, line int) bool {
	if g == nil || path == "" || line < 1 {
		return false
	}
	ignored := false
	for _, e := range g.at[gitleaksPlace{path, line}] {
		if e.commit != "" && !strings.EqualFold(e.commit, commit) {
			continue
		}
		if slices.Contains(e.rules, rule) {
			e.used = true
			ignored = true
		}
	}
	return ignored
}

// Unused returns the entries that matched no finding.
func (g *GitleaksIgnores) Unused() []*Ignore {
	if g == nil {
		return nil
	}
	var out []*Ignore
	for _, e := range g.entries {
		if !e.used {
			out = append(out, e.Ignore)
		}
	}
	return out
}

// Unmapped returns the gitleaks rule ids that g's entries name and that
// keysweep has no equivalent of, each once, in the order of the file:
// their entries match only a rule of that very id, such as one `config
// import` brought over.
func (g *GitleaksIgnores) Unmapped() []string {
	if g == nil {
		return nil
	}
	builtin := builtinIDs()
	var out []string
	for _, e := range g.entries {
		if gitleaksMapped(e.rule) != nil || builtin[normalizeRuleID(e.rule)] || slices.Contains(out, e.rule) {
			continue
		}
		out = append(out, e.rule)
	}
	return out
}
