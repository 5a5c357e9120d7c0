package github

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/ghtest"
)

func TestFilter(t *testing.T) {
	t.Parallel()
	repos := []Repo{
		{FullName: "acme/api", Visibility: "public"},
		{FullName: "acme/Web", Visibility: "private"},
		{FullName: "acme/lib-fork", Visibility: "public", Fork: true},
		{FullName: "acme/old", Visibility: "internal", Archived: true},
	}
	for _, tc := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"defaults", Filter{}, []string{"acme/api", "acme/Web"}},
		{"forks and archived", Filter{IncludeForks: true, IncludeArchived: true}, []string{"acme/api", "acme/Web", "acme/lib-fork", "acme/old"}},
		{"private", Filter{Visibility: "private"}, []string{"acme/Web"}},
		{"internal, archived", Filter{Visibility: "internal", IncludeArchived: true}, []string{"acme/old"}},
		{"include, case-insensitive", Filter{Include: []string{"ACME/w*"}}, []string{"acme/Web"}},
		{"exclude", Filter{Exclude: []string{"*/api"}}, []string{"acme/Web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, r := range repos {
				if tc.f.Match(r) {
					got = append(got, r.FullName)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []Filter{{Visibility: "secret"}, {Include: []string{"[a"}}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}

func TestShards(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "1", "3/3", "-1/2", "0/0", "a/b", "1/2/3", "01/2"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q): want an error", bad)
		}
	}
	counts := make([]int, 4)
	for i := 0; i < 1000; i++ {
		name := fmt.Sprintf("org/repo-%d", i)
		n := 0
		for k := 0; k < 4; k++ {
			if (Shard{K: k, N: 4}).Has(name) {
				counts[k]++
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%s is in %d shards", name, n)
		}
		if !(Shard{K: 0, N: 1}).Has(name) {
			t.Fatal("a single shard must hold everything")
		}
	}
	for k, c := range counts {
		if c < 180 || c > 320 {
			t.Errorf("shard %d holds %d of 1000: the hash spreads badly", k, c)
		}
	}
	if sh := (Shard{K: 1, N: 4}); sh.Has("Org/Repo-7") != sh.Has("org/repo-7") {
		t.Error("shards must not depend on case")
	}
}

func TestStateBlobsAndFindings(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	id := func(c byte) string { return strings.Repeat(string(c), 40) }
	if err := s.Save("acme/a", map[string]string{"refs/heads/main": id('1')}, []string{id('c'), id('a')}, []finding.Finding{{Fingerprint: "r:1", Path: "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("acme/a", map[string]string{"refs/heads/main": id('2')}, []string{id('b'), id('a'), id('e')}, []finding.Finding{{Fingerprint: "r:2", Path: "y"}}); err != nil {
		t.Fatal(err)
	}
	// A second sweep cannot open the state while this one has it.
	if _, err := OpenState(path); err == nil || !strings.Contains(err.Error(), "in use by another sweep") {
		t.Errorf("second open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenState(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rs, err := s.Load("acme/a")
	if err != nil {
		t.Fatal(err)
	}
	if rs.Blobs() != 4 || !rs.Seen(id('a')) || !rs.Seen(id('e')) || rs.Seen(id('d')) || rs.Seen("zz") {
		t.Errorf("blobs: %d", rs.Blobs())
	}
	if diff := cmp.Diff([]string{id('2')}, rs.Since()); diff != "" {
		t.Errorf("since (-want +got):\n%s", diff)
	}
	fs, err := s.Findings("acme/a")
	if err != nil || len(fs) != 2 {
		t.Errorf("findings: %v %+v", err, fs)
	}
	if ok, _ := s.Known("acme/a", "r:2", "y"); !ok {
		t.Error("r:2 at y should be known")
	}
	if ok, _ := s.Known("acme/a", "r:2", "x"); ok {
		t.Error("r:2 at x should not be known")
	}
	if err := s.Delete("acme/a"); err != nil {
		t.Fatal(err)
	}
	if fs, _ := s.Findings("acme/a"); len(fs) != 0 {
		t.Errorf("after delete: %+v", fs)
	}
	if names, _ := s.Repos(); len(names) != 0 {
		t.Errorf("after delete: %v", names)
	}
}

func TestValidName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{"acme/api": true, "a-b/c.d_e": true, "acme/..": false, "../x": false, "acme": false, "a/b/c": false, "a/b c": false} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v", name, got)
		}
	}
}

func TestSlackMessage(t *testing.T) {
	t.Parallel()
	const id = "0123456789abcdef0123456789abcdef01234567"
	mk := func(rule, path, account string) finding.Finding {
		return finding.Finding{RuleID: rule, Path: path, Line: 2, Commit: id, Verification: &finding.Verification{Status: "verified", Account: account}}
	}
	for _, tc := range []struct {
		name    string
		scope   string
		repo    Repo
		finding finding.Finding
		want    string
	}{{
		name:    "plain",
		scope:   "acme",
		repo:    Repo{FullName: "acme/api", HTMLURL: "https://github.com/acme/api"},
		finding: mk("aws-access-key", "deploy/prod.env", "111122223333"),
		want:    "• acme/api `aws-access-key` deploy/prod.env:2 commit <https://github.com/acme/api/commit/" + id + "|0123456789ab>, verified (account 111122223333)\n",
	}, {
		name:    "mentions and links in every field",
		scope:   "acme <!channel>",
		repo:    Repo{FullName: "acme/<!here>", HTMLURL: "https://github.com/acme/x|click>"},
		finding: mk("r&<@U123>", "<http://evil|click> & *b*", "<!everyone>"),
		want: "• acme/&lt;!here&gt; `r&amp;&lt;@U123&gt;` &lt;http://evil|click&gt; &amp; *b*:2 commit " +
			"<https://github.com/acme/x%7Cclick%3E/commit/" + id + "|0123456789ab>, verified (account &lt;!everyone&gt;)\n",
	}, {
		name:    "a forged line",
		scope:   "acme",
		repo:    Repo{FullName: "acme/api", HTMLURL: "https://github.com/acme/api"},
		finding: mk("generic", "x.env\n• acme/api `aws-access-key` fake:1\x1b[8m", ""),
		want:    "• acme/api `generic` x.env\\n• acme/api `aws-access-key` fake:1\\x1b[8m:2 commit <https://github.com/acme/api/commit/" + id + "|0123456789ab>, verified\n",
	}, {
		name:    "not a web link",
		scope:   "acme",
		repo:    Repo{FullName: "acme/api", HTMLURL: "javascript:alert(1)//"},
		finding: mk("generic", "a", ""),
		want:    "• acme/api `generic` a:2 commit 0123456789ab, verified\n",
	}, {
		name:    "a space in the link",
		scope:   "acme",
		repo:    Repo{FullName: "acme/api", HTMLURL: "https://github.com/acme/api click here"},
		finding: mk("generic", "a", ""),
		want:    "• acme/api `generic` a:2 commit 0123456789ab, verified\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := &Notifier{MaxLines: 5}
			got, count := n.Message(tc.scope, []Outcome{{Repo: tc.repo, New: []finding.Finding{tc.finding}}})
			head := ":rotating_light: keysweep: 1 new secret in " + strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(tc.scope) + "\n"
			if diff := cmp.Diff(head+tc.want, got); count != 1 || diff != "" {
				t.Errorf("count %d (-want +got):\n%s", count, diff)
			}
		})
	}
}

func TestMayReceiveToken(t *testing.T) {
	t.Parallel()
	dotcom, err := NewHosts("", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	ghes, err := NewHosts("https://ghes.example.com/api/v3/", []string{"git.example.com", "https://mirror.example.com:8443", "http://127.0.0.1:9000"}, false)
	if err != nil {
		t.Fatal(err)
	}
	local, err := NewHosts("http://127.0.0.1:8080/api/v3/", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		hosts *Hosts
		url   string
		want  bool
	}{
		{dotcom, "https://api.github.com/orgs/acme/repos", true},
		{dotcom, "https://github.com/acme/api.git", true},
		{dotcom, "https://GitHub.com:443/acme/api.git", true},
		{dotcom, "http://github.com/acme/api.git", false},
		{dotcom, "https://github.com:8443/acme/api.git", false},
		{dotcom, "https://gist.github.com/acme/api.git", false},
		{dotcom, "https://github.com.evil.example/acme/api.git", false},
		{dotcom, "https://evil.example/acme/api.git", false},
		{dotcom, "ssh://github.com/acme/api.git", false},
		{dotcom, "file:///srv/git/api.git", false},
		{dotcom, "/srv/git/api.git", false},
		{ghes, "https://ghes.example.com/api/v3/orgs/acme/repos", true},
		{ghes, "https://ghes.example.com/acme/api.git", true},
		{ghes, "https://api.github.com/orgs/acme/repos", false},
		{ghes, "https://github.com/acme/api.git", false},
		{ghes, "https://git.example.com/acme/api.git", true},
		{ghes, "https://git.example.com:444/acme/api.git", false},
		{ghes, "https://mirror.example.com:8443/acme/api.git", true},
		{ghes, "https://mirror.example.com/acme/api.git", false},
		{ghes, "http://127.0.0.1:9000/acme/api.git", true},
		{ghes, "https://127.0.0.1:9000/acme/api.git", false},
		{local, "http://127.0.0.1:8080/git/acme/api.git", true},
		{local, "http://127.0.0.1:8081/git/acme/api.git", false},
		{local, "http://localhost:8080/git/acme/api.git", false},
		{local, "https://127.0.0.1:8080/git/acme/api.git", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.hosts.MayReceiveToken(u); got != tc.want {
				t.Errorf("%s may receive the token of %v: %v, want %v", tc.url, tc.hosts.trusted(), got, tc.want)
			}
		})
	}
	if (*Hosts)(nil).MayReceiveToken(&url.URL{Scheme: "https", Host: "github.com"}) {
		t.Error("no hosts must trust nothing")
	}
}

func TestNewHosts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		api      string
		git      []string
		insecure bool
		err      string // "" for none
	}{
		{api: "http://127.0.0.1:8080/api/v3/"},
		{api: "http://localhost:8080/api/v3/"},
		{api: "http://[::1]:8080/api/v3/"},
		{api: "http://127.1.2.3/api/v3/"},
		{api: "https://ghes.example.com/api/v3/", git: []string{"http://localhost:9000"}},
		{api: "http://ghes.example.com/api/v3/", err: "--api-url http://ghes.example.com/api/v3/ is plain http to a host that is not loopback: the token would cross the network in clear; use https, or --insecure-api to accept that"},
		{api: "http://ghes.example.com/api/v3/", insecure: true},
		{api: "http://0.0.0.0/api/v3/", err: "--insecure-api"},
		{api: "http://localhost.example.com/api/v3/", err: "--insecure-api"},
		{git: []string{"http://git.example.com"}, err: "--git-host http://git.example.com is plain http"},
		{git: []string{"http://git.example.com"}, insecure: true},
		{api: "ftp://ghes.example.com/", err: `--api-url "ftp://ghes.example.com/": want https://HOST/api/v3/`},
		{api: "ghes.example.com", err: "want https://HOST/api/v3/"},
		{api: "https://user:pw@ghes.example.com/api/v3/", err: "want https://HOST/api/v3/"},
		{git: []string{"https://git.example.com/some/path"}, err: `--git-host "https://git.example.com/some/path": want HOST, HOST:PORT or https://HOST[:PORT]`},
		{git: []string{"git@git.example.com"}, err: "want HOST"},
		{git: []string{""}, err: "want HOST"},
	} {
		t.Run(fmt.Sprintf("%s %q %v", tc.api, tc.git, tc.insecure), func(t *testing.T) {
			t.Parallel()
			_, err := NewHosts(tc.api, tc.git, tc.insecure)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("NewHosts(%q, %q, %v): %v, want %q", tc.api, tc.git, tc.insecure, err, tc.err)
			}
		})
	}
}

func TestCheckCloneURL(t *testing.T) {
	t.Parallel()
	h, err := NewHosts("", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string]string{
		"https://github.com/acme/api.git":      "",
		"https://github.com:443/acme/api.git":  "",
		"https://evil.example/acme/api.git":    `refuse clone URL "https://evil.example/acme/api.git": https://evil.example is not a git host of the API (trusted: https://api.github.com, https://github.com; --git-host adds one)`,
		"https://github.com:444/acme/api.git":  "https://github.com:444 is not a git host",
		"http://github.com/acme/api.git":       "http://github.com is not a git host",
		"file:///srv/git/api.git":              `refuse clone URL "file:///srv/git/api.git": want https`,
		"/srv/git/api.git":                     "want https",
		"../api.git":                           "want https",
		"ssh://git@github.com/acme/api.git":    "want https",
		"git@github.com:acme/api.git":          "want https",
		"git://github.com/acme/api.git":        "want https",
		"https:///acme/api.git":                "want https",
		"https://x:secret@github.com/acme.git": `refuse clone URL "https://x:xxxxx@github.com/acme.git": it holds a user name or password`,
	} {
		t.Run(raw, func(t *testing.T) {
			t.Parallel()
			err := h.CheckCloneURL(raw)
			if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
				t.Errorf("CheckCloneURL(%q): %v, want %q", raw, err, want)
			}
		})
	}
}

// TestAPIRedirects: the API client follows a redirect on the API's own
// origin, with the token, and no other.
func TestAPIRedirects(t *testing.T) {
	t.Parallel()
	const token = "ghp_" + "UnitTestToken00000000000000000000000"
	other := ghtest.NewCatcher(t)
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v3/repos/acme/old":
			http.Redirect(w, r, "/api/v3/repos/acme/new", http.StatusMovedPermanently)
		case "/api/v3/repos/acme/elsewhere":
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
		case "/api/v3/repos/acme/other-name":
			http.Redirect(w, r, strings.Replace(api.URL, "127.0.0.1", "localhost", 1)+"/api/v3/repos/acme/new", http.StatusFound)
		case "/api/v3/repos/acme/new":
			if r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
				return
			}
			_, _ = io.WriteString(w, `{"full_name":"acme/new","clone_url":"`+api.URL+`/acme/new.git"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	hosts, err := NewHosts(api.URL+"/api/v3/", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(hosts, nil, StaticToken(token), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if r, err := c.Repo(ctx, "acme/old"); err != nil || r.FullName != "acme/new" {
		t.Errorf("same-origin redirect: %+v %v", r, err)
	}
	for name, to := range map[string]string{"acme/elsewhere": other.URL, "acme/other-name": strings.Replace(api.URL, "127.0.0.1", "localhost", 1)} {
		_, err := c.Repo(ctx, name)
		if want := "not following a redirect to " + to + ": another origin than the API's (" + api.URL + ")"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
	if got := other.Requests(); len(got) != 0 {
		t.Errorf("another origin was asked: %q", got)
	}
}
