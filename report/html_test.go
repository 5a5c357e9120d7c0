package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
)

// htmlNow is the date of the test reports.
var htmlNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// htmlFindings returns n findings of several rules, repositories,
// statuses, sources and ages, the first ones hostile.
func htmlFindings(n int) []finding.Finding {
	rules := []struct{ id, desc string }{
		{"aws-access-key", "AWS access key id with its secret access key"},
		{"github-token", "GitHub personal access token"},
		{"slack-token", `Slack token <img src=x onerror="alert(1)">`},
		{"stripe-key", "Stripe secret key"},
	}
	repos := []string{"acme/api", "acme/web", "acme/infra", ""}
	statuses := []string{"", finding.StatusVerified, finding.StatusInvalid, finding.StatusUnknown}
	sources := []string{finding.SourceBlob, finding.SourceBlob, finding.SourceCommitMessage, finding.SourceFile}
	ages := []time.Duration{2 * 24 * time.Hour, 20 * 24 * time.Hour, 200 * 24 * time.Hour, 900 * 24 * time.Hour}
	fs := make([]finding.Finding, n)
	for i := range fs {
		r := rules[i%len(rules)]
		f := finding.Finding{
			Repository:  repos[i%len(repos)],
			RuleID:      r.id,
			Description: r.desc,
			Secret:      fmt.Sprintf("sk_live_%02dR8kLm2Xq9TzW4vB7nC1pD6sF3gH5", i),
			Commit:      fmt.Sprintf("%x%032x", 0x9f3c2a1b+i*7919, i),
			Path:        fmt.Sprintf("src/conf/file%02d.env", i),
			Line:        i + 1,
			Column:      3,
			Author:      fmt.Sprintf("Dev %02d", i%5),
			Email:       "dev@example.com",
			Date:        htmlNow.Add(-ages[(i/3)%len(ages)]).Format(time.RFC3339),
			Subject:     fmt.Sprintf("change %d", i),
			Source:      sources[(i/2)%len(sources)],
		}
		if f.Source == finding.SourceCommitMessage {
			f.Path = ""
		}
		if s := statuses[(i/4)%len(statuses)]; s != "" {
			f.Verification = &finding.Verification{Status: s, Provider: "stripe", Identity: "acct " + fmt.Sprint(i)}
		}
		fs[i] = f
	}
	fs[0].Path = "</script><script>alert(1)</script>"
	fs[1].Subject = "<!-- </script> & <b>bold</b>"
	fs[2].Author = "\u2028evil\u2029"
	return fs
}

func writeHTMLString(t *testing.T, fs []finding.Finding, opts Options) string {
	t.Helper()
	var buf bytes.Buffer
	if err := writeHTML(&buf, Prepare(fs, opts), htmlNow); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// htmlDataOf returns the JSON of the page's data element.
func htmlDataOf(t *testing.T, page string) string {
	t.Helper()
	const open = `<script type="application/json" id="data">`
	_, rest, ok := strings.Cut(page, open)
	if !ok {
		t.Fatal("no data element in the page")
	}
	data, _, ok := strings.Cut(rest, "</script>")
	if !ok {
		t.Fatal("the data element is not closed")
	}
	return data
}

func TestHTMLAssetsBudget(t *testing.T) {
	t.Parallel()
	page := writeHTMLString(t, nil, Options{})
	if size := len(page); size >= 200<<10 {
		t.Errorf("the empty page is %d bytes, want under 200 KB", size)
	}
	for name, asset := range map[string]string{"page.html": htmlPage, "style.css": htmlStyle, "app.js": htmlScript} {
		lower := strings.ToLower(asset)
		for _, bad := range []string{"http://", "https://", "//cdn", "@import", "url(", "fetch(", "xmlhttprequest", "import(", ".innerhtml", "outerhtml", "insertadjacenthtml", "document.write", "eval("} {
			if strings.Contains(lower, bad) {
				t.Errorf("%s holds %q: the page must fetch nothing and build no markup from data", name, bad)
			}
		}
		if name != "page.html" && (strings.Contains(lower, "</script") || strings.Contains(lower, "</style")) {
			t.Errorf("%s would close its own element", name)
		}
	}
	// No script or style the page loads from anywhere: only inline ones.
	if m := regexp.MustCompile(`(?i)<(script|link|img|iframe)[^>]*\s(src|href)\s*=`).FindString(page); m != "" {
		t.Errorf("the page loads %s", m)
	}
	if !strings.Contains(page, "default-src 'none'") {
		t.Error("the page has no content security policy")
	}
}

func TestHTMLDataEscaped(t *testing.T) {
	t.Parallel()
	fs := htmlFindings(3)
	page := writeHTMLString(t, fs, Options{})
	data := htmlDataOf(t, page)
	if strings.ContainsAny(data, "<>&") || strings.Contains(data, "\u2028") || strings.Contains(data, "\u2029") {
		t.Fatalf("the data holds markup characters: %s", data)
	}
	// The page has exactly the scripts it was built with: no finding
	// opened another.
	if n := strings.Count(strings.ToLower(page), "<script"); n != 2 {
		t.Errorf("%d script elements, want 2", n)
	}
	if strings.Contains(page, "<img") || strings.Contains(page, "alert(1)</script>") {
		t.Error("a finding's markup is in the page")
	}
	// And it decodes to what the findings hold.
	var rep htmlReport
	if err := json.Unmarshal([]byte(data), &rep); err != nil {
		t.Fatalf("the data is not JSON: %v", err)
	}
	if len(rep.Findings) != 3 {
		t.Fatalf("%d findings, want 3", len(rep.Findings))
	}
	got := []string{rep.Findings[0].Finding.Path, rep.Findings[1].Finding.Subject, rep.Findings[2].Finding.Description}
	want := []string{fs[0].Path, fs[1].Subject, fs[2].Description}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded data (-want +got):\n%s", diff)
	}
}

func TestHTMLRedaction(t *testing.T) {
	t.Parallel()
	fs := htmlFindings(4)
	raw := fs[1].Secret
	if page := writeHTMLString(t, fs, Options{}); strings.Contains(page, raw) || strings.Contains(page, raw[8:]) {
		t.Error("the page holds a secret in clear without NoRedact")
	}
	if page := writeHTMLString(t, fs, Options{NoRedact: true}); !strings.Contains(page, raw) {
		t.Error("NoRedact: the page does not hold the secret")
	}
}

func TestHTMLFields(t *testing.T) {
	t.Parallel()
	fs := htmlFindings(4)
	fs[1].Exposure = &finding.Exposure{Since: htmlNow.Add(-400 * 24 * time.Hour).Format(time.RFC3339)}
	fs[2].Date = "not a date"
	fs[3].Source = ""
	var rep htmlReport
	if err := json.Unmarshal([]byte(htmlDataOf(t, writeHTMLString(t, fs, Options{}))), &rep); err != nil {
		t.Fatal(err)
	}
	type row struct{ Status, Source, Age, Link string }
	var got []row
	for _, h := range rep.Findings {
		got = append(got, row{h.Status, h.Source, h.Age, h.Link})
	}
	want := []row{
		{statusNone, "blob", ageWeek, "https://github.com/acme/api/commit/" + fs[0].Commit},
		{statusNone, "blob", ageOlder, "https://github.com/acme/web/commit/" + fs[1].Commit},
		{statusNone, "blob", ageUnknown, "https://github.com/acme/infra/commit/" + fs[2].Commit},
		{statusNone, "blob", ageMonth, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if rep.Generated != "2026-06-01T12:00:00Z" {
		t.Errorf("generated %q", rep.Generated)
	}
}

func TestAgeBucket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		since string
		want  string
	}{
		{htmlNow.Add(time.Hour).Format(time.RFC3339), ageWeek},
		{htmlNow.Add(-6 * 24 * time.Hour).Format(time.RFC3339), ageWeek},
		{htmlNow.Add(-8 * 24 * time.Hour).Format(time.RFC3339), ageMonth},
		{htmlNow.Add(-40 * 24 * time.Hour).Format(time.RFC3339), ageYear},
		{htmlNow.Add(-366 * 24 * time.Hour).Format(time.RFC3339), ageOlder},
		{"", ageUnknown},
		{"2020-13-45", ageUnknown},
	} {
		if got := ageBucket(tc.since, htmlNow); got != tc.want {
			t.Errorf("ageBucket(%q) = %q, want %q", tc.since, got, tc.want)
		}
	}
}

func TestFindingLink(t *testing.T) {
	t.Parallel()
	commit := strings.Repeat("ab", 20)
	for _, tc := range []struct {
		name string
		f    finding.Finding
		want string
	}{
		{"owner/name", finding.Finding{Repository: "acme/api", Commit: commit}, "https://github.com/acme/api/commit/" + commit},
		{"https URL", finding.Finding{Repository: "https://github.com/acme/api.git", Commit: commit}, "https://github.com/acme/api/commit/" + commit},
		{"credentials dropped", finding.Finding{Repository: "https://user:tok@github.com/acme/api", Commit: commit}, "https://github.com/acme/api/commit/" + commit},
		{"scp", finding.Finding{Repository: "git@github.com:acme/api.git", Commit: commit}, "https://github.com/acme/api/commit/" + commit},
		{"sha256", finding.Finding{Repository: "acme/api", Commit: strings.Repeat("ab", 32)}, "https://github.com/acme/api/commit/" + strings.Repeat("ab", 32)},
		{"other host", finding.Finding{Repository: "https://gitlab.com/acme/api", Commit: commit}, ""},
		{"lookalike host", finding.Finding{Repository: "https://github.com.evil.test/acme/api", Commit: commit}, ""},
		{"javascript", finding.Finding{Repository: "javascript:alert(1)//x/y", Commit: commit}, ""},
		{"traversal", finding.Finding{Repository: "acme/..", Commit: commit}, ""},
		{"deep path", finding.Finding{Repository: "acme/api/../../x", Commit: commit}, ""},
		{"markup", finding.Finding{Repository: `acme/a"><b>`, Commit: commit}, ""},
		{"no repository", finding.Finding{Commit: commit}, ""},
		{"short commit", finding.Finding{Repository: "acme/api", Commit: "abc123"}, ""},
		{"commit with path", finding.Finding{Repository: "acme/api", Commit: commit + "/../x"}, ""},
		{"tag message", finding.Finding{Repository: "acme/api", Commit: commit, Source: finding.SourceTagMessage}, ""},
		{"issue comment", finding.Finding{Repository: "acme/api", Source: "issue-comment", Path: "issues/12#issuecomment-345", URL: "https://github.com/acme/api/issues/12#issuecomment-345"}, "https://github.com/acme/api/issues/12#issuecomment-345"},
		{"javascript url", finding.Finding{Repository: "acme/api", Commit: commit, URL: "javascript:alert(1)"}, ""},
		{"url with credentials", finding.Finding{URL: "https://u:p@ghe.example.com/a/b/issues/1"}, ""},
		{"relative url", finding.Finding{URL: "//evil.test/x"}, ""},
		{"unreachable", finding.Finding{Repository: "acme/api", Commit: commit, Reach: finding.ReachUnreachable}, ""},
	} {
		if got := findingLink(tc.f); got != tc.want {
			t.Errorf("%s: link %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestHTMLThroughWrite(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, htmlFindings(3), Options{Format: "html"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "<!DOCTYPE html>") {
		t.Errorf("not an HTML page: %.40q", buf.String())
	}
	if FormatOf("out.HTML") != "html" || !ValidFormat("html") {
		t.Error("html is not a format, or .html does not name it")
	}
}
