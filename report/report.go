// Package report writes findings in every output format keysweep offers,
// and owns redaction and fingerprints: a secret is redacted here, when the
// finding is built for output, unless the user asked to see it.
package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keysweep/keysweep/scanner"
	"github.com/keysweep/keysweep/verify"
)

// Formats lists the output formats.
var Formats = []string{"text", "json", "jsonl", "sarif", "csv"}

// Options control how findings are written.
type Options struct {
	Format   string
	NoRedact bool
	// Color adds terminal colors to the text format.
	Color bool
	// Version is keysweep's version, named in SARIF logs.
	Version string
}

// Finding is a finding as written: the output contract.
type Finding struct {
	// Repository names the repository of an organization sweep
	// (owner/name); empty for a single repository.
	Repository   string  `json:"repository,omitempty"`
	RuleID       string  `json:"rule_id"`
	Description  string  `json:"description"`
	Secret       string  `json:"secret"`
	Commit       string  `json:"commit"`
	Path         string  `json:"path"`
	Line         int     `json:"line"`
	Column       int     `json:"column"`
	Author       string  `json:"author"`
	Email        string  `json:"email"`
	Date         string  `json:"date"`
	Fingerprint  string  `json:"fingerprint"`
	Blob         string  `json:"blob,omitempty"`
	KeyID        string  `json:"key_id,omitempty"`
	AccountID    *string `json:"account_id,omitempty"`
	SessionToken string  `json:"session_token,omitempty"`
	Canary       bool    `json:"canary,omitempty"`
	// Decoded says how the secret was decoded from the text at the
	// location (base64, hex, percent; chained with +).
	Decoded string `json:"decoded,omitempty"`
	// Source is "commit-message" or "tag-message" for a secret found in a
	// commit's or an annotated tag's message (path is then empty, and
	// line counts lines of the message); absent for a file's content.
	Source string `json:"source,omitempty"`
	// ShallowBoundary marks a finding at a commit where a shallow clone's
	// history stops: the secret may be older, in history not fetched.
	ShallowBoundary bool `json:"shallow_boundary,omitempty"`
	// TestPath marks a path under a test, testdata or fixtures directory
	// (or a test file): a config allowlist can choose to ignore them.
	TestPath bool `json:"test_path,omitempty"`

	Verification *verify.Result      `json:"verification,omitempty"`
	Remediation  *verify.Remediation `json:"remediation,omitempty"`
}

// Redact hides a secret, keeping what identifies its kind: the header of
// a private key, or a few leading characters of a long token.
func Redact(s string) string {
	if s == "" {
		return ""
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		if i := strings.Index(s[5:], "-----"); i >= 0 {
			return s[:i+10] + "*****"
		}
	}
	keep := 0
	switch {
	case len(s) >= 20:
		keep = 4
	case len(s) >= 12:
		keep = 2
	}
	return s[:keep] + "*****"
}

// Build turns scanner findings into findings as written. Each distinct
// secret is fingerprinted once; a caller that also fingerprints them
// elsewhere shares a Fingerprinter and calls its Build.
func Build(fs []scanner.Finding, noRedact bool) []Finding {
	return new(Fingerprinter).Build(fs, noRedact)
}

func build(fs []scanner.Finding, noRedact bool, fingerprint func(ruleID, keyID, secret string) string) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		o := Finding{
			RuleID:          f.RuleID,
			Description:     f.Description,
			Secret:          f.Secret,
			Commit:          f.Commit,
			Path:            f.Path,
			Line:            f.Line,
			Column:          f.Column,
			Author:          f.Author,
			Email:           f.Email,
			Date:            f.Date,
			Fingerprint:     fingerprint(f.RuleID, f.KeyID, f.Secret),
			Blob:            f.BlobID,
			KeyID:           f.KeyID,
			SessionToken:    f.SessionToken,
			Canary:          f.Canary,
			Decoded:         f.Decoded,
			Source:          f.Source,
			ShallowBoundary: f.ShallowBoundary,
			TestPath:        IsTestPath(f.Path),
			Verification:    f.Verification,
			Remediation:     f.Remediation,
		}
		if f.KeyID != "" {
			account := f.AccountID
			o.AccountID = &account
		}
		if !noRedact {
			o.Secret = Redact(o.Secret)
			o.SessionToken = Redact(o.SessionToken)
		}
		out = append(out, o)
	}
	return out
}

// Write writes findings to w in opts.Format.
func Write(w io.Writer, fs []scanner.Finding, opts Options) error {
	return WriteFindings(w, Build(fs, opts.NoRedact), opts)
}

// WriteFindings writes findings already built for output (read back from
// a report, say) to w in opts.Format. They are written as they are:
// redaction happened when they were built.
func WriteFindings(w io.Writer, out []Finding, opts Options) error {
	if out == nil {
		out = []Finding{}
	}
	switch opts.Format {
	case "", "text":
		return writeText(w, out, opts.Color)
	case "json", "jsonl", "sarif":
		var buf bytes.Buffer
		if err := writeJSON(&buf, out, opts); err != nil {
			return err
		}
		_, err := w.Write(escapeJSON(buf.Bytes()))
		return err
	case "csv":
		return writeCSV(w, out)
	default:
		return fmt.Errorf("unknown format %q (want one of %s)", opts.Format, strings.Join(Formats, ", "))
	}
}

// writeJSON writes the formats that encoding/json escapes; WriteFindings
// escapes what it leaves.
func writeJSON(w io.Writer, out []Finding, opts Options) error {
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

func writeText(w io.Writer, fs []Finding, color bool) error {
	bold, red, dim, reset := "", "", "", ""
	if color {
		bold, red, dim, reset = "\x1b[1m", "\x1b[1;31m", "\x1b[2m", "\x1b[0m"
	}
	var b strings.Builder
	for i, f := range fs {
		f := escapeFinding(f)
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s%s%s  %s\n", red, f.RuleID, reset, f.Description)
		if f.Repository != "" {
			fmt.Fprintf(&b, "  Repository:  %s\n", f.Repository)
		}
		fmt.Fprintf(&b, "  Secret:      %s%s%s\n", bold, f.Secret, reset)
		if f.KeyID != "" {
			account := "none encoded (key issued before 2019)"
			if f.AccountID != nil && *f.AccountID != "" {
				account = *f.AccountID
			}
			fmt.Fprintf(&b, "  Key id:      %s  account %s\n", f.KeyID, account)
			if f.Canary {
				b.WriteString("  Canary:      yes, a canary token: using it sets off an alarm, never send it to AWS\n")
			}
		}
		if v := f.Verification; v != nil {
			fmt.Fprintf(&b, "  Verified:    %s\n", describeVerification(v))
		}
		if r := f.Remediation; r != nil {
			fmt.Fprintf(&b, "  Remediation: %s\n", describeRemediation(r))
		}
		fmt.Fprintf(&b, "  Location:    %s:%d:%d", Location(f), f.Line, f.Column)
		if f.Decoded != "" {
			fmt.Fprintf(&b, "  (decoded from %s)", f.Decoded)
		}
		if f.TestPath {
			b.WriteString("  (test path)")
		}
		if f.ShallowBoundary {
			b.WriteString("  (at a shallow clone's boundary: may be older)")
		}
		b.WriteString("\n")
		if f.Commit != "" {
			fmt.Fprintf(&b, "  Commit:      %s %s%s  %s <%s>%s\n", f.Commit, dim, f.Date, f.Author, f.Email, reset)
		}
		fmt.Fprintf(&b, "  Fingerprint: %s\n", f.Fingerprint)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func describeVerification(v *verify.Result) string {
	switch v.Status {
	case verify.StatusVerified:
		return fmt.Sprintf("LIVE, account %s, %s", v.Account, v.ARN)
	case verify.StatusCanary:
		return "canary, not sent to AWS"
	default:
		return v.Status + ": " + v.Error
	}
}

func describeRemediation(r *verify.Remediation) string {
	s := r.Action
	if r.Action != verify.ActionSkip {
		if r.User != "" {
			s += ", user " + r.User
		}
		if r.Account != "" {
			s += " in " + r.Account
		}
	}
	for _, more := range []string{r.Error, r.Note} {
		if more != "" {
			s += ": " + more
		}
	}
	return s
}

// Read reads a report written with --format json (an array) or jsonl
// (one finding a line). Unknown fields are an error: a file that is not a
// keysweep report must not be acted upon.
func Read(r io.Reader) ([]Finding, error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	dec := json.NewDecoder(br)
	dec.DisallowUnknownFields()
	var out []Finding
	switch first {
	case '[':
		if err := dec.Decode(&out); err != nil {
			return nil, fmt.Errorf("read report: %w", err)
		}
		if dec.More() {
			return nil, errors.New("read report: data after the array of findings")
		}
	case '{':
		for dec.More() {
			var f Finding
			if err := dec.Decode(&f); err != nil {
				return nil, fmt.Errorf("read report: finding %d: %w", len(out)+1, err)
			}
			out = append(out, f)
		}
	default:
		return nil, fmt.Errorf("read report: want a JSON array of findings (--format json) or JSON lines (--format jsonl), not %q", first)
	}
	for i, f := range out {
		if f.RuleID == "" || f.Fingerprint == "" {
			return nil, fmt.Errorf("read report: finding %d has no rule_id or fingerprint: not a keysweep report", i+1)
		}
	}
	return out, nil
}

// firstByte returns the first byte that is not white space, unread.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return 0, errors.New("empty file")
		}
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c, br.UnreadByte()
		}
	}
}

// testDirs are directory names that hold tests and their fixtures.
var testDirs = map[string]bool{
	"test": true, "tests": true, "testdata": true, "test-data": true, "test_data": true, "testing": true,
	"fixtures": true, "fixture": true, "__tests__": true, "__fixtures__": true, "spec": true, "specs": true,
	"testfixtures": true, "test-fixtures": true, "test_fixtures": true, "mocks": true, "e2e": true,
	"examples": true, "example": true,
}

// IsTestPath reports whether path is a test or fixture file, or lies
// under a directory of tests, fixtures or examples.
func IsTestPath(p string) bool {
	parts := strings.Split(p, "/")
	for _, d := range parts[:len(parts)-1] {
		if testDirs[strings.ToLower(d)] {
			return true
		}
	}
	base := strings.ToLower(parts[len(parts)-1])
	for _, suffix := range []string{"_test.go", "_test.py", "_spec.rb", "_test.rb", ".test.js", ".test.ts", ".spec.js", ".spec.ts", ".test.tsx", ".spec.tsx", "test.java", "tests.cs", "_test.exs"} {
		if strings.HasSuffix(base, suffix) {
			return true
		}
	}
	return strings.HasPrefix(base, "test_") && strings.HasSuffix(base, ".py") || strings.HasPrefix(base, "fixture")
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

// Location names where a finding is, for people: its path, or the
// message it is in.
func Location(f Finding) string {
	switch f.Source {
	case "commit-message":
		return "commit message"
	case "tag-message":
		return "tag message"
	}
	return f.Path
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
