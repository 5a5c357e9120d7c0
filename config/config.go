// Package config reads what a user or operator says about a scan:
// .keysweep.toml (rules, allowlists, entropy thresholds), .keysweepignore
// (ignores by fingerprint, each with a reason and an optional expiry) and
// baselines (earlier reports). Everything is checked when loaded: an
// unknown key, a bad regex or a malformed line is an error that says where.
package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/keysweep/keysweep/detectors"
)

// FileName is the configuration file keysweep looks for in a repository.
const FileName = ".keysweep.toml"

// Config is a parsed .keysweep.toml.
type Config struct {
	Rules     Rules     `toml:"rules"`
	Allowlist Allowlist `toml:"allowlist"`

	// Source names where the configuration came from, for messages.
	Source string `toml:"-"`
}

// Rules select and tune the rules.
type Rules struct {
	// Enable, when not empty, keeps only these built-in rules.
	Enable []string `toml:"enable"`
	// Disable drops these built-in rules.
	Disable []string `toml:"disable"`
	// Entropy raises the least Shannon entropy of a rule's secrets.
	Entropy map[string]float64 `toml:"entropy"`
	// Custom rules are added to the built-in ones.
	Custom []CustomRule `toml:"custom"`
	// Allowlist applies to single rules, by rule id.
	Allowlist map[string]Allowlist `toml:"allowlist"`
}

// CustomRule is a rule written by the user.
type CustomRule struct {
	ID          string   `toml:"id"`
	Description string   `toml:"description"`
	Keywords    []string `toml:"keywords"`
	// Regex finds the secret: its group named "secret", or the whole match.
	Regex     string    `toml:"regex"`
	Entropy   float64   `toml:"entropy"`
	Multiline bool      `toml:"multiline"`
	Allowlist Allowlist `toml:"allowlist"`
}

// Allowlist names findings that are not leaks.
type Allowlist struct {
	// Paths are globs: * and ? within a path segment, ** across them; a
	// glob without a slash matches a file name in any directory.
	Paths []string `toml:"paths" json:"paths,omitempty"`
	// PathRegexes are regular expressions that match anywhere in the
	// slash-separated path (anchor them with ^ and $): what gitleaks'
	// allowlist paths are, so that an imported configuration means what
	// it meant.
	PathRegexes []string `toml:"path_regexes" json:"path_regexes,omitempty"`
	// Regexes and Stopwords (substrings, case ignored) match the secret.
	Regexes   []string `toml:"regexes" json:"regexes,omitempty"`
	Stopwords []string `toml:"stopwords" json:"stopwords,omitempty"`
	// Commits are full commit ids whose findings are known.
	Commits []string `toml:"commits" json:"commits,omitempty"`
}

// Load reads and checks a configuration file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and checks configuration text; source names it in errors.
func Parse(source string, data []byte) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("%s: line %d: %s", source, perr.Position.Line, oneLine(perr.Message))
		}
		return nil, fmt.Errorf("%s: %s", source, oneLine(err.Error()))
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("%s: unknown key %q (known: rules.enable, rules.disable, rules.entropy, rules.custom, rules.allowlist, allowlist.paths, allowlist.path_regexes, allowlist.regexes, allowlist.stopwords, allowlist.commits)", source, keys[0])
	}
	c.Source = source
	if err := c.check(detectors.Catalog()); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &c, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

var ruleIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// check validates everything a scan would otherwise trip on later.
func (c *Config) check(builtin []detectors.Rule) error {
	known := map[string]bool{}
	for _, r := range builtin {
		known[r.ID] = true
	}
	for i, cr := range c.Rules.Custom {
		where := fmt.Sprintf("rules.custom[%d]", i)
		switch {
		case !ruleIDRe.MatchString(cr.ID):
			return fmt.Errorf("%s.id %q: want lower-case letters, digits and dashes, 2 to 63 of them, not starting with a dash", where, cr.ID)
		case known[cr.ID]:
			return fmt.Errorf("%s.id %q: a rule with that id exists already", where, cr.ID)
		case cr.Regex == "":
			return fmt.Errorf("%s (%s): regex is required", where, cr.ID)
		case len(cr.Keywords) == 0:
			return fmt.Errorf("%s (%s): keywords are required: the rule runs only near one of them", where, cr.ID)
		}
		for _, k := range cr.Keywords {
			if len(k) < 3 {
				return fmt.Errorf("%s (%s): keyword %q is shorter than 3 characters", where, cr.ID, k)
			}
		}
		re, err := regexp.Compile(cr.Regex)
		if err != nil {
			return fmt.Errorf("%s (%s).regex: %s", where, cr.ID, oneLine(err.Error()))
		}
		if re.MatchString("") {
			return fmt.Errorf("%s (%s).regex matches the empty string", where, cr.ID)
		}
		if err := cr.Allowlist.check(where + ".allowlist"); err != nil {
			return err
		}
		known[cr.ID] = true
	}
	for _, list := range []struct {
		key string
		ids []string
	}{{"rules.enable", c.Rules.Enable}, {"rules.disable", c.Rules.Disable}} {
		for _, id := range list.ids {
			if !known[id] {
				return fmt.Errorf("%s: unknown rule %q", list.key, id)
			}
		}
	}
	for id, e := range c.Rules.Entropy {
		if !known[id] {
			return fmt.Errorf("rules.entropy: unknown rule %q", id)
		}
		if e < 0 || e > 8 {
			return fmt.Errorf("rules.entropy.%s = %g: want 0 to 8 bits per character", id, e)
		}
	}
	for id, a := range c.Rules.Allowlist {
		if !known[id] {
			return fmt.Errorf("rules.allowlist: unknown rule %q", id)
		}
		if err := a.check("rules.allowlist." + id); err != nil {
			return err
		}
	}
	return c.Allowlist.check("allowlist")
}

var commitRe = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

func (a Allowlist) check(where string) error {
	for _, p := range a.Paths {
		if _, err := compileGlob(p); err != nil {
			return fmt.Errorf("%s.paths: %w", where, err)
		}
	}
	for _, r := range a.PathRegexes {
		if _, err := regexp.Compile(r); err != nil {
			return fmt.Errorf("%s.path_regexes: %s", where, oneLine(err.Error()))
		}
	}
	for _, r := range a.Regexes {
		if _, err := regexp.Compile(r); err != nil {
			return fmt.Errorf("%s.regexes: %s", where, oneLine(err.Error()))
		}
	}
	for _, w := range a.Stopwords {
		if w == "" {
			return fmt.Errorf("%s.stopwords: empty stopword", where)
		}
	}
	for _, c := range a.Commits {
		if !commitRe.MatchString(c) {
			return fmt.Errorf("%s.commits: %q is not a full commit id", where, c)
		}
	}
	return nil
}

// secretAllowlist compiles the parts of a that match secrets.
func (a Allowlist) secretAllowlist() detectors.Allowlist {
	out := detectors.Allowlist{Stopwords: a.Stopwords}
	for _, r := range a.Regexes {
		out.Regexes = append(out.Regexes, regexp.MustCompile(r)) // checked at load
	}
	return out
}

// Apply returns the rules a scan runs: the built-in ones selected and
// tuned by c, then c's custom rules. A nil c changes nothing.
//
// A built-in rule that c turns off still runs, silently (see
// detectors.Rule.Silent), while the generic rule runs: a secret that rule
// knows is not reported as a generic secret instead. aws-access-key, an
// AWS key id found with its secret, is that key id's finding as well:
// enabling either enables it, disabling either disables it, and the key
// id rule runs whenever it is enabled.
func (c *Config) Apply(builtin []detectors.Rule) []detectors.Rule {
	if c == nil {
		return builtin
	}
	global := c.Allowlist.secretAllowlist()
	paired := map[string]bool{} // rules others pair, when those are on
	for _, r := range builtin {
		if r.Pairs != "" && c.selected(r) {
			paired[r.Pairs] = true
		}
	}
	generic := slices.ContainsFunc(builtin, func(r detectors.Rule) bool { return r.ID == detectors.GenericRule && c.selected(r) })
	var out []detectors.Rule
	for _, r := range builtin {
		if !c.selected(r) {
			if !generic && !paired[r.ID] && r.Pairs == "" || r.ID == detectors.GenericRule {
				continue
			}
			r.Silent = true
		}
		out = append(out, c.tune(r, global))
	}
	for _, cr := range c.Rules.Custom {
		if slices.Contains(c.Rules.Disable, cr.ID) {
			continue
		}
		r := detectors.Rule{
			ID:          cr.ID,
			Description: cr.Description,
			Keywords:    cr.Keywords,
			Regex:       regexp.MustCompile(cr.Regex), // checked at load
			Before:      256, After: 512,
			Multiline:  cr.Multiline,
			MinEntropy: cr.Entropy,
			Allow:      cr.Allowlist.secretAllowlist(),
		}
		if r.Description == "" {
			r.Description = "Custom rule " + cr.ID
		}
		out = append(out, c.tune(r, global))
	}
	return out
}

// selected reports whether c has built-in rule r reported: enabled (when
// c enables some) and not disabled. A rule that pairs another's matches
// is selected with it.
func (c *Config) selected(r detectors.Rule) bool {
	on := func(id string) bool {
		return (len(c.Rules.Enable) == 0 || slices.Contains(c.Rules.Enable, id)) && !slices.Contains(c.Rules.Disable, id)
	}
	if r.Pairs == "" {
		return on(r.ID)
	}
	if slices.Contains(c.Rules.Disable, r.ID) || slices.Contains(c.Rules.Disable, r.Pairs) {
		return false
	}
	return on(r.ID) || on(r.Pairs)
}

func (c *Config) tune(r detectors.Rule, global detectors.Allowlist) detectors.Rule {
	if e, ok := c.Rules.Entropy[r.ID]; ok {
		r.MinEntropy = e
	}
	allow := r.Allow
	if a, ok := c.Rules.Allowlist[r.ID]; ok {
		ra := a.secretAllowlist()
		allow.Regexes = append(append([]*regexp.Regexp(nil), allow.Regexes...), ra.Regexes...)
		allow.Stopwords = append(append([]string(nil), allow.Stopwords...), ra.Stopwords...)
	}
	allow.Regexes = append(append([]*regexp.Regexp(nil), allow.Regexes...), global.Regexes...)
	allow.Stopwords = append(append([]string(nil), allow.Stopwords...), global.Stopwords...)
	r.Allow = allow
	return r
}

// PathFilter drops findings by path and commit, globally and per rule.
type PathFilter struct {
	paths   []*regexp.Regexp
	commits map[string]bool
	byRule  map[string]*PathFilter
}

// Filter returns the path and commit part of c's allowlists. What a
// rule's allowlist says holds for the rule that pairs its matches too
// (aws-access-key-id's for aws-access-key): a pair is that key.
func (c *Config) Filter() *PathFilter {
	if c == nil {
		return nil
	}
	f := newPathFilter(c.Allowlist)
	for _, cr := range c.Rules.Custom {
		f.byRule[cr.ID] = newPathFilter(cr.Allowlist)
	}
	for id, a := range c.Rules.Allowlist {
		f.byRule[id] = newPathFilter(a)
	}
	for _, r := range detectors.Catalog() {
		if r.Pairs == "" {
			continue
		}
		if a, ok := c.Rules.Allowlist[r.Pairs]; ok {
			merged := Allowlist{Paths: a.Paths, PathRegexes: a.PathRegexes, Commits: a.Commits}
			if own, ok := c.Rules.Allowlist[r.ID]; ok {
				merged.Paths = append(append([]string(nil), own.Paths...), a.Paths...)
				merged.PathRegexes = append(append([]string(nil), own.PathRegexes...), a.PathRegexes...)
				merged.Commits = append(append([]string(nil), own.Commits...), a.Commits...)
			}
			f.byRule[r.ID] = newPathFilter(merged)
		}
	}
	return f
}

func newPathFilter(a Allowlist) *PathFilter {
	f := &PathFilter{commits: map[string]bool{}, byRule: map[string]*PathFilter{}}
	for _, p := range a.Paths {
		re, _ := compileGlob(p) // checked at load
		f.paths = append(f.paths, re)
	}
	for _, r := range a.PathRegexes {
		f.paths = append(f.paths, regexp.MustCompile(r)) // checked at load
	}
	for _, c := range a.Commits {
		f.commits[c] = true
	}
	return f
}

// Allows reports whether a finding of rule at path, introduced by commit,
// is allowlisted.
func (f *PathFilter) Allows(rule, path, commit string) bool {
	if f == nil {
		return false
	}
	if commit != "" && f.commits[commit] {
		return true
	}
	for _, re := range f.paths {
		if re.MatchString(path) {
			return true
		}
	}
	if r, ok := f.byRule[rule]; ok {
		return r.Allows(rule, path, commit)
	}
	return false
}

// compileGlob turns a path glob into a regexp over slash-separated paths.
func compileGlob(glob string) (*regexp.Regexp, error) {
	if glob == "" {
		return nil, errors.New("empty glob")
	}
	g := strings.TrimPrefix(glob, "/")
	anywhere := !strings.Contains(strings.TrimSuffix(g, "/"), "/")
	dir := strings.HasSuffix(g, "/")
	g = strings.TrimSuffix(g, "/")
	var b strings.Builder
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				i++
				if i+1 < len(g) && g[i+1] == '/' {
					i++
					b.WriteString(`(?:.*/)?`)
				} else {
					b.WriteString(`.*`)
				}
			} else {
				b.WriteString(`[^/]*`)
			}
		case '?':
			b.WriteString(`[^/]`)
		case '[':
			j := strings.IndexByte(g[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("glob %q: unclosed [", glob)
			}
			b.WriteString(g[i : i+j+1])
			i += j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	prefix := `^`
	if anywhere {
		prefix = `^(?:.*/)?`
	}
	// A glob naming a directory covers everything under it.
	suffix := `(?:/.*)?$`
	if dir {
		suffix = `/.*$`
	}
	re, err := regexp.Compile(prefix + b.String() + suffix)
	if err != nil {
		return nil, fmt.Errorf("glob %q: %s", glob, oneLine(err.Error()))
	}
	return re, nil
}
