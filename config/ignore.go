package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/keysweep/keysweep/finding"
)

// IgnoreFileName is the ignore file keysweep looks for in a repository.
const IgnoreFileName = ".keysweepignore"

// Ignore silences one secret, by fingerprint, for a stated reason.
type Ignore struct {
	Fingerprint string
	Reason      string
	// Expires is the first day the ignore no longer applies (zero: never).
	Expires time.Time
	Line    int
	// Source names the file the ignore is in (.keysweepignore or
	// .gitleaksignore, as Ignores.Source does).
	Source string
	// Replacement is the fingerprint that replaces this one, when it is a
	// legacy fingerprint (finding.LegacyFingerprint) that matched a finding.
	Replacement string
	used        bool
}

// Ignores are the entries of an ignore file.
type Ignores struct {
	Source  string
	entries map[string]*Ignore
	order   []*Ignore
	now     time.Time
}

var fingerprintRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*:[0-9a-f]{16}$`)

// LoadIgnores reads an ignore file.
func LoadIgnores(path string, now time.Time) (*Ignores, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ignores: %w", err)
	}
	return ParseIgnores(path, data, now)
}

// ParseIgnores reads ignore lines:
//
//	# comment
//	<fingerprint> [expires=YYYY-MM-DD] <reason>
//
// The reason is required. From the expiry date on, the ignore no longer
// applies, and the scan says so.
func ParseIgnores(source string, data []byte, now time.Time) (*Ignores, error) {
	ig := &Ignores{Source: source, entries: map[string]*Ignore{}, now: now}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		e := &Ignore{Fingerprint: fields[0], Line: n, Source: source}
		if !fingerprintRe.MatchString(e.Fingerprint) {
			return nil, fmt.Errorf("%s:%d: %q is not a fingerprint (want rule-id:16 hex digits, as reports print it)", source, n, e.Fingerprint)
		}
		rest := fields[1:]
		if len(rest) > 0 && strings.HasPrefix(rest[0], "expires=") {
			t, err := time.Parse("2006-01-02", strings.TrimPrefix(rest[0], "expires="))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: bad expiry %q (want expires=YYYY-MM-DD)", source, n, rest[0])
			}
			e.Expires = t
			rest = rest[1:]
		}
		e.Reason = strings.Join(rest, " ")
		if e.Reason == "" {
			return nil, fmt.Errorf("%s:%d: ignore of %s has no reason: say why it is not a leak", source, n, e.Fingerprint)
		}
		if prev, ok := ig.entries[e.Fingerprint]; ok {
			return nil, fmt.Errorf("%s:%d: %s is already ignored on line %d", source, n, e.Fingerprint, prev.Line)
		}
		ig.entries[e.Fingerprint] = e
		ig.order = append(ig.order, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return ig, nil
}

func (e *Ignore) expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// Match reports whether a finding with fingerprint is ignored (and not
// expired), and remembers which ignores were used. legacy are the
// finding's fingerprints in older schemes (finding.LegacyFingerprint),
// which ignore files written before it still hold.
func (ig *Ignores) Match(fingerprint string, legacy ...string) bool {
	if ig == nil {
		return false
	}
	ignored := false
	current, hasCurrent := ig.entries[fingerprint]
	if hasCurrent {
		current.used = true
		ignored = !current.expired(ig.now)
	}
	for _, fp := range legacy {
		e, ok := ig.entries[fp]
		if !ok || e == current {
			continue
		}
		e.used = true
		if !hasCurrent {
			// Name the fingerprint to write instead, unless the file
			// holds it already.
			e.Replacement = fingerprint
		}
		ignored = ignored || !e.expired(ig.now)
	}
	return ignored
}

// Unused returns the ignores that matched no finding.
func (ig *Ignores) Unused() []*Ignore {
	if ig == nil {
		return nil
	}
	var out []*Ignore
	for _, e := range ig.order {
		if !e.used {
			out = append(out, e)
		}
	}
	return out
}

// Expired returns the ignores that matched a finding but have expired:
// their findings are reported again.
func (ig *Ignores) Expired() []*Ignore {
	if ig == nil {
		return nil
	}
	var out []*Ignore
	for _, e := range ig.order {
		if e.used && e.expired(ig.now) {
			out = append(out, e)
		}
	}
	return out
}

// Legacy returns the ignores that matched a finding by its legacy
// fingerprint: each names its Replacement, the fingerprint to write in
// the file instead, since a legacy fingerprint is a fast hash of the
// secret (see finding.Fingerprint).
func (ig *Ignores) Legacy() []*Ignore {
	if ig == nil {
		return nil
	}
	var out []*Ignore
	for _, e := range ig.order {
		if e.Replacement != "" {
			out = append(out, e)
		}
	}
	return out
}

// Baseline holds the findings of an earlier report, by fingerprint and path.
type Baseline map[[2]string]bool

// LoadBaseline reads a JSON (or JSON lines) report written by keysweep.
func LoadBaseline(path string) (Baseline, error) {
	fs, err := finding.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	b := Baseline{}
	for _, f := range fs {
		b[[2]string{f.Fingerprint, f.Path}] = true
	}
	return b, nil
}

// Has reports whether the baseline holds the same secret at the same
// path. legacy are the finding's fingerprints in older schemes, which
// baselines written before hold.
func (b Baseline) Has(fingerprint, path string, legacy ...string) bool {
	if b[[2]string{fingerprint, path}] {
		return true
	}
	for _, fp := range legacy {
		if b[[2]string{fp, path}] {
			return true
		}
	}
	return false
}
