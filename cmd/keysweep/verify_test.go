package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/internal/awstest"
	"github.com/keysweep/keysweep/internal/gittest"
	"github.com/keysweep/keysweep/internal/providertest"
)

// Secrets of the providers' stand-ins: shaped as the rules find them.
const (
	liveGitHub = "ghp_R8fK2mQx7Lw3Nz9Pv5Tb1Yc6Hd4Js0Ga2Ue8"
	deadSlack  = "xoxb-2094857361-5928374651-Qm7Rt2Wx9Kp4Lz8Nv3Bc6Hd"
	generic    = "Zq8#mW2!rT5@kP9$vL3^nB7&"
)

// verifyEnv is a repository holding a live GitHub token, a dead Slack
// token, a live AWS key and a password no provider verifies, with the
// stand-ins that know them.
type verifyEnv struct {
	repo *gittest.Repo
	prov *providertest.Server
	sts  *awstest.Server
	aws  awstest.Credentials
}

func newVerifyEnv(t *testing.T) *verifyEnv {
	t.Helper()
	e := &verifyEnv{prov: providertest.New(t), sts: awstest.New(t)}
	e.prov.GitHub(map[string]providertest.GitHubToken{liveGitHub: {Login: "octocat", Scopes: []string{"repo"}}})
	e.prov.Slack(map[string]providertest.SlackToken{}, nil)
	e.aws = e.sts.AddUserKey(ownAccount, "ci/deploy-bot", false)
	awsEnv(t, e.sts.URL, e.sts.AddUserKey(ownAccount, "security-admin", true))
	e.repo = gittest.New(t)
	e.repo.Write("ci.env", "GITHUB_TOKEN="+liveGitHub+"\nSLACK_TOKEN="+deadSlack+"\n")
	e.repo.Write("db.ini", "password = \""+generic+"\"\n")
	e.repo.Write("aws.env", "aws_access_key_id = "+e.aws.KeyID+"\naws_secret_access_key = "+e.aws.Secret+"\n")
	e.repo.Commit("add settings")
	return e
}

// results runs a scan and returns, by rule, each finding's result.
func (e *verifyEnv) results(t *testing.T, args ...string) (int, map[string]*finding.Verification, string) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"git", e.repo.Dir, "--format", "json"}, args...)...)
	var fs []finding.Finding
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("exit %d: %v\n%s\n%s", code, err, out, errOut)
	}
	got := map[string]*finding.Verification{}
	for _, f := range fs {
		got[f.RuleID] = f.Verification
	}
	return code, got, errOut
}

// TestVerifyEveryProvider: --verify asks each secret's provider (through
// --verify-endpoint or KEYSWEEP_VERIFY_ENDPOINTS), --verify=LIST only
// those named, and --results reports only what it names, the exit code
// following what is reported.
func TestVerifyEveryProvider(t *testing.T) {
	e := newVerifyEnv(t)
	endpoints := []string{"--verify-endpoint", "github=" + e.prov.Base("github"), "--verify-endpoint", "slack=" + e.prov.Base("slack")}

	code, got, errOut := e.results(t, append([]string{"--verify"}, endpoints...)...)
	if code != exitFindings {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if v := got["github-token"]; v == nil || v.Status != "verified" || v.Provider != "github" || v.Identity != "login octocat" {
		t.Errorf("github: %+v", v)
	}
	if v := got["slack-token"]; v == nil || v.Status != "invalid" || v.Provider != "slack" {
		t.Errorf("slack: %+v", v)
	}
	if v := got["aws-access-key"]; v == nil || v.Status != "verified" {
		t.Errorf("aws: %+v", v)
	}
	if v, ok := got["generic-secret"]; !ok || v != nil {
		t.Errorf("generic: %v %+v", ok, v)
	}
	if !strings.Contains(errOut, "other secrets: 1 verified, 1 invalid") {
		t.Errorf("summary:\n%s", errOut)
	}

	tests := []struct {
		name string
		args []string
		code int
		want map[string]string // rule -> result
	}{
		{"only what is live", []string{"--verify", "--results", "verified"}, exitFindings,
			map[string]string{"github-token": "verified", "aws-access-key": "verified"}},
		{"only what is dead", []string{"--verify", "--results", "invalid"}, exitFindings,
			map[string]string{"slack-token": "invalid"}},
		{"what no provider says", []string{"--verify", "--results", "unverified"}, exitFindings,
			map[string]string{"generic-secret": "unverified"}},
		{"nothing to report", []string{"--verify", "--results", "unknown"}, exitClean, map[string]string{}},
		{"github only", []string{"--verify=github"}, exitFindings,
			map[string]string{"github-token": "verified", "slack-token": "unverified", "aws-access-key": "unverified", "generic-secret": "unverified"}},
		{"aws only", []string{"--verify=aws", "--results", "verified,unknown,invalid"}, exitFindings,
			map[string]string{"aws-access-key": "verified"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got, errOut := e.results(t, append(tt.args, endpoints...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, errOut)
			}
			results := map[string]string{}
			for rule, v := range got {
				f := finding.Finding{Verification: v}
				results[rule] = f.Result()
			}
			if len(results) != len(tt.want) {
				t.Errorf("results %v, want %v", results, tt.want)
			}
			for rule, want := range tt.want {
				if results[rule] != want {
					t.Errorf("%s: %s, want %s", rule, results[rule], want)
				}
			}
		})
	}

	// The environment names endpoints as well as the flags do.
	t.Setenv("KEYSWEEP_VERIFY_ENDPOINTS", "github="+e.prov.Base("github")+",slack="+e.prov.Base("slack"))
	if _, got, errOut := e.results(t, "--verify=github,slack"); got["github-token"] == nil || got["github-token"].Status != "verified" {
		t.Errorf("through KEYSWEEP_VERIFY_ENDPOINTS: %+v\n%s", got["github-token"], errOut)
	}
	// Each secret was asked once per run, and only through its endpoint.
	for _, c := range e.prov.Calls("") {
		if c.Provider == "github" && c.Header.Get("Authorization") != "Bearer "+liveGitHub {
			t.Errorf("github was sent %q", c.Header.Get("Authorization"))
		}
	}
}

// TestVerifyFlagErrors: bad verification flags are one line and exit 2,
// before anything is scanned or sent.
func TestVerifyFlagErrors(t *testing.T) {
	e := newVerifyEnv(t)
	tests := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"unknown provider", []string{"--verify=myspace"}, "", `--verify: unknown provider "myspace"`},
		{"plain http elsewhere", []string{"--verify", "--verify-endpoint", "github=http://ghe.example.com/api/v3"}, "", "plain http only to a loopback address"},
		{"endpoint of an unknown provider", []string{"--verify", "--verify-endpoint", "myspace=https://x.example"}, "", `unknown provider "myspace"`},
		{"bad endpoint in the environment", []string{"--verify"}, "github=ftp://x", `scheme "ftp"`},
		{"unknown result", []string{"--results", "live"}, "", `--results: unknown result "live"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KEYSWEEP_VERIFY_ENDPOINTS", tt.env)
			code, out, errOut := runCLI(t, append([]string{"git", e.repo.Dir}, tt.args...)...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if last := lines[len(lines)-1]; code != exitError || !strings.Contains(last, tt.want) || len(lines) != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
	if n := len(e.prov.Calls("")) + len(e.sts.Calls()); n != 0 {
		t.Errorf("%d calls on bad flags", n)
	}
}

// TestRulesShowVerifiers: keysweep rules says which rules verify, and
// with --format json the exact requests each makes, or why a rule has
// none.
func TestRulesShowVerifiers(t *testing.T) {
	code, out, errOut := runCLI(t, "rules", "--format", "json")
	if code != exitClean {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var rules []struct {
		ID       string `json:"id"`
		Verifier *struct {
			Provider string   `json:"provider"`
			Calls    []string `json:"calls"`
			Why      string   `json:"why_not"`
		} `json:"verifier"`
	}
	if err := json.Unmarshal([]byte(out), &rules); err != nil {
		t.Fatal(err)
	}
	by := map[string]int{}
	verified := 0
	for i, r := range rules {
		by[r.ID] = i
		if r.Verifier != nil && r.Verifier.Provider != "" {
			verified++
			if len(r.Verifier.Calls) == 0 {
				t.Errorf("%s: verified by %s with no calls listed", r.ID, r.Verifier.Provider)
			}
			for _, c := range r.Verifier.Calls {
				if !strings.Contains(c, "https://") {
					t.Errorf("%s: call %q names no https endpoint", r.ID, c)
				}
			}
		}
	}
	for rule, provider := range map[string]string{"github-token": "github", "slack-token": "slack", "aws-access-key": "aws", "stripe-live-key": "stripe"} {
		r := rules[by[rule]]
		if r.Verifier == nil || r.Verifier.Provider != provider {
			t.Errorf("%s: verifier %+v, want %s", rule, r.Verifier, provider)
		}
	}
	if r := rules[by["twilio-api-key"]]; r.Verifier == nil || r.Verifier.Provider != "" || r.Verifier.Why == "" {
		t.Errorf("twilio-api-key: %+v, want a reason for no verifier", r.Verifier)
	}
	if verified < 25 {
		t.Errorf("%d rules with a verifier", verified)
	}
	_, text, _ := runCLI(t, "rules")
	if !strings.Contains(text, "VERIFIED BY") {
		t.Errorf("text has no verifier column:\n%s", text)
	}
}

// TestPreReceiveVerifies: with --verify, the hook verifies the secrets it
// refuses, and says which are live; a provider that does not answer
// within the hook's budget makes the verification unknown, never lets the
// push through.
func TestPreReceiveVerifies(t *testing.T) {
	t.Parallel()
	prov := providertest.New(t)
	prov.GitHub(map[string]providertest.GitHubToken{liveGitHub: {Login: "octocat"}})
	hanging := providertest.New(t)
	hanging.Handle("github", func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })

	s := newGitServer(t)
	s.seed()
	s.client.Write("ci.env", "GITHUB_TOKEN="+liveGitHub+"\n")
	s.client.Commit("ci")

	s.hook("--verify=github", "--verify-endpoint", "github="+prov.Base("github"))
	out := s.refused("main")
	if !strings.Contains(out, "verified     LIVE (github: login octocat)") {
		t.Errorf("the refusal does not say the token is live:\n%s", out)
	}
	if strings.Contains(out, liveGitHub) {
		t.Error("the refusal holds the token")
	}

	s.hook("--verify=github", "--verify-endpoint", "github="+hanging.Base("github"), "--timeout", "1500ms")
	out = s.refused("main")
	if !strings.Contains(out, "push refused") || strings.Contains(out, "LIVE") {
		t.Errorf("a verification cut short:\n%s", out)
	}
	if s.ref("refs/heads/main") == s.client.Git("rev-parse", "HEAD") {
		t.Error("the push went through")
	}
}

// TestREADMEListsVerifiers keeps the README's table of verifiers true:
// every provider with a verifier, every rule it verifies and every
// request it makes, and every rule left without one.
func TestREADMEListsVerifiers(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for rule, v := range ruleVerifiers() {
		switch {
		case v.Provider != "" && v.Provider != "aws":
			if !strings.Contains(readme, "| `"+v.Provider+"` |") {
				t.Errorf("README has no row for provider %s", v.Provider)
			}
			if !strings.Contains(readme, "`"+rule+"`") {
				t.Errorf("README does not name rule %s", rule)
			}
			for _, c := range v.Calls {
				if !strings.Contains(readme, "`"+strings.ReplaceAll(c, "|", `\|`)+"`") {
					t.Errorf("README does not list %s's request %q", v.Provider, c)
				}
			}
		case v.Why != "" && rule != "aws-access-key-id":
			if !strings.Contains(readme, "- `"+rule+"`: ") {
				t.Errorf("README does not say why %s has no verifier", rule)
			}
		}
	}
}
