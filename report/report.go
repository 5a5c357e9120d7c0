// Package report writes findings in every output format keysweep offers,
// and owns redaction and fingerprints: a secret is redacted here, when the
// finding is built for output, unless the user asked to see it.
package report

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/keysweep/keysweep/finding"
)

// Formats lists the output formats.
var Formats = []string{"text", "json", "jsonl", "sarif", "csv", "html"}

// Options control how findings are written.
type Options struct {
	Format   string
	NoRedact bool
	// Color adds terminal colors to the text format.
	Color bool
	// Version is keysweep's version, named in SARIF logs.
	Version string
	// Fingerprints, if set, fingerprints the findings that have none: a
	// caller that fingerprinted them already (to filter, to audit) shares
	// its cache.
	Fingerprints *finding.Fingerprinter
	// GroupBy groups the text format's findings under a heading: "file"
	// (the default, also ""), "rule" or "commit" (see GroupBys). The
	// other formats list findings as they come.
	GroupBy string
	// RedactKeyIDs hides AWS key ids (AKIA*****) in every format, the
	// snippet's match included, for reports that leave the team. The
	// account a key id carries stays, and fingerprints are unchanged.
	RedactKeyIDs bool
}

// Write writes findings to w in opts.Format: each one's fingerprint filled
// in where it has none (through opts.Fingerprints, when given, so that
// each secret costs one KDF call), its secrets redacted unless
// opts.NoRedact. fs is left as it is.
func Write(w io.Writer, fs []finding.Finding, opts Options) error {
	return WriteFindings(w, Prepare(fs, opts), opts)
}

// Prepare returns fs as written: fingerprinted, marked when on a test
// path, redacted unless opts.NoRedact, and their key ids hidden with
// opts.RedactKeyIDs.
func Prepare(fs []finding.Finding, opts Options) []finding.Finding {
	out := finding.Redacted(fs, true)
	fp := opts.Fingerprints
	if fp == nil {
		fp = new(finding.Fingerprinter)
	}
	_ = fp.Fill(context.Background(), out)
	for i := range out {
		if !out[i].TestPath {
			out[i].TestPath = finding.IsTestPath(out[i].Path)
		}
	}
	if !opts.NoRedact {
		// A key id is shown unless RedactKeyIDs, even where it is the
		// secret (a key id alone).
		redactSubjects(out, func(f *finding.Finding) []string {
			if f.Secret == f.KeyID {
				return []string{f.SessionToken}
			}
			return []string{f.Secret, f.SessionToken}
		})
	}
	if opts.RedactKeyIDs {
		redactSubjects(out, func(f *finding.Finding) []string { return []string{f.KeyID} })
	}
	out = finding.Redacted(out, opts.NoRedact)
	if opts.RedactKeyIDs {
		for i := range out {
			redactKeyID(&out[i])
		}
	}
	return out
}

// redactSubjects hides, in the subject of each finding's commit, the
// values secrets names of every finding of that commit: a secret in a
// commit message's first line is in its subject, and another finding of
// the commit shows that subject too. Each commit's subject is redacted
// once, however many findings share it.
func redactSubjects(fs []finding.Finding, secrets func(*finding.Finding) []string) {
	byCommit := map[string]map[string]bool{}
	for i := range fs {
		f := &fs[i]
		if f.Subject == "" {
			continue
		}
		for _, s := range secrets(f) {
			if len(s) >= minHidden && !finding.IsRedacted(s) {
				if byCommit[f.Commit] == nil {
					byCommit[f.Commit] = map[string]bool{}
				}
				byCommit[f.Commit][s] = true
			}
		}
	}
	done := map[[2]string]string{}
	for i := range fs {
		f := &fs[i]
		if len(byCommit[f.Commit]) == 0 {
			continue
		}
		key := [2]string{f.Commit, f.Subject}
		if subject, ok := done[key]; ok {
			f.Subject = subject
			continue
		}
		// The longest first: a secret within another leaves none of it.
		hidden := slices.SortedFunc(maps.Keys(byCommit[f.Commit]), func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
		for _, s := range hidden {
			f.Subject = strings.ReplaceAll(f.Subject, s, finding.Redact(s))
		}
		done[key] = f.Subject
	}
}

// minHidden is the shortest value hidden where it is copied (a subject, a
// snippet's context): a shorter one would hide ordinary words.
const minHidden = 8

// redactKeyID hides f's AWS key id wherever a report shows it: its field,
// the secret of a finding of the key id alone, and the snippet (the
// match, a copy before or after it, and a copy the clip cut).
func redactKeyID(f *finding.Finding) {
	id := f.KeyID
	if id == "" || finding.IsRedacted(id) {
		return
	}
	hidden := finding.Redact(id)
	f.KeyID = hidden
	if f.Secret == id {
		f.Secret = hidden
	}
	if sn := f.Snippet; sn != nil {
		c := *sn
		c.Match = strings.ReplaceAll(c.Match, id, hidden)
		c.Before = strings.ReplaceAll(c.Before, id, hidden)
		c.After = strings.ReplaceAll(c.After, id, hidden)
		for k := min(len(id), len(c.After)); k >= minHidden; k-- {
			if strings.HasSuffix(c.After, id[:k]) {
				c.After = c.After[:len(c.After)-k] + hidden
				break
			}
		}
		for k := min(len(id), len(c.Before)); k >= minHidden; k-- {
			if strings.HasPrefix(c.Before, id[len(id)-k:]) {
				c.Before = "*****" + c.Before[k:]
				break
			}
		}
		f.Snippet = &c
	}
}

// WriteFindings writes findings prepared for output to w in opts.Format,
// as they are.
func WriteFindings(w io.Writer, out []finding.Finding, opts Options) error {
	if out == nil {
		out = []finding.Finding{}
	}
	if !ValidGroupBy(opts.GroupBy) {
		return fmt.Errorf("unknown grouping %q (want one of %s)", opts.GroupBy, strings.Join(GroupBys, ", "))
	}
	switch opts.Format {
	case "", "text":
		return writeText(w, out, opts)
	case "json", "jsonl", "sarif":
		var buf bytes.Buffer
		if err := writeJSON(&buf, out, opts); err != nil {
			return err
		}
		_, err := w.Write(escapeJSON(buf.Bytes()))
		return err
	case "csv":
		return writeCSV(w, out)
	case "html":
		return writeHTMLPage(w, out)
	default:
		return fmt.Errorf("unknown format %q (want one of %s)", opts.Format, strings.Join(Formats, ", "))
	}
}

// writeJSON writes the formats that encoding/json escapes; WriteFindings
// escapes what it leaves.
func writeJSON(w io.Writer, out []finding.Finding, opts Options) error {
	switch opts.Format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "jsonl":
		enc := json.NewEncoder(w)
		for _, f := range out {
			if err := enc.Encode(f); err != nil {
				return err
			}
		}
		return nil
	default:
		return writeSARIF(w, out, opts.Version)
	}
}

// ValidFormat reports whether format is one Write knows.
func ValidFormat(format string) bool {
	for _, f := range Formats {
		if f == format {
			return true
		}
	}
	return false
}

func describeExposure(e *finding.Exposure) string {
	s := "since " + e.Since
	if e.Commit != "" {
		s += " (commit " + shortID(e.Commit) + ")"
	}
	switch {
	case e.StillInHead == nil:
		s += "; whether the default branch still holds it is unknown"
	case *e.StillInHead:
		s += "; the default branch still holds it"
	default:
		s += "; gone from the default branch, still in its history"
	}
	return s
}

func describeVerification(v *finding.Verification) string {
	switch {
	case v.Status == finding.StatusVerified && v.Provider != "":
		s := "LIVE (" + v.Provider
		if v.Identity != "" {
			s += ": " + v.Identity
		}
		s += ")"
		if len(v.Scopes) > 0 {
			s += ", scopes " + strings.Join(v.Scopes, ", ")
		}
		return s
	case v.Status == finding.StatusVerified:
		return fmt.Sprintf("LIVE, account %s, %s", v.Account, v.ARN)
	case v.Status == finding.StatusCanary:
		return "canary, not sent to AWS"
	case v.Provider != "":
		return v.Status + " (" + v.Provider + "): " + v.Error
	default:
		return v.Status + ": " + v.Error
	}
}

func describeRemediation(r *finding.Remediation) string {
	s := r.Action
	if len(r.Steps) > 1 {
		s = strings.Join(r.Steps, " + ")
	}
	if r.Action != finding.ActionSkip {
		if r.User != "" {
			s += ", user " + r.User
		}
		if r.Account != "" {
			s += " in " + r.Account
		}
	}
	switch r.Action {
	case finding.ActionWarned, finding.ActionReminded:
		s += "; warned " + r.Warned + ", contained " + r.Due + " if still active"
	}
	if r.Policy != "" {
		s += "; policy " + r.Policy
	}
	if len(r.Notified) > 0 {
		s += "; told " + strings.Join(r.Notified, ", ")
	}
	for _, more := range []string{r.Error, r.Note} {
		if more != "" {
			s += ": " + more
		}
	}
	return s
}

// hasIncident reports whether incident response looked at f's key.
func hasIncident(f finding.Finding) bool {
	return f.Usage != nil || f.BlastRadius != nil || f.CloudTrail != nil
}

// writeIncident writes the incident card of a live key of an own
// account: whose, whether public, used since the leak, what it did and
// can reach. What was or will be done is the Remediation line. f is
// escaped.
func writeIncident(b *strings.Builder, f finding.Finding) {
	b.WriteString("  Incident:    live key of your account")
	if v := f.Verification; v != nil {
		fmt.Fprintf(b, " %s, %s", v.Account, v.ARN)
	}
	if f.Public != nil && *f.Public {
		b.WriteString("; in a public repository: take it as compromised")
	}
	b.WriteString("\n")
	if u := f.Usage; u != nil {
		fmt.Fprintf(b, "    used:    %s\n", describeUsage(u, f.UsedAfterExposure))
	}
	if ct := f.CloudTrail; ct != nil {
		fmt.Fprintf(b, "    events:  %s\n", describeTrail(ct))
	}
	if br := f.BlastRadius; br != nil {
		fmt.Fprintf(b, "    reach:   %s\n", describeReach(br))
	}
}

func describeUsage(u *finding.Usage, after finding.Maybe) string {
	var s string
	switch {
	case after.True():
		s = "USED AFTER IT LEAKED"
	case after.Value != nil:
		s = "not used since it leaked"
	default:
		s = "whether it was used since it leaked is not known"
	}
	if u.LastUsed == "" {
		s += "; IAM records no use"
	} else {
		s += "; IAM's last use " + u.LastUsed
		if u.Service != "" {
			s += " (" + u.Service
			if u.Region != "" {
				s += ", " + u.Region
			}
			s += ")"
		}
	}
	if u.Note != "" {
		s += ": " + u.Note
	}
	return s
}

func describeTrail(ct *finding.CloudTrail) string {
	if ct.Error != "" && ct.Events == 0 {
		return "CloudTrail could not be read: " + ct.Error
	}
	s := fmt.Sprintf("%s in CloudTrail since %s", Count(int64(ct.Events), "event"), ct.From)
	if ct.Clipped {
		s += " (CloudTrail keeps 90 days: the leak is older)"
	}
	if ct.Events > 0 {
		s += fmt.Sprintf(" (first %s, last %s)", ct.First, ct.Last)
		var names []string
		for _, c := range ct.EventNames {
			names = append(names, fmt.Sprintf("%s (%d)", c.Name, c.Count))
		}
		s += "; " + strings.Join(names, ", ")
		if len(ct.EventRegions) > 0 {
			s += "; regions " + strings.Join(ct.EventRegions, ", ")
		}
		if len(ct.SourceIPs) > 0 {
			s += "; from " + strings.Join(ct.SourceIPs, ", ")
		}
		if len(ct.UserAgents) > 0 {
			agents := ct.UserAgents[:min(3, len(ct.UserAgents))]
			s += "; user agents " + strings.Join(agents, ", ")
			if n := len(ct.UserAgents) - len(agents); n > 0 {
				s += fmt.Sprintf(" and %d more", n)
			}
		}
	}
	if ct.Unexpected > 0 {
		s += fmt.Sprintf("; %d UNEXPECTED (%s)", ct.Unexpected, strings.Join(ct.UnexpectedRegions, ", "))
	}
	if len(ct.Failed) > 0 {
		s += "; not read in " + strings.Join(ct.Failed, ", ")
	}
	if ct.Error != "" {
		s += "; " + ct.Error
	}
	return s
}

func describeReach(br *finding.BlastRadius) string {
	var s string
	switch {
	case br.Admin:
		s = "ADMIN: every action on every resource"
	case len(br.Allowed) == 0:
		s = "none of the high-impact actions checked"
	default:
		s = "allowed " + strings.Join(br.Allowed, ", ")
	}
	if br.User != "" && br.User != "root" {
		s += "; user " + br.User
		if len(br.Groups) > 0 {
			s += " in " + strings.Join(br.Groups, ", ")
		}
	}
	if br.Boundary != "" {
		s += "; boundary " + br.Boundary
	}
	s += " (approximate: resource policies and SCPs are not evaluated)"
	if br.Error != "" {
		s += "; " + br.Error
	}
	return s
}

// HumanBytes writes a byte count in binary units: 512 B, 1.5 KiB, 3.2 GiB.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Count says n of a thing in English: "1 commit", "2 commits"; many is
// the plural, when adding an s will not do.
func Count(n int64, one string, many ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(many) > 0 {
		return fmt.Sprintf("%d %s", n, many[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}
