package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/report"
)

// maxGitleaksConfig bounds the gitleaks file import reads.
const maxGitleaksConfig = 16 << 20

func newConfigCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Import a gitleaks configuration, or show the configuration a scan would use",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newConfigImportCmd(s), newConfigShowCmd(s))
	return cmd
}

// configImportOptions are the flags of config import.
type configImportOptions struct {
	output string
	force  bool
}

func newConfigImportCmd(s *streams) *cobra.Command {
	o := &configImportOptions{}
	cmd := &cobra.Command{
		Use: "import [GITLEAKS.toml]",
		Example: `  keysweep config import                      # .gitleaks.toml to .keysweep.toml
  keysweep config import ci/gitleaks.toml -o .keysweep.toml --force
  keysweep config import .gitleaks.toml -o -     # print it`,
		Short: "Turn a gitleaks configuration into a " + config.FileName,
		Long: `Turn a gitleaks configuration (default ` + config.GitleaksFileName + `) into a
` + config.FileName + ` (default; -o - writes to stdout): its rules (regex,
secretGroup as the secret group, keywords, entropy), allowlists (regexes,
paths as path_regexes, stopwords, commits) and global allowlists.

Gitleaks' default rules are not copied: with [extend] useDefault,
keysweep's own built-in rules run in their place (keysweep rules lists
them); without it, gitleaks ran only the file's rules, and so will keysweep
(rules.enable). A keysweep rule runs its regex around its keywords (256
bytes before, 512 after); keywords are read from a rule's regex when it
has none of 3 characters or more.

What keysweep cannot express is left out and said on stderr, one line
each: a rule's path, regexTarget = "line", condition = AND with several
checks, [extend] path, [[rules.required]] and the like. Tags and renamed
rule ids are said as notes.

Exit codes: 0 everything carried over, 1 something was left out (the file
is written all the same, and lists it in its first comment), 2 a file
gitleaks would refuse, or that cannot be read or written. An existing
output file is replaced only with --force.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			in := config.GitleaksFileName
			if len(args) == 1 {
				in = args[0]
			}
			return o.run(s, in)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", config.FileName, "write the keysweep configuration to `FILE` (- for stdout)")
	f.BoolVar(&o.force, "force", false, "replace the output file when it exists")
	return cmd
}

func (o *configImportOptions) run(s *streams, in string) error {
	data, err := readSmallFile(in, maxGitleaksConfig)
	if err != nil {
		return err
	}
	im, err := config.ImportGitleaks(in, data)
	if err != nil {
		return err
	}
	if o.output == "-" {
		if _, err := s.out.Write(im.Text); err != nil {
			return err
		}
	} else if err := config.WriteImported(o.output, im.Text, o.force); err != nil {
		return err
	}
	for _, n := range im.Notes {
		fmt.Fprintf(s.errOut, "keysweep: note: %s\n", report.Escape(n))
	}
	for _, d := range im.Dropped {
		fmt.Fprintf(s.errOut, "keysweep: not carried over: %s\n", report.Escape(d))
	}
	where := o.output
	if where == "-" {
		where = "stdout"
	}
	fmt.Fprintf(s.errOut, "keysweep: wrote %s: %s from %s", report.Escape(where), count(len(im.Config.Rules.Custom), "rule"), report.Escape(in))
	if len(im.Dropped) > 0 {
		fmt.Fprintf(s.errOut, "; %s not carried over\n", count(len(im.Dropped), "setting"))
		return fmt.Errorf("%d settings not carried over: %w", len(im.Dropped), errFindings)
	}
	fmt.Fprintln(s.errOut, "; everything carried over")
	return nil
}

// readSmallFile reads a regular file of at most limit bytes.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB: not a gitleaks configuration", path, limit>>20)
	}
	return data, nil
}

// configShowOptions are the flags of config show.
type configShowOptions struct {
	cfg    configOptions
	format string
}

func newConfigShowCmd(s *streams) *cobra.Command {
	o := &configShowOptions{}
	cmd := &cobra.Command{
		Use: "show [PATH]",
		Example: `  keysweep config show
  keysweep config show ~/src/app --format json`,
		Short: "Show the configuration a scan of the repository at PATH would use, and where each part comes from",
		Long: `Show the configuration a scan of the repository at PATH (default .) would
use, and where each part comes from: the built-in rules, ` + config.FileName + `
(the rules it adds, overrides and disables, its allowlists), ` + config.IgnoreFileName + `
and ` + config.GitleaksIgnoreFileName + ` (entries, expired ones), and the baseline.
The repository's own files are read as keysweep git reads them (work tree,
else HEAD); --config, --ignore-file and --baseline replace them as they do
for a scan.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			path := "."
			if len(args) == 1 {
				path = args[0]
			}
			return o.run(c, s, path)
		},
	}
	o.cfg.bind(cmd.Flags())
	cmd.Flags().StringVarP(&o.format, "format", "f", "text", "text or json")
	return cmd
}

func (o *configShowOptions) run(c *cobra.Command, s *streams, path string) error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("invalid --format %q (want text or json)", o.format)
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", path)
	}
	d, err := config.Describe(o.cfg.files(config.GitFile(c.Context(), path)), time.Now())
	if err != nil {
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	return writeDescription(s.out, path, d)
}

// writeDescription prints d as text; every value a file gave is escaped.
func writeDescription(w io.Writer, path string, d *config.Description) error {
	e := report.Escape
	var b strings.Builder
	fmt.Fprintf(&b, "repository: %s\n", e(path))
	fmt.Fprintf(&b, "rules: %d reported (built-in catalog: %d rules; keysweep rules lists them)\n", d.Rules, d.Builtin)
	if c := d.Config; c != nil {
		fmt.Fprintf(&b, "%s: %s\n", config.FileName, e(c.Source))
		if len(c.Enabled) > 0 {
			fmt.Fprintf(&b, "  enabled (only these): %s\n", escapeList(c.Enabled))
		}
		if len(c.Disabled) > 0 {
			fmt.Fprintf(&b, "  disabled: %s\n", escapeList(c.Disabled))
		}
		if len(c.Added) > 0 {
			fmt.Fprintf(&b, "  added: %s\n", escapeList(c.Added))
		}
		if ov := c.Overridden(); len(ov) > 0 {
			fmt.Fprintf(&b, "  overridden (entropy or allowlist): %s\n", escapeList(ov))
		}
		for _, id := range sortedEntropy(c.Entropy) {
			fmt.Fprintf(&b, "  entropy: %s = %g\n", e(id), c.Entropy[id])
		}
		if len(c.RuleAllowlists) > 0 {
			fmt.Fprintf(&b, "  rule allowlists: %s\n", escapeList(c.RuleAllowlists))
		}
		a := c.Allowlist
		fmt.Fprintf(&b, "  allowlist: %s\n", strings.Join([]string{
			count(len(a.Paths), "path glob"), count(len(a.PathRegexes), "path regex", "path regexes"),
			count(len(a.Regexes), "regex", "regexes"), count(len(a.Stopwords), "stopword"), count(len(a.Commits), "commit"),
		}, ", "))
	} else {
		fmt.Fprintf(&b, "%s: none (built-in defaults)\n", config.FileName)
	}
	if ig := d.Ignores; ig != nil {
		fmt.Fprintf(&b, "%s: %s: %s, %d expired\n", config.IgnoreFileName, e(ig.Source), count(ig.Entries, "entry", "entries"), len(ig.Expired))
		for _, x := range ig.Expired {
			fmt.Fprintf(&b, "  line %d: %s expired on %s (%s)\n", x.Line, e(x.Fingerprint), x.Expires, e(x.Reason))
		}
	} else {
		fmt.Fprintf(&b, "%s: none\n", config.IgnoreFileName)
	}
	if g := d.Gitleaks; g != nil {
		fmt.Fprintf(&b, "%s: %s: %s\n", config.GitleaksIgnoreFileName, e(g.Source), count(g.Entries, "entry", "entries"))
		if len(g.Unmapped) > 0 {
			fmt.Fprintf(&b, "  gitleaks rules with no keysweep equivalent (their entries match only a rule of that id): %s\n", escapeList(g.Unmapped))
		}
	} else {
		fmt.Fprintf(&b, "%s: none\n", config.GitleaksIgnoreFileName)
	}
	if bl := d.Baseline; bl != nil {
		fmt.Fprintf(&b, "baseline: %s: %s\n", e(bl.Source), count(bl.Findings, "finding"))
	} else {
		b.WriteString("baseline: none\n")
	}
	if d.GitleaksConfig != "" {
		fmt.Fprintf(&b, "%s: %s is not read by keysweep: convert it with keysweep config import\n", config.GitleaksFileName, e(d.GitleaksConfig))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func escapeList(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = report.Escape(s)
	}
	return strings.Join(out, ", ")
}

func sortedEntropy(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// count is report.Count for an int.
func count(n int, one string, many ...string) string { return report.Count(int64(n), one, many...) }
