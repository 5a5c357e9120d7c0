package report

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/keysweep/keysweep/finding"
)

// The page's assets. The CSS and JS go inline into one file that opens
// offline: a report is mailed, attached to a ticket, opened on a laptop
// with no network, and must fetch nothing.
var (
	//go:embed html/page.html
	htmlPage string
	//go:embed html/style.css
	htmlStyle string
	//go:embed html/app.js
	htmlScript string
)

// htmlReport is the data the page renders, in the page as JSON.
type htmlReport struct {
	Generated string        `json:"generated"`
	Findings  []htmlFinding `json:"findings"`
}

// htmlFinding is a finding as written, with what the page shows of it
// worked out here, where it can be tested: the link (only one built from
// parts checked to be safe), the status, the source and the age bucket.
type htmlFinding struct {
	Finding finding.Finding `json:"finding"`
	Link    string          `json:"link,omitempty"`
	Status  string          `json:"status"`
	Source  string          `json:"source"`
	Age     string          `json:"age"`
	// Since is when the secret entered history: Exposure.Since, else the
	// finding's date.
	Since string `json:"since,omitempty"`
}

// The exposure age buckets, in the order the page draws them.
const (
	ageWeek    = "< 1 week"
	ageMonth   = "< 1 month"
	ageYear    = "< 1 year"
	ageOlder   = "older"
	ageUnknown = "unknown"
)

// statusNone is the status of a finding nobody verified.
const statusNone = "not verified"

// writeHTML writes out as one self-contained HTML page; now dates the
// report and measures exposure ages.
func writeHTML(w io.Writer, out []finding.Finding, now time.Time) error {
	rep := htmlReport{Generated: now.UTC().Format(time.RFC3339), Findings: make([]htmlFinding, len(out))}
	for i, f := range out {
		h := htmlFinding{Finding: f, Link: findingLink(f), Status: statusNone, Source: f.Source}
		if f.Verification != nil && f.Verification.Status != "" {
			h.Status = f.Verification.Status
		}
		if h.Source == "" {
			h.Source = finding.SourceBlob
		}
		h.Since = f.Date
		if f.Exposure != nil && f.Exposure.Since != "" {
			h.Since = f.Exposure.Since
		}
		h.Age = ageBucket(h.Since, now)
		rep.Findings[i] = h
	}
	data, err := htmlData(rep)
	if err != nil {
		return err
	}
	page := strings.NewReplacer(
		"{{csp}}", htmlCSP(),
		"{{style}}", htmlStyle,
		"{{data}}", string(data),
		"{{script}}", htmlScript,
	).Replace(htmlPage)
	_, err = io.WriteString(w, page)
	return err
}

// htmlData encodes rep for a <script type="application/json"> element:
// encoding/json writes <, > and & as \u escapes (and U+2028, U+2029), so
// that no value can close the element or open a comment in it, and
// escapeJSON does the same for the characters a terminal acts upon, for
// whoever cats the file.
func htmlData(rep htmlReport) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true) // the default, said out loud: the page depends on it
	if err := enc.Encode(rep); err != nil {
		return nil, fmt.Errorf("encode html report: %w", err)
	}
	data := escapeJSON(bytes.TrimSpace(buf.Bytes()))
	if bytes.ContainsAny(data, "<>&") {
		// Cannot happen with SetEscapeHTML; refuse rather than write a
		// page a finding could script.
		return nil, fmt.Errorf("encode html report: markup left unescaped")
	}
	return data, nil
}

// htmlCSP is the page's content security policy: nothing is fetched,
// and only the page's own style and script run (by hash), so that even
// markup that got in would do nothing.
func htmlCSP() string {
	return "default-src 'none'; img-src data:; style-src " + cspHash(htmlStyle) +
		"; script-src " + cspHash(htmlScript) + "; base-uri 'none'; form-action 'none'"
}

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// ageBucket says how long a secret dated since (RFC 3339) has been in
// history at now.
func ageBucket(since string, now time.Time) string {
	t, err := time.Parse(time.RFC3339, since)
	if err != nil {
		return ageUnknown
	}
	switch age := now.Sub(t); {
	case age < 7*24*time.Hour:
		return ageWeek
	case age < 31*24*time.Hour:
		return ageMonth
	case age < 365*24*time.Hour:
		return ageYear
	default:
		return ageOlder
	}
}

var (
	githubOwner  = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	githubName   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	githubCommit = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)
)

// findingLink is the address of f's item when it has one (an issue, a
// comment) and it is an http(s) URL, else the web page of f's commit when
// one can be built from checked parts: a github.com repository (owner/name, or a github.com
// URL of it) and a full commit id. A finding in a tag message, or on a
// commit no branch reaches, has none: GitHub would not show it.
func findingLink(f finding.Finding) string {
	if f.URL != "" {
		return webURL(f.URL)
	}
	if f.Source == finding.SourceTagMessage || f.Reach != "" || !githubCommit.MatchString(f.Commit) {
		return ""
	}
	owner, name, ok := githubRepo(f.Repository)
	if !ok {
		return ""
	}
	return "https://github.com/" + owner + "/" + name + "/commit/" + f.Commit
}

// githubRepo returns the owner and name of a github.com repository named
// as owner/name, github.com/owner/name, an https or ssh URL, or
// git@github.com:owner/name. Credentials in a URL are dropped with the
// rest of it.
func githubRepo(repo string) (owner, name string, ok bool) {
	path := ""
	switch {
	case strings.HasPrefix(repo, "git@github.com:"):
		path = strings.TrimPrefix(repo, "git@github.com:")
	case strings.HasPrefix(strings.ToLower(repo), "github.com/"):
		path = repo[len("github.com/"):]
	case strings.Contains(repo, "://"):
		u, err := url.Parse(repo)
		if err != nil || (u.Scheme != "https" && u.Scheme != "ssh" && u.Scheme != "http") || !strings.EqualFold(u.Host, "github.com") {
			return "", "", false
		}
		path = strings.TrimPrefix(u.Path, "/")
	default:
		path = repo
	}
	path = strings.TrimSuffix(strings.TrimSuffix(path, "/"), ".git")
	owner, name, found := strings.Cut(path, "/")
	if !found || !githubOwner.MatchString(owner) || !githubName.MatchString(name) || name == "." || name == ".." {
		return "", "", false
	}
	return owner, name, true
}

// writeHTMLPage writes out as an HTML page dated now.
func writeHTMLPage(w io.Writer, out []finding.Finding) error {
	return writeHTML(w, out, time.Now())
}

// webURL returns raw when it is an absolute http(s) URL with a host and
// no credentials, else "".
func webURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return u.String()
}
