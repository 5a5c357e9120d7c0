package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/report"
)

// The flags more than one command takes, each defined once.

// outputOptions are the flags every scanning command shares.
type outputOptions struct {
	// formatFlag says whether --format was given: without it, --report's
	// extension names the format.
	formatFlag   *pflag.Flag
	format       string
	reportFile   string
	noRedact     bool
	noProgress   bool
	results      string
	groupBy      string
	redactKeyIDs bool
}

func (o *outputOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "text", "output format: "+strings.Join(report.Formats, ", ")+" (default: from --report's extension, else text)")
	o.formatFlag = f.Lookup("format")
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion(report.Formats...))
	f.StringVar(&o.reportFile, "report", "", "write results to `FILE` instead of stdout (- for stdout); .json, .jsonl, .sarif, .csv or .txt names the format; created before the scan starts")
	f.BoolVar(&o.noRedact, "no-redact", false, "show secrets in clear in the results")
	f.StringVar(&o.results, "results", "", "report only findings whose verification is one of `LIST`: "+strings.Join(finding.Results, ", ")+
		" (no verifier, or verification off); the exit code follows what is reported (default: all)")
	_ = cmd.RegisterFlagCompletionFunc("results", listCompletion(finding.Results...))
	f.StringVar(&o.groupBy, "group-by", "file", "in text, group findings by "+strings.Join(report.GroupBys, ", "))
	_ = cmd.RegisterFlagCompletionFunc("group-by", fixedCompletion(report.GroupBys...))
	f.BoolVar(&o.redactKeyIDs, "redact-key-ids", false, "hide AWS key ids too (AKIA*****), for reports that leave the team: they are shown by default, since they are needed to act and cannot authenticate alone")
}

// fixedCompletion completes a flag with one of values.
func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// listCompletion completes a comma-separated list of values: the item
// being typed, after those already given.
func listCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, typed string) ([]string, cobra.ShellCompDirective) {
		done := ""
		if i := strings.LastIndexByte(typed, ','); i >= 0 {
			done = typed[:i+1]
		}
		var out []string
		for _, v := range values {
			if !strings.Contains(","+done, ","+v+",") {
				out = append(out, done+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// bindProgress adds --no-progress, for the commands that show progress.
func (o *outputOptions) bindProgress(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.noProgress, "no-progress", false, "never show the progress bar")
}

func (o *outputOptions) validate() error {
	if o.formatFlag != nil && !o.formatFlag.Changed && !report.ToStdout(o.reportFile) {
		if f := report.FormatOf(o.reportFile); f != "" {
			o.format = f
		}
	}
	if !report.ValidFormat(o.format) {
		return fmt.Errorf("invalid --format %q (want one of %s)", o.format, strings.Join(report.Formats, ", "))
	}
	if !report.ValidGroupBy(o.groupBy) {
		return fmt.Errorf("invalid --group-by %q (want one of %s)", o.groupBy, strings.Join(report.GroupBys, ", "))
	}
	if _, err := finding.ParseResults(o.results); err != nil {
		return fmt.Errorf("--results: %w", err)
	}
	perm := os.FileMode(0o666)
	if o.noRedact {
		perm = 0o600
	}
	if err := report.CreatePath(o.reportFile, perm); err != nil {
		return fmt.Errorf("--report %w", err)
	}
	return nil
}

// keep returns the findings of fs whose verification --results names.
func (o *outputOptions) keep(fs []finding.Finding) []finding.Finding {
	keep, _ := finding.ParseResults(o.results) // validated
	return finding.KeepResults(fs, keep)
}

// configOptions are the flags that say what to look for and what to keep
// quiet about.
type configOptions struct {
	configFile string
	ignoreFile string
	baseline   string
}

func (o *configOptions) bind(f *pflag.FlagSet) {
	f.StringVar(&o.configFile, "config", "", "read rules and allowlists from `FILE` instead of the scanned repository's "+config.FileName)
	f.StringVar(&o.ignoreFile, "ignore-file", "", "read ignored fingerprints from `FILE` instead of the scanned repository's "+config.IgnoreFileName)
	f.StringVar(&o.baseline, "baseline", "", "do not report findings already in `REPORT.json`, an earlier keysweep report")
}

// files are the configuration files the flags name; read, when not nil,
// reads the scanned repository's own.
func (o *configOptions) files(read config.RepoFile) config.Files {
	return config.Files{Config: o.configFile, Ignores: o.ignoreFile, Baseline: o.baseline, Read: read}
}

// resolve loads the configuration the flags name, else the repository's
// own (when read is not nil), else the defaults.
func (o *configOptions) resolve(read config.RepoFile) (*config.Setup, error) {
	return config.Resolve(o.files(read), time.Now())
}

// blobOptions are the flags that bound what is read and how many at once.
type blobOptions struct {
	workers     int
	maxBlobSize string
}

// defaultMaxBlobSize is --max-blob-size's default.
const defaultMaxBlobSize = "25MiB"

func (o *blobOptions) bind(f *pflag.FlagSet, unit string) {
	f.IntVar(&o.workers, "workers", 0, workersUsage(unit))
	f.StringVar(&o.maxBlobSize, "max-blob-size", defaultMaxBlobSize, "skip "+unit+" larger than this `SIZE`")
}

// parse validates the flags and returns --max-blob-size in bytes.
func (o *blobOptions) parse() (int64, error) {
	size, err := parseMaxBlobSize(o.maxBlobSize)
	if err != nil {
		return 0, err
	}
	return size, checkWorkers(o.workers)
}

// workersUsage is the help of --workers.
func workersUsage(unit string) string {
	return unit + " scanned at once; 0 means one per core (the default)"
}

// checkWorkers validates --workers: 0, the default, is one per core.
func checkWorkers(n int) error {
	if n < 0 {
		return fmt.Errorf("--workers must be 0 (one per core) or more, got %d", n)
	}
	return nil
}

// parseMaxBlobSize reads --max-blob-size: a whole number of bytes with an
// optional unit, decimal (KB, MB, GB, TB) or binary (KiB, MiB, GiB, TiB,
// or K, M, G, T), in any case.
func parseMaxBlobSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{
		{"tib", 1 << 40}, {"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10},
		{"tb", 1e12}, {"gb", 1e9}, {"mb", 1e6}, {"kb", 1e3},
		{"t", 1 << 40}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1},
	} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	switch {
	case strings.HasPrefix(t, "-") || err == nil && n == 0:
		return 0, fmt.Errorf("--max-blob-size %q: invalid size: want more than 0 bytes, like 25MiB", s)
	case errors.Is(err, strconv.ErrRange) || err == nil && n > math.MaxInt64/mult:
		return 0, fmt.Errorf("--max-blob-size %q is too large: at most %dTiB", s, int64(math.MaxInt64>>40))
	case err != nil:
		return 0, fmt.Errorf("--max-blob-size %q: invalid size: want a whole number of bytes, with a unit or not (KB, MB, GB, TB, KiB, MiB, GiB, TiB), like 25MiB", s)
	}
	return n * mult, nil
}
