package hook

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/scanner/gitsrc"
)

// PrePush is the local check of a push: it stops a push whose commits the
// remote lacks add a secret.
type PrePush struct {
	// Dir is the repository pushed from.
	Dir string
	// Config names the configuration files; the repository's own are read
	// when they name none.
	Config      config.Files
	MaxShown    int
	MaxBlobSize int64
	Workers     int
	// KeepMarked stops the push for secrets marked keysweep:allow too.
	KeepMarked bool
	// Log receives the refusal and the summary.
	Log io.Writer
}

// Run checks the refs git writes to in, pushed to remote (its name or URL,
// as git gives it). It returns finding.ErrFindings when the push is to
// stop for secrets.
func (h *PrePush) Run(ctx context.Context, in io.Reader, remote string) error {
	if h.Dir == "" {
		h.Dir = "."
	}
	if h.MaxBlobSize <= 0 {
		h.MaxBlobSize = scanner.DefaultMaxBlobSize
	}
	if h.Log == nil {
		h.Log = io.Discard
	}
	start := time.Now()
	refs, err := gitsrc.ParsePushRefs(in)
	if err != nil {
		return err
	}
	files := h.Config
	files.Read = config.GitFile(ctx, h.Dir)
	setup, err := config.Resolve(files, time.Now())
	if err != nil {
		return err
	}
	res, err := scanner.Outgoing(ctx, h.Dir, setup.Engine, remote, refs, scanner.Options{Workers: h.Workers, MaxBlobSize: h.MaxBlobSize, KeepMarked: h.KeepMarked})
	if err != nil {
		return err
	}
	findings := setup.Filter(res.Findings)
	if len(findings) > 0 {
		var names []string
		for _, r := range refs {
			names = append(names, r.RemoteRef)
		}
		if remote != "" {
			names = append(names[:0:0], remote+": "+strings.Join(names, ", "))
		}
		err := report.WriteRefusal(h.Log, report.Prepare(findings, report.Options{Fingerprints: setup.Fingerprints}), report.Refusal{
			Title:    "keysweep: push stopped by the pre-push hook",
			Refs:     names,
			MaxShown: h.MaxShown,
			Bypass: func(fingerprints []string) []string {
				lines := []string{"Add a line per fingerprint, with the reason, to .keysweepignore:"}
				for _, fp := range fingerprints {
					lines = append(lines, "  "+fp+" <why it is not a secret>")
				}
				return append(lines,
					"or put keysweep:allow on the secret's line, then amend the commit;",
					"or, for this push only: git push --no-verify")
			},
		})
		if err != nil {
			return err
		}
		return finding.ErrFindings
	}
	report.WritePushSummary(h.Log, res.Stats, time.Since(start), h.MaxBlobSize, 0)
	report.WriteSuppressed(h.Log, setup.Suppressed(), res.Stats.InlineAllowed)
	return nil
}
