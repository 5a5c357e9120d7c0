package config

import (
	"slices"
	"time"

	"github.com/keysweep/keysweep/detectors"
)

// Description is the configuration a run would use, and where each part
// comes from: what `keysweep config show` prints. Values are as the
// files have them (hostile text: escape it for a terminal).
type Description struct {
	// Builtin is how many rules keysweep's catalog has; Rules, how many a
	// scan reports with this configuration.
	Builtin int `json:"builtin_rules"`
	Rules   int `json:"rules"`

	Config     *ConfigDescription   `json:"config"`
	Ignores    *IgnoresDescription  `json:"ignores"`
	Gitleaks   *GitleaksDescription `json:"gitleaks_ignores"`
	Baseline   *BaselineDescription `json:"baseline"`
	RepoConfig bool                 `json:"repository_files_read"`
	// GitleaksConfig names a .gitleaks.toml the repository holds, which
	// keysweep does not read (`keysweep config import` converts it).
	GitleaksConfig string `json:"gitleaks_config,omitempty"`
}

// ConfigDescription says what a .keysweep.toml changes.
type ConfigDescription struct {
	Source string `json:"source"`
	// Enabled, when not empty, are the only built-in rules reported.
	Enabled  []string           `json:"enabled,omitempty"`
	Disabled []string           `json:"disabled,omitempty"`
	Entropy  map[string]float64 `json:"entropy,omitempty"`
	Added    []string           `json:"added,omitempty"`
	// RuleAllowlists are the rules with an allowlist of their own.
	RuleAllowlists []string  `json:"rule_allowlists,omitempty"`
	Allowlist      Allowlist `json:"allowlist"`
}

// IgnoresDescription says what a .keysweepignore holds.
type IgnoresDescription struct {
	Source  string          `json:"source"`
	Entries int             `json:"entries"`
	Expired []ExpiredIgnore `json:"expired,omitempty"`
}

// ExpiredIgnore is an ignore past its expiry: its finding is reported.
type ExpiredIgnore struct {
	Fingerprint string `json:"fingerprint"`
	Expires     string `json:"expires"`
	Line        int    `json:"line"`
	Reason      string `json:"reason"`
}

// GitleaksDescription says what a .gitleaksignore holds.
type GitleaksDescription struct {
	Source  string `json:"source"`
	Entries int    `json:"entries"`
	// Unmapped are gitleaks rule ids with no keysweep equivalent: their
	// entries match only a rule of that very id.
	Unmapped []string `json:"unmapped_rules,omitempty"`
}

// BaselineDescription names the baseline.
type BaselineDescription struct {
	Source   string `json:"source"`
	Findings int    `json:"findings"`
}

// Describe reads the files a run would (see Resolve) and says what they
// configure. now decides which ignores have expired.
func Describe(files Files, now time.Time) (*Description, error) {
	l, err := load(files, now)
	if err != nil {
		return nil, err
	}
	catalog := detectors.Catalog()
	d := &Description{Builtin: len(catalog), RepoConfig: files.Read != nil}
	for _, r := range l.cfg.Apply(catalog) {
		if !r.Silent {
			d.Rules++
		}
	}
	if c := l.cfg; c != nil {
		cd := &ConfigDescription{
			Source: c.Source, Enabled: c.Rules.Enable, Disabled: c.Rules.Disable,
			Entropy: c.Rules.Entropy, Allowlist: c.Allowlist,
		}
		for _, cr := range c.Rules.Custom {
			cd.Added = append(cd.Added, cr.ID)
			if !allowlistEmpty(cr.Allowlist) {
				cd.RuleAllowlists = append(cd.RuleAllowlists, cr.ID)
			}
		}
		cd.RuleAllowlists = append(cd.RuleAllowlists, sortedKeys(c.Rules.Allowlist)...)
		d.Config = cd
	}
	if ig := l.ignores; ig != nil {
		id := &IgnoresDescription{Source: ig.Source, Entries: len(ig.order)}
		for _, e := range ig.order {
			if e.expired(now) {
				id.Expired = append(id.Expired, ExpiredIgnore{e.Fingerprint, e.Expires.Format("2006-01-02"), e.Line, e.Reason})
			}
		}
		d.Ignores = id
	}
	if g := l.gitleaks; g != nil {
		d.Gitleaks = &GitleaksDescription{Source: g.Source, Entries: g.Len(), Unmapped: g.Unmapped()}
	}
	if l.baselineFile != "" {
		d.Baseline = &BaselineDescription{Source: l.baselineFile, Findings: len(l.baseline)}
	}
	if files.Config == "" && files.Read != nil {
		_, source, ok, err := files.Read(GitleaksFileName)
		if err != nil {
			return nil, err
		}
		if ok {
			d.GitleaksConfig = source
		}
	}
	return d, nil
}

func allowlistEmpty(a Allowlist) bool {
	return len(a.Paths)+len(a.PathRegexes)+len(a.Regexes)+len(a.Stopwords)+len(a.Commits) == 0
}

// Overridden returns the built-in rules whose entropy or allowlist the
// configuration changes.
func (c *ConfigDescription) Overridden() []string {
	var out []string
	for _, id := range append(sortedKeys(c.Entropy), c.RuleAllowlists...) {
		if !slices.Contains(c.Added, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
