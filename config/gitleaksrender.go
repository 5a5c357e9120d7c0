package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// render writes the imported configuration as .keysweep.toml, with what
// was not carried over in its first comment.
func (im *importer) render() []byte {
	var b strings.Builder
	c := im.out
	fmt.Fprintf(&b, "# Imported from %s by keysweep config import.\n", commentText(im.source))
	for _, h := range im.header {
		fmt.Fprintf(&b, "# %s\n", commentText(h))
	}
	if len(im.dropped) > 0 {
		b.WriteString("#\n# Not carried over:\n")
		for _, d := range im.dropped {
			fmt.Fprintf(&b, "# - %s\n", commentText(d))
		}
	}
	if len(c.Rules.Enable)+len(c.Rules.Disable)+len(c.Rules.Entropy) > 0 {
		b.WriteString("\n[rules]\n")
		writeList(&b, "enable", c.Rules.Enable)
		writeList(&b, "disable", c.Rules.Disable)
		if len(c.Rules.Entropy) > 0 {
			b.WriteString("\n[rules.entropy]\n")
			for _, id := range sortedKeys(c.Rules.Entropy) {
				fmt.Fprintf(&b, "%s = %s\n", id, strconv.FormatFloat(c.Rules.Entropy[id], 'g', -1, 64))
			}
		}
	}
	for _, cr := range c.Rules.Custom {
		b.WriteString("\n[[rules.custom]]\n")
		if from := im.origin[cr.ID]; from != "" && from != cr.ID {
			fmt.Fprintf(&b, "# gitleaks rule %s\n", commentText(strconv.Quote(from)))
		}
		fmt.Fprintf(&b, "id = %s\n", tomlString(cr.ID))
		if cr.Description != "" {
			fmt.Fprintf(&b, "description = %s\n", tomlString(cr.Description))
		}
		writeList(&b, "keywords", cr.Keywords)
		fmt.Fprintf(&b, "regex = %s\n", tomlString(cr.Regex))
		if cr.Entropy > 0 {
			fmt.Fprintf(&b, "entropy = %s\n", floatText(cr.Entropy))
		}
		if cr.Multiline {
			b.WriteString("multiline = true\n")
		}
		writeAllowlist(&b, "rules.custom.allowlist", cr.Allowlist)
	}
	for _, id := range sortedKeys(c.Rules.Allowlist) {
		writeAllowlist(&b, "rules.allowlist."+id, c.Rules.Allowlist[id])
	}
	writeAllowlist(&b, "allowlist", c.Allowlist)
	return []byte(b.String())
}

func writeAllowlist(b *strings.Builder, table string, a Allowlist) {
	if len(a.Paths)+len(a.PathRegexes)+len(a.Regexes)+len(a.Stopwords)+len(a.Commits) == 0 {
		return
	}
	fmt.Fprintf(b, "\n[%s]\n", table)
	writeList(b, "paths", a.Paths)
	writeList(b, "path_regexes", a.PathRegexes)
	writeList(b, "regexes", a.Regexes)
	writeList(b, "stopwords", a.Stopwords)
	writeList(b, "commits", a.Commits)
}

func writeList(b *strings.Builder, key string, list []string) {
	if len(list) == 0 {
		return
	}
	if len(list) == 1 {
		fmt.Fprintf(b, "%s = [%s]\n", key, tomlString(list[0]))
		return
	}
	fmt.Fprintf(b, "%s = [\n", key)
	for _, s := range list {
		fmt.Fprintf(b, "  %s,\n", tomlString(s))
	}
	b.WriteString("]\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func floatText(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// tomlString quotes s for TOML: a literal string ('...', no escapes,
// easiest to read for a regex) when s allows, else a basic string.
func tomlString(s string) string {
	literal := utf8.ValidString(s)
	for _, r := range s {
		if r == '\'' || r < 0x20 && r != '\t' || r == 0x7f {
			literal = false
			break
		}
	}
	if literal {
		return "'" + s + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == utf8.RuneError:
			b.WriteString(`\uFFFD`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// commentText makes s safe in a one-line TOML comment: no line breaks
// or other control characters, which TOML refuses in comments.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
