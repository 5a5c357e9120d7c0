package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/internal/atomicfile"
)

// GitleaksFileName is gitleaks' configuration file in a repository;
// keysweep does not read it, `keysweep config import` turns it into a
// .keysweep.toml.
const GitleaksFileName = ".gitleaks.toml"

// Import is what ImportGitleaks made of a gitleaks configuration.
type Import struct {
	// Config is the keysweep configuration; Text is it as .keysweep.toml,
	// which Parse reads back as Config.
	Config *Config
	Text   []byte
	// Dropped says, one line each, what could not be carried over: what
	// keysweep finds or suppresses with Config differs there from what
	// gitleaks did with the file.
	Dropped []string
	// Notes say, one line each, what was carried over in another form or
	// left out without changing what is found (tags, for example).
	Notes []string
}

// ImportGitleaks turns a gitleaks configuration (source names it in
// messages) into a keysweep one. A file gitleaks would refuse, or that is
// not TOML, is an error; what gitleaks understands and keysweep cannot
// express is left out and said in Dropped.
//
// Gitleaks' default rules are never copied: with [extend] useDefault,
// keysweep's own catalog runs in their place; without it, gitleaks ran
// only the file's rules, and so does the result (rules.enable).
func ImportGitleaks(source string, data []byte) (*Import, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not UTF-8 text", source)
	}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("%s: line %d: %s", source, perr.Position.Line, oneLine(perr.Message))
		}
		return nil, fmt.Errorf("%s: %s", source, oneLine(err.Error()))
	}
	im := &importer{source: source, out: &Config{Source: source}, builtin: builtinIDs()}
	if err := im.run(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	text := im.render()
	c, err := Parse(GitleaksFileName+" (imported)", text)
	if err != nil {
		// A bug of the importer, not of the file: say so.
		return nil, fmt.Errorf("%s: the imported configuration does not load (%w): please report this", source, err)
	}
	c.Source = ""
	return &Import{Config: c, Text: text, Dropped: im.dropped, Notes: im.notes}, nil
}

type importer struct {
	source  string
	out     *Config
	builtin map[string]bool

	useDefault bool
	dropped    []string
	notes      []string
	header     []string // what the output's first comment says
	origin     map[string]string
}

func (im *importer) drop(format string, args ...any) {
	im.dropped = append(im.dropped, fmt.Sprintf(format, args...))
}

func (im *importer) note(format string, args ...any) {
	im.notes = append(im.notes, fmt.Sprintf(format, args...))
}

// gitleaksRule is a [[rules]] entry as the file has it.
type gitleaksRule struct {
	where, id, description, regex, path string
	secretGroup                         int64
	entropy                             float64
	hasEntropy                          bool
	keywords, tags                      []string
	allowlists                          []gitleaksAllowlist
	required                            int
	skipReport                          bool
}

// gitleaksAllowlist is an allowlist as the file has it.
type gitleaksAllowlist struct {
	where                             string
	and                               bool
	target                            string // "", "match" or "line"
	commits, paths, regexes, stopword []string
	targetRules                       []string
}

func (im *importer) run(raw map[string]any) error {
	top, err := newGTable("", raw)
	if err != nil {
		return err
	}
	top.skip("title", "description", "minversion")

	extendPath := ""
	var disabled []string
	if ext, ok, err := top.table("extend"); err != nil {
		return err
	} else if ok {
		if im.useDefault, err = ext.boolean("usedefault"); err != nil {
			return err
		}
		if extendPath, err = ext.str("path"); err != nil {
			return err
		}
		url, err := ext.str("url")
		if err != nil {
			return err
		}
		if disabled, err = ext.strs("disabledrules"); err != nil {
			return err
		}
		if im.useDefault && extendPath != "" {
			return errors.New("[extend] has both useDefault and path: gitleaks refuses that too")
		}
		if extendPath != "" {
			im.drop("[extend] path = %q: keysweep does not follow it; import that file as well and merge the two by hand", extendPath)
		}
		if url != "" {
			im.drop("[extend] url = %q: keysweep does not follow it", url)
		}
		im.unknown(ext)
	}

	rawRules, err := top.tables("rules")
	if err != nil {
		return err
	}
	var rules []*gitleaksRule
	seen := map[string]int{}
	for i, t := range rawRules {
		r, err := im.readRule(fmt.Sprintf("rules[%d]", i), t)
		if err != nil {
			return err
		}
		im.unknown(t)
		if j, ok := seen[r.id]; ok {
			im.note("rule %q is defined twice: the last one counts, as in gitleaks", r.id)
			rules[j] = nil
		}
		seen[r.id] = len(rules)
		rules = append(rules, r)
	}

	globals, err := im.readAllowlists(top, "allowlist", "allowlists", "", true)
	if err != nil {
		return err
	}
	im.unknown(top)

	if im.useDefault {
		im.header = append(im.header, "[extend] useDefault = true: keysweep's own built-in rules run in place of gitleaks' default ones (keysweep rules lists them)")
	}

	// The file's own rules, then what extends gitleaks' default ones.
	im.origin = map[string]string{}
	imported := map[string]int{} // gitleaks id: index in Custom
	for _, r := range rules {
		if r == nil {
			continue
		}
		if r.regex == "" {
			if err := im.extendDefault(r); err != nil {
				return err
			}
			continue
		}
		cr, err := im.customRule(r)
		if err != nil {
			return err
		}
		if cr != nil {
			imported[r.id] = len(im.out.Rules.Custom)
			im.out.Rules.Custom = append(im.out.Rules.Custom, *cr)
		}
	}

	for _, a := range globals {
		if len(a.targetRules) == 0 {
			if al, ok := im.allowlist(a, false); ok {
				im.out.Allowlist = mergeAllowlists(im.out.Allowlist, al)
			}
			continue
		}
		for _, id := range a.targetRules {
			if i, ok := imported[id]; ok {
				cr := &im.out.Rules.Custom[i]
				if al, ok := im.allowlist(a, wholeMatch(cr.Regex)); ok {
					cr.Allowlist = mergeAllowlists(cr.Allowlist, al)
				}
				continue
			}
			targets := im.defaultTargets(id)
			if len(targets) == 0 {
				im.drop("%s: targetRules names %q, which keysweep has no equivalent of: the allowlist is left out for it", a.where, id)
				continue
			}
			if al, ok := im.allowlist(a, false); ok {
				for _, t := range targets {
					im.ruleAllowlist(t, al)
				}
			}
		}
	}

	if len(disabled) > 0 {
		im.disable(disabled)
	}

	if !im.useDefault {
		if len(im.out.Rules.Custom) == 0 {
			im.drop("the file neither extends gitleaks' default rules ([extend] useDefault) nor has a rule keysweep can run: gitleaks found nothing with it; keysweep runs its built-in rules")
		} else {
			for _, cr := range im.out.Rules.Custom {
				im.out.Rules.Enable = append(im.out.Rules.Enable, cr.ID)
			}
			im.header = append(im.header, "no [extend] useDefault: gitleaks ran only this file's rules, so keysweep's built-in ones are off (rules.enable); remove rules.enable to run them too")
		}
	}
	return nil
}

// unknown drops the keys of t that were not read.
func (im *importer) unknown(t *gtable) {
	for _, k := range t.unread() {
		im.drop("%s: unknown key, not carried over", k)
	}
}

func (im *importer) readRule(where string, t *gtable) (*gitleaksRule, error) {
	r := &gitleaksRule{where: where}
	var err error
	get := func(key string, dst *string) {
		if err == nil {
			*dst, err = t.str(key)
		}
	}
	get("id", &r.id)
	get("description", &r.description)
	get("regex", &r.regex)
	get("path", &r.path)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.id) == "" {
		return nil, fmt.Errorf("%s: rule has no id: gitleaks refuses that too", where)
	}
	r.where = fmt.Sprintf("rule %q", r.id)
	if r.secretGroup, _, err = t.integer("secretgroup"); err != nil {
		return nil, err
	}
	if r.entropy, r.hasEntropy, err = t.float("entropy"); err != nil {
		return nil, err
	}
	if r.keywords, err = t.strs("keywords"); err != nil {
		return nil, err
	}
	if r.tags, err = t.strs("tags"); err != nil {
		return nil, err
	}
	if r.skipReport, err = t.boolean("skipreport"); err != nil {
		return nil, err
	}
	req, err := t.tables("required")
	if err != nil {
		return nil, err
	}
	for _, q := range req {
		q.skip("id", "withinlines", "withincolumns")
		im.unknown(q)
	}
	r.required = len(req)
	if r.allowlists, err = im.readAllowlists(t, "allowlist", "allowlists", r.where+" ", false); err != nil {
		return nil, err
	}
	if r.regex != "" {
		re, err := regexp.Compile(r.regex)
		if err != nil {
			return nil, fmt.Errorf("%s: regex: %s", r.where, oneLine(err.Error()))
		}
		if r.secretGroup < 0 || int(r.secretGroup) > re.NumSubexp() {
			return nil, fmt.Errorf("%s: secretGroup %d: the regex has %d groups", r.where, r.secretGroup, re.NumSubexp())
		}
	} else if r.path != "" {
		if _, err := regexp.Compile(r.path); err != nil {
			return nil, fmt.Errorf("%s: path: %s", r.where, oneLine(err.Error()))
		}
	}
	return r, nil
}

// readAllowlists reads the legacy single table (old) or the array of
// tables (key) of t; gitleaks refuses both at once.
func (im *importer) readAllowlists(t *gtable, old, key, where string, global bool) ([]gitleaksAllowlist, error) {
	single, hasSingle, err := t.table(old)
	if err != nil {
		return nil, err
	}
	many, err := t.tables(key)
	if err != nil {
		return nil, err
	}
	if hasSingle && len(many) > 0 {
		return nil, fmt.Errorf("%shas both [%s] and [[%s]]: gitleaks refuses that too", where, old, key)
	}
	var out []gitleaksAllowlist
	if hasSingle {
		many = []*gtable{single}
	}
	for i, a := range many {
		name := fmt.Sprintf("%s[[%s]] %d", where, key, i+1)
		if hasSingle {
			name = fmt.Sprintf("%s[%s]", where, old)
		}
		al := gitleaksAllowlist{where: strings.TrimSpace(name)}
		cond, err := a.str("condition")
		if err != nil {
			return nil, err
		}
		switch strings.ToUpper(cond) {
		case "AND", "&&":
			al.and = true
		case "", "OR", "||":
		default:
			return nil, fmt.Errorf("%s: condition %q: want AND or OR", al.where, cond)
		}
		if al.target, err = a.str("regextarget"); err != nil {
			return nil, err
		}
		switch al.target {
		case "secret":
			al.target = ""
		case "", "match", "line":
		default:
			return nil, fmt.Errorf("%s: regexTarget %q: want secret, match or line", al.where, al.target)
		}
		for _, f := range []struct {
			key string
			dst *[]string
		}{{"commits", &al.commits}, {"paths", &al.paths}, {"regexes", &al.regexes}, {"stopwords", &al.stopword}} {
			if *f.dst, err = a.strs(f.key); err != nil {
				return nil, err
			}
		}
		if global {
			if al.targetRules, err = a.strs("targetrules"); err != nil {
				return nil, err
			}
		}
		a.skip("description")
		im.unknown(a)
		if len(al.commits)+len(al.paths)+len(al.regexes)+len(al.stopword) == 0 {
			return nil, fmt.Errorf("%s: empty allowlist: gitleaks refuses that too", al.where)
		}
		for _, list := range [][]string{al.paths, al.regexes} {
			for _, r := range list {
				if _, err := regexp.Compile(r); err != nil {
					return nil, fmt.Errorf("%s: %s", al.where, oneLine(err.Error()))
				}
			}
		}
		out = append(out, al)
	}
	return out, nil
}

// customRule turns a gitleaks rule with a regex into a keysweep one, or
// nil when keysweep cannot run it.
func (im *importer) customRule(r *gitleaksRule) (*CustomRule, error) {
	if r.skipReport {
		im.note("%s: skipReport = true: it only served other rules' [[rules.required]], so it is left out", r.where)
		return nil, nil
	}
	id := normalizeRuleID(r.id)
	if im.builtin[id] {
		id = importedName(id)
	}
	for base, n := id, 2; slices.ContainsFunc(im.out.Rules.Custom, func(c CustomRule) bool { return c.ID == id }) || im.builtin[id]; n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	if id != r.id {
		im.note("%s is imported as %q (a keysweep rule id is lower-case letters, digits and dashes, and no built-in rule's)", r.where, id)
	}
	cr := &CustomRule{ID: id, Description: r.description}
	tree, err := syntax.Parse(r.regex, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("%s: regex: %s", r.where, oneLine(err.Error()))
	}
	groups := captureCount(tree)

	// The secret: group secretGroup, else the first group gitleaks found
	// set, else the whole match.
	cr.Regex = r.regex
	n := int(r.secretGroup)
	if n == 0 && groups > 0 {
		n = 1
		if !groupAlwaysSet(tree, 1) {
			im.drop("%s: without secretGroup gitleaks takes the first of the regex's %d groups that is set, else the whole match; keysweep takes group 1 and skips a match that leaves it unset: set secretGroup to say which", r.where, groups)
		}
	}
	if n > 0 {
		named, err := nameSecretGroup(r.regex, n)
		if err != nil {
			im.drop("%s: could not name group %d of the regex the secret (%s): the rule is left out", r.where, n, oneLine(err.Error()))
			return nil, nil
		}
		cr.Regex = named
	}
	if regexp.MustCompile(cr.Regex).MatchString("") {
		im.drop("%s: the regex matches the empty string, which keysweep refuses: the rule is left out", r.where)
		return nil, nil
	}

	// Keywords: gitleaks runs the regex on a file that holds one
	// anywhere; keysweep around each keyword it finds.
	must := mustContain(tree)
	var kws, short []string
	for _, k := range r.keywords {
		k = strings.ToLower(k)
		switch {
		case len(k) < 3:
			short = append(short, k)
		case !slices.Contains(kws, k):
			kws = append(kws, k)
		}
	}
	switch {
	case (len(kws) == 0 || len(short) > 0) && must != nil:
		if len(r.keywords) == 0 {
			im.note("%s: keywords %s read from its regex (every match holds one): keysweep runs a rule only near a keyword", r.where, quoteList(must))
		} else {
			im.note("%s: keywords %s read from its regex in place of %s: keysweep's are 3 characters or more", r.where, quoteList(must), quoteList(r.keywords))
		}
		kws = must
	case len(kws) == 0:
		im.drop("%s: has no keyword of 3 characters or more, and none can be read from its regex: keysweep runs a rule only near a keyword; add keywords and import again. The rule is left out", r.where)
		return nil, nil
	default:
		if len(short) > 0 {
			im.drop("%s: keywords %s are shorter than 3 characters: the regex is not run near them", r.where, quoteList(short))
		}
		if !everyMatchHolds(tree, kws) {
			im.drop("%s: keysweep runs the regex only around a keyword (256 bytes before, 512 after, on the keyword's line unless the regex spans lines), gitleaks on any file that holds one: a match away from its keywords is missed", r.where)
		}
	}
	cr.Keywords = kws
	cr.Multiline = matchesNewline(tree)

	if r.hasEntropy {
		switch {
		case r.entropy > 8:
			im.drop("%s: entropy %g is more than any secret has (8 bits per byte at most): gitleaks reported nothing with it; the rule is left out", r.where, r.entropy)
			return nil, nil
		case r.entropy > 0:
			cr.Entropy = r.entropy
		}
	}
	if r.path != "" {
		im.drop("%s: path = %q: a keysweep rule applies to every file, so the rule reports matches in any file", r.where, r.path)
	}
	if len(r.tags) > 0 {
		im.note("%s: tags %s left out: keysweep findings carry none", r.where, quoteList(r.tags))
	}
	if r.required > 0 {
		im.drop("%s: [[rules.required]] left out: keysweep reports the rule's matches without the rules it requires nearby", r.where)
	}
	whole := groups == 0
	for _, a := range r.allowlists {
		if al, ok := im.allowlist(a, whole); ok {
			cr.Allowlist = mergeAllowlists(cr.Allowlist, al)
		}
	}
	im.origin[id] = r.id
	return cr, nil
}

// extendDefault carries a rule without a regex: with useDefault, what it
// adds to gitleaks' default rule of that id goes to keysweep's
// equivalent.
func (im *importer) extendDefault(r *gitleaksRule) error {
	if r.path != "" {
		im.drop("%s: matches file paths only (path = %q, no regex): keysweep has no such rules; the rule is left out", r.where, r.path)
		return nil
	}
	if !im.useDefault {
		return fmt.Errorf("%s: has neither regex nor path: gitleaks refuses that too", r.where)
	}
	targets := im.defaultTargets(r.id)
	if len(targets) == 0 {
		im.drop("%s: extends gitleaks' default rule %q, which keysweep has no equivalent of: what it adds is left out", r.where, r.id)
		return nil
	}
	if len(r.keywords) > 0 {
		im.drop("%s: keywords added to gitleaks' default rule are left out: keysweep's %s has its own", r.where, strings.Join(targets, ", "))
	}
	if r.secretGroup != 0 {
		im.drop("%s: secretGroup of gitleaks' default rule left out: keysweep's %s finds its own secret", r.where, strings.Join(targets, ", "))
	}
	if r.hasEntropy {
		im.drop("%s: entropy %g of gitleaks' default rule left out: keysweep's %s has its own threshold (set rules.entropy to raise it)", r.where, r.entropy, strings.Join(targets, ", "))
	}
	if len(r.tags) > 0 {
		im.note("%s: tags %s left out: keysweep findings carry none", r.where, quoteList(r.tags))
	}
	if r.required > 0 {
		im.drop("%s: [[rules.required]] left out", r.where)
	}
	for _, a := range r.allowlists {
		if al, ok := im.allowlist(a, false); ok {
			for _, t := range targets {
				im.ruleAllowlist(t, al)
			}
		}
	}
	if len(r.allowlists) > 0 {
		im.note("%s: its allowlists apply to keysweep's %s", r.where, strings.Join(targets, ", "))
	}
	return nil
}

// defaultTargets returns the keysweep built-in rules a gitleaks default
// rule id stands for when the file extends gitleaks' defaults. An
// allowlist of aws-access-key-id covers its pairs, so that rule alone is
// named for AWS keys.
func (im *importer) defaultTargets(id string) []string {
	if !im.useDefault {
		return nil
	}
	var out []string
	for _, t := range GitleaksRuleIDs(id) {
		if im.builtin[t] && !(t == detectors.AWSKeyRule && slices.Contains(out, detectors.AWSKeyIDRule)) {
			out = append(out, t)
		}
	}
	return out
}

func (im *importer) ruleAllowlist(id string, al Allowlist) {
	if im.out.Rules.Allowlist == nil {
		im.out.Rules.Allowlist = map[string]Allowlist{}
	}
	im.out.Rules.Allowlist[id] = mergeAllowlists(im.out.Rules.Allowlist[id], al)
}

// disable turns off the keysweep rules whose every gitleaks equivalent
// [extend] disabledRules names.
func (im *importer) disable(ids []string) {
	if !im.useDefault {
		im.note("[extend] disabledRules left out: without useDefault there are no default rules to disable")
		return
	}
	for _, id := range ids {
		targets := im.defaultTargets(id)
		if len(targets) == 0 {
			im.drop("[extend] disabledRules: %q has no keysweep equivalent: nothing is disabled for it", id)
			continue
		}
		for _, t := range targets {
			all := true
			for _, e := range gitleaksEquivalents() {
				if slices.Contains(e.keysweep, t) {
					for _, g := range e.gitleaks {
						all = all && slices.Contains(ids, g)
					}
				}
			}
			switch {
			case !all:
				im.drop("[extend] disabledRules: %q is part of keysweep's %s, which finds more than it: %s stays on (add it to rules.disable to turn it off)", id, t, t)
			case !slices.Contains(im.out.Rules.Disable, t):
				im.out.Rules.Disable = append(im.out.Rules.Disable, t)
			}
		}
	}
}

// allowlist turns a gitleaks allowlist into keysweep's. wholeMatch says
// that the rules it applies to take the whole match as the secret, so
// that regexTarget = "match" means the same as the secret. ok is false
// when nothing is left of it.
func (im *importer) allowlist(a gitleaksAllowlist, wholeMatch bool) (Allowlist, bool) {
	if a.and {
		kinds := 0
		for _, n := range []int{len(a.commits), len(a.paths), len(a.regexes), len(a.stopword)} {
			if n > 0 {
				kinds++
			}
		}
		if kinds > 1 {
			im.drop("%s: condition = AND: a keysweep allowlist needs only one of its checks to match, so carried over it would silence more than gitleaks did; it is left out", a.where)
			return Allowlist{}, false
		}
	}
	var out Allowlist
	out.PathRegexes = append(out.PathRegexes, a.paths...)
	switch {
	case len(a.regexes) == 0:
	case a.target == "" || a.target == "match" && wholeMatch:
		out.Regexes = append(out.Regexes, a.regexes...)
	default:
		im.drop("%s: regexTarget = %q: keysweep's allowlist regexes match the secret only, so its regexes are left out", a.where, a.target)
	}
	for _, w := range a.stopword {
		if w == "" {
			im.drop("%s: an empty stopword is left out", a.where)
			continue
		}
		out.Stopwords = append(out.Stopwords, strings.ToLower(w))
	}
	for _, c := range a.commits {
		c = strings.ToLower(strings.TrimSpace(c))
		if !commitRe.MatchString(c) {
			im.note("%s: commit %q is not a full commit id: it matched no finding in gitleaks either, and is left out", a.where, c)
			continue
		}
		out.Commits = append(out.Commits, c)
	}
	if len(out.Paths)+len(out.PathRegexes)+len(out.Regexes)+len(out.Stopwords)+len(out.Commits) == 0 {
		return Allowlist{}, false
	}
	return out, true
}

func mergeAllowlists(a, b Allowlist) Allowlist {
	add := func(dst, src []string) []string {
		for _, s := range src {
			if !slices.Contains(dst, s) {
				dst = append(dst, s)
			}
		}
		return dst
	}
	return Allowlist{
		Paths:       add(a.Paths, b.Paths),
		PathRegexes: add(a.PathRegexes, b.PathRegexes),
		Regexes:     add(a.Regexes, b.Regexes),
		Stopwords:   add(a.Stopwords, b.Stopwords),
		Commits:     add(a.Commits, b.Commits),
	}
}

// wholeMatch reports whether a keysweep regex takes its whole match as
// the secret.
func wholeMatch(expr string) bool {
	return regexp.MustCompile(expr).SubexpIndex("secret") < 0
}

func captureCount(re *syntax.Regexp) int { return re.MaxCap() }

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// gtable reads a TOML table as gitleaks (viper) does: keys compared with
// case ignored.
type gtable struct {
	where string
	m     map[string]any
	names map[string]string // lower-cased key: as written
	read  map[string]bool
}

func newGTable(where string, m map[string]any) (*gtable, error) {
	t := &gtable{where: where, m: map[string]any{}, names: map[string]string{}, read: map[string]bool{}}
	for k, v := range m {
		lk := strings.ToLower(k)
		if prev, ok := t.names[lk]; ok {
			return nil, fmt.Errorf("%s: keys %q and %q are the same to gitleaks", t.path(lk), prev, k)
		}
		t.names[lk] = k
		t.m[lk] = v
	}
	return t, nil
}

func (t *gtable) path(key string) string {
	if t.where == "" {
		return key
	}
	return t.where + "." + key
}

func (t *gtable) get(key string) (any, bool) {
	v, ok := t.m[key]
	t.read[key] = true
	return v, ok
}

func (t *gtable) skip(keys ...string) {
	for _, k := range keys {
		t.read[k] = true
	}
}

func (t *gtable) unread() []string {
	var out []string
	for k := range t.m {
		if !t.read[k] {
			out = append(out, fmt.Sprintf("%q", t.path(t.names[k])))
		}
	}
	sort.Strings(out)
	return out
}

func (t *gtable) typeErr(key, want string) error {
	return fmt.Errorf("%s: want %s", t.path(t.names[key]), want)
}

func (t *gtable) str(key string) (string, error) {
	v, ok := t.get(key)
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", t.typeErr(key, "a string")
	}
	return s, nil
}

func (t *gtable) strs(key string) ([]string, error) {
	v, ok := t.get(key)
	if !ok {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, t.typeErr(key, "an array of strings")
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, t.typeErr(key, "an array of strings")
		}
		out = append(out, s)
	}
	return out, nil
}

func (t *gtable) boolean(key string) (bool, error) {
	v, ok := t.get(key)
	if !ok {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, t.typeErr(key, "true or false")
	}
	return b, nil
}

func (t *gtable) integer(key string) (int64, bool, error) {
	v, ok := t.get(key)
	if !ok {
		return 0, false, nil
	}
	n, ok := v.(int64)
	if !ok {
		return 0, false, t.typeErr(key, "a whole number")
	}
	return n, true, nil
}

func (t *gtable) float(key string) (float64, bool, error) {
	v, ok := t.get(key)
	if !ok {
		return 0, false, nil
	}
	switch n := v.(type) {
	case int64:
		return float64(n), true, nil
	case float64:
		if n != n { // NaN
			return 0, false, t.typeErr(key, "a number")
		}
		return n, true, nil
	}
	return 0, false, t.typeErr(key, "a number")
}

func (t *gtable) table(key string) (*gtable, bool, error) {
	v, ok := t.get(key)
	if !ok {
		return nil, false, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false, t.typeErr(key, "a table")
	}
	sub, err := newGTable(t.path(t.names[key]), m)
	return sub, err == nil, err
}

func (t *gtable) tables(key string) ([]*gtable, error) {
	v, ok := t.get(key)
	if !ok {
		return nil, nil
	}
	var ms []map[string]any
	switch list := v.(type) {
	case []map[string]any:
		ms = list
	case []any:
		for _, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, t.typeErr(key, "an array of tables")
			}
			ms = append(ms, m)
		}
	default:
		return nil, t.typeErr(key, "an array of tables")
	}
	out := make([]*gtable, len(ms))
	for i, m := range ms {
		sub, err := newGTable(fmt.Sprintf("%s[%d]", t.path(t.names[key]), i), m)
		if err != nil {
			return nil, err
		}
		out[i] = sub
	}
	return out, nil
}

// WriteImported writes an imported configuration to path, through a
// synced temporary file renamed over it, so that a crash leaves no half
// file. An existing file (or symbolic link) is replaced only with force.
func WriteImported(path string, data []byte, force bool) error {
	if _, err := os.Lstat(path); err == nil && !force {
		return fmt.Errorf("%s exists: use --force to replace it", path)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
