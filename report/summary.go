package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keysweep/keysweep/aws"
	"github.com/keysweep/keysweep/config"
	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/scanner"
)

// The summaries keysweep prints on stderr, after the results.

// ScanSummary is what a scan summary says beyond the scan's counts.
type ScanSummary struct {
	// Unit is what was scanned: "blobs" or "files".
	Unit string
	// Commits says whether the summary counts commits.
	Commits     bool
	MaxBlobSize int64
	// Findings are those reported.
	Findings []finding.Finding
}

// WriteScanSummary says what a scan covered and skipped, and how many
// findings it reports.
func WriteScanSummary(w io.Writer, st scanner.Stats, s ScanSummary) {
	fmt.Fprint(w, "keysweep: scanned ")
	switch {
	case s.Commits && st.TotalCommits > st.Commits:
		// A window (--since, --until, --max-commits) chose some.
		fmt.Fprintf(w, "%d of %s, ", st.Commits, Count(int64(st.TotalCommits), "commit"))
	case s.Commits:
		fmt.Fprintf(w, "%s, ", Count(int64(st.Commits), "commit"))
	}
	fmt.Fprintf(w, "%s (%s) in %s; skipped %d binary and %d larger than %s",
		Count(st.Blobs, strings.TrimSuffix(s.Unit, "s")), HumanBytes(st.Bytes), st.Duration.Round(time.Millisecond), st.SkippedBinary, st.SkippedLarge, HumanBytes(s.MaxBlobSize))
	if n := len(st.Missing); n > 0 {
		what := plural(n, "object") + " missing"
		if s.Unit == "files" {
			what = "unreadable"
		}
		fmt.Fprintf(w, "; %d %s", n, what)
	}
	if st.Undecoded > 0 {
		fmt.Fprintf(w, "; %d with encoded text beyond the decode budget", st.Undecoded)
	}
	if st.Truncated > 0 {
		fmt.Fprintf(w, "; %d where AWS keys were paired within the work bound", st.Truncated)
	}
	fmt.Fprintf(w, "; %s\n", Count(int64(len(s.Findings)), "finding"))
	writeHidden(w, st, s.Findings)
	if n := len(st.Missing); n > 0 {
		shown := st.Missing
		if n > 10 {
			shown = shown[:10]
		}
		fmt.Fprintf(w, "keysweep: missing or unreadable: %s", Escape(strings.Join(shown, " ")))
		if n > 10 {
			fmt.Fprintf(w, " and %d more", n-10)
		}
		fmt.Fprintln(w)
	}
}

// writeHidden says what came from history no ref shows, when the scan
// looked there and found some.
func writeHidden(w io.Writer, st scanner.Stats, fs []finding.Finding) {
	if st.ReflogCommits+st.UnreachableCommits+st.UnreachableBlobs == 0 {
		return
	}
	reach := map[string]int{}
	for _, f := range fs {
		reach[f.Reach]++
	}
	var parts []string
	if n := st.ReflogCommits; n > 0 {
		parts = append(parts, fmt.Sprintf("%s only reflogs reach (%s)", Count(int64(n), "commit"), Count(int64(reach[finding.ReachReflog]), "finding")))
	}
	if n := st.UnreachableCommits + st.UnreachableBlobs; n > 0 {
		parts = append(parts, fmt.Sprintf("%s and %s nothing reaches (%s)", Count(int64(st.UnreachableCommits), "commit"), Count(int64(st.UnreachableBlobs), "blob"), Count(int64(reach[finding.ReachUnreachable]), "finding")))
	}
	fmt.Fprintf(w, "keysweep: beyond the refs: %s\n", strings.Join(parts, "; "))
}

// WriteShallowWarning warns that a shallow clone's history stops at n
// commits, when it does.
func WriteShallowWarning(w io.Writer, n int) {
	if n <= 0 {
		return
	}
	fmt.Fprintf(w, "keysweep: warning: a shallow clone: its history stops at %s, and what %s holds is attributed to %s; run git fetch --unshallow to scan the whole history\n",
		Count(int64(n), "commit"), pick(n, "it", "they"), pick(n, "it", "them"))
}

// WritePushSummary says what a hook checked, when it let the push
// through; allowed counts the secrets the pusher let through.
func WritePushSummary(w io.Writer, st scanner.Stats, took time.Duration, maxBlobSize int64, allowed int) {
	took = took.Round(time.Millisecond)
	if st.Commits == 0 && st.Blobs == 0 && st.SkippedBinary == 0 && st.SkippedLarge == 0 {
		fmt.Fprintf(w, "keysweep: nothing new to check (%s)\n", took)
		return
	}
	verdict := "no secrets"
	if allowed > 0 {
		verdict = "no other secrets"
	}
	fmt.Fprintf(w, "keysweep: checked %d new %s (%s, %s) in %s: %s", st.Commits, plural(st.Commits, "commit"), Count(st.Blobs, "blob"), HumanBytes(st.Bytes), took, verdict)
	if what := Unscanned(st, maxBlobSize); what != "" {
		fmt.Fprintf(w, "; not checked: %s", what)
	}
	fmt.Fprintln(w)
}

// Unscanned says what a scan could not look at, or "" when it saw
// everything.
func Unscanned(st scanner.Stats, maxBlobSize int64) string {
	var parts []string
	if st.SkippedLarge > 0 {
		parts = append(parts, fmt.Sprintf("%s larger than %s", Count(st.SkippedLarge, "file"), HumanBytes(maxBlobSize)))
	}
	if st.SkippedBinary > 0 {
		parts = append(parts, fmt.Sprintf("%d binary %s", st.SkippedBinary, plural(int(st.SkippedBinary), "file")))
	}
	if st.Undecoded > 0 {
		parts = append(parts, fmt.Sprintf("%s with more encoded text than the decode budget", Count(st.Undecoded, "file")))
	}
	return strings.Join(parts, ", ")
}

// WriteSuppressed says what was not reported, and which ignores were
// unused, have expired or use an old fingerprint. inline counts the
// secrets keysweep:allow markers hid.
func WriteSuppressed(w io.Writer, s config.Suppressed, inline int64) {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{s.Counts[config.ByAllowlist], "allowlisted"}, {s.Counts[config.ByIgnore], "ignored"}, {s.Counts[config.ByBaseline], "in the baseline"}, {int(inline), "marked " + scanner.AllowMarker}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "keysweep: not reported: %s\n", strings.Join(parts, ", "))
	}
	// Each ignore names its own file: .keysweepignore or .gitleaksignore.
	file := func(source string) string {
		if source != "" {
			return Escape(source)
		}
		return s.IgnoreFile
	}
	for _, e := range s.Expired {
		fmt.Fprintf(w, "keysweep: %s:%d: ignore of %s expired on %s: reported again\n", file(e.Source), e.Line, e.Fingerprint, e.Expires.Format("2006-01-02"))
	}
	for _, e := range s.Unused {
		fmt.Fprintf(w, "keysweep: %s:%d: unused ignore of %s (%s)\n", file(e.Source), e.Line, Escape(e.Fingerprint), Escape(e.Reason))
	}
	for _, e := range s.Legacy {
		fmt.Fprintf(w, "keysweep: %s:%d: ignore of %s uses an old fingerprint, a fast hash of the secret: replace it with %s\n", s.IgnoreFile, e.Line, e.Fingerprint, e.Replacement)
	}
}

// WriteAWSSummary counts the distinct AWS keys by verification status and
// remediation action.
func WriteAWSSummary(w io.Writer, s aws.Summary) {
	line := func(label string, counts map[string]int, order []string) {
		var parts []string
		for _, k := range order {
			if n := counts[k]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, k))
			}
		}
		if len(parts) == 0 {
			parts = []string{"no AWS keys"}
		}
		fmt.Fprintf(w, "keysweep: %s: %s", label, strings.Join(parts, ", "))
	}
	if len(s.Verification) > 0 {
		line("AWS keys", s.Verification, []string{finding.StatusVerified, finding.StatusInvalid, finding.StatusUnknown, finding.StatusCanary})
		fmt.Fprintln(w)
	}
	if s.AuditLog != "" {
		if s.UsedAfterExposure > 0 || s.Admin > 0 {
			fmt.Fprintf(w, "keysweep: incident: %d used after exposure, %d admin (approximate)\n", s.UsedAfterExposure, s.Admin)
		}
		if n := s.Steps[finding.ActionQuarantined] + s.Steps[finding.ActionAlreadyQuarantined]; n > 0 && s.Remediation[finding.ActionQuarantined] == 0 {
			// Quarantined and deactivated: the action says the last.
			fmt.Fprintf(w, "keysweep: quarantined: %d\n", n)
		}
		line("remediation", s.Remediation, []string{finding.ActionDeactivated, finding.ActionQuarantined, finding.ActionAlreadyInactive,
			finding.ActionAlreadyQuarantined, finding.ActionWarned, finding.ActionReminded, finding.ActionWouldDeactivate, finding.ActionWouldQuarantine,
			finding.ActionWouldWarn, finding.ActionManual, finding.ActionFailed, finding.ActionSkip})
		fmt.Fprintf(w, "; audit log %s\n", s.AuditLog)
	}
}

// WriteVerifySummary counts the distinct secrets other than AWS keys
// verified, by status.
func WriteVerifySummary(w io.Writer, counts map[string]int) {
	var parts []string
	for _, k := range []string{finding.StatusVerified, finding.StatusInvalid, finding.StatusUnknown} {
		if n := counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(parts) == 0 {
		parts = []string{"none with a verifier"}
	}
	fmt.Fprintf(w, "keysweep: other secrets: %s\n", strings.Join(parts, ", "))
}

// plural returns word for n == 1, else word with an s.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// pick returns one for n == 1, else other.
func pick(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}
