package config

// Suppression reasons, as counted in Suppressor.Counts.
const (
	ByAllowlist = "allowlist"
	ByIgnore    = "ignore"
	ByBaseline  = "baseline"
)

// Suppressor decides which findings are reported: not those allowlisted
// by path or commit, ignored by fingerprint (or, from a .gitleaksignore,
// by place), or already in the baseline.
// Allowlisted secrets (by regex or stopword) and inline keysweep:allow
// never become findings at all.
type Suppressor struct {
	Filter   *PathFilter
	Ignores  *Ignores
	Gitleaks *GitleaksIgnores
	Baseline Baseline
	// Counts holds how many findings each reason suppressed.
	Counts map[string]int
}

// Keep reports whether a finding is to be reported, counting it if not.
// fingerprint is the finding's finding.Fingerprint; legacy are its
// fingerprints in older schemes (finding.LegacyFingerprint), so that ignore
// files and baselines written before still suppress it.
func (s *Suppressor) Keep(rule, path, commit, fingerprint string, legacy ...string) bool {
	return s.KeepAt(rule, path, commit, 0, fingerprint, legacy...)
}

// KeepAt is Keep for a finding at a line (1-based; 0 when unknown), which
// .gitleaksignore entries name.
func (s *Suppressor) KeepAt(rule, path, commit string, line int, fingerprint string, legacy ...string) bool {
	if s == nil {
		return true
	}
	reason := ""
	switch {
	case s.Filter.Allows(rule, path, commit):
		reason = ByAllowlist
	case s.ignored(rule, path, commit, line, fingerprint, legacy):
		reason = ByIgnore
	case s.Baseline.Has(fingerprint, path, legacy...):
		reason = ByBaseline
	default:
		return true
	}
	if s.Counts == nil {
		s.Counts = map[string]int{}
	}
	s.Counts[reason]++
	return false
}

// ignored asks both kinds of ignore, so that each knows it was used.
func (s *Suppressor) ignored(rule, path, commit string, line int, fingerprint string, legacy []string) bool {
	byFingerprint := s.Ignores.Match(fingerprint, legacy...)
	byPlace := s.Gitleaks.Match(rule, path, commit, line)
	return byFingerprint || byPlace
}
