package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/internal/gittest"
)

// ruleIDsRepo returns a repository whose history holds an AWS key with its
// secret, a key id alone, a GitHub token and a generic password, and the
// rule ids a scan reports for them.
func ruleIDsRepo(t *testing.T) *gittest.Repo {
	t.Helper()
	r := gittest.New(t)
	r.Write("deploy/prod.env", "AWS_ACCESS_KEY_ID="+keyID+"\nAWS_SECRET_ACCESS_KEY="+secret+"\n")
	r.Write("src/ids.txt", "used by the nightly job: "+keyID+"\n")
	r.Write("src/gh.env", "GITHUB_TOKEN="+tokA+"\n")
	r.Write("src/db.yaml", "db:\n  password: Xk9#mP2vL7qR4wZ\n")
	r.Commit("settings")
	return r
}

// scanRuleIDs runs keysweep git on dir, with config when not empty, and
// returns the rule id of each finding by path.
func scanRuleIDs(t *testing.T, dir, config string) map[string]string {
	t.Helper()
	args := []string{"git", dir, "--format", "json", "--no-progress"}
	if config != "" {
		p := filepath.Join(t.TempDir(), "keysweep.toml")
		if err := os.WriteFile(p, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", p)
	}
	code, out, errOut := runCLI(t, args...)
	if code == exitError {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	got := map[string]string{}
	for _, f := range parseFindingsList(t, out) {
		got[f.Path] = f.RuleID
	}
	return got
}

// TestRulesListEveryReportedRuleID: every rule id a report carries is
// listed by keysweep rules, with its description.
func TestRulesListEveryReportedRuleID(t *testing.T) {
	t.Parallel()
	reported := scanRuleIDs(t, ruleIDsRepo(t).Dir, "")
	want := map[string]string{
		"deploy/prod.env": detectors.AWSKeyRule,
		"src/ids.txt":     detectors.AWSKeyIDRule,
		"src/gh.env":      "github-token",
		"src/db.yaml":     detectors.GenericRule,
	}
	if diff := cmp.Diff(want, reported); diff != "" {
		t.Fatalf("reported rule ids (-want +got):\n%s", diff)
	}
	code, out, _ := runCLI(t, "rules")
	if code != exitClean {
		t.Fatalf("rules: exit %d", code)
	}
	listed := map[string]string{}
	for _, line := range strings.Split(out, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 1 {
			listed[f[0]] = line
		}
	}
	for _, id := range reported {
		if _, ok := listed[id]; !ok {
			t.Errorf("rule %s is reported but not listed", id)
		}
	}
	if line := listed[detectors.AWSKeyRule]; !strings.Contains(line, "AWS access key id with its secret access key") || !strings.Contains(line, detectors.AWSKeyIDRule) {
		t.Errorf("aws-access-key is listed as %q: want its description and the rule it pairs", line)
	}
}

// TestConfigDisableAndAllowlistEveryRuleID: each rule id a report carries
// can be disabled and allowlisted in .keysweep.toml, and doing so for the
// AWS key id holds for the key with its secret as well.
func TestConfigDisableAndAllowlistEveryRuleID(t *testing.T) {
	t.Parallel()
	r := ruleIDsRepo(t)
	all := map[string]string{
		"deploy/prod.env": detectors.AWSKeyRule,
		"src/ids.txt":     detectors.AWSKeyIDRule,
		"src/gh.env":      "github-token",
		"src/db.yaml":     detectors.GenericRule,
	}
	without := func(paths ...string) map[string]string {
		out := map[string]string{}
		for p, id := range all {
			out[p] = id
		}
		for _, p := range paths {
			delete(out, p)
		}
		return out
	}
	tests := []struct {
		name, config string
		want         map[string]string
	}{
		{"disable aws-access-key", "[rules]\ndisable = [\"aws-access-key\"]\n", without("deploy/prod.env")},
		{"disable aws-access-key-id: no key, and its secret is no generic secret", "[rules]\ndisable = [\"aws-access-key-id\"]\n", without("deploy/prod.env", "src/ids.txt")},
		{"disable github-token", "[rules]\ndisable = [\"github-token\"]\n", without("src/gh.env")},
		{"disable generic-secret", "[rules]\ndisable = [\"generic-secret\"]\n", without("src/db.yaml")},
		{"enable aws-access-key only", "[rules]\nenable = [\"aws-access-key\"]\n", map[string]string{"deploy/prod.env": detectors.AWSKeyRule}},
		{"allowlist aws-access-key by path", "[rules.allowlist.aws-access-key]\npaths = [\"deploy/\"]\n", without("deploy/prod.env")},
		{"allowlist aws-access-key by secret", "[rules.allowlist.aws-access-key]\nregexes = ['''^9dr/''']\n", without("deploy/prod.env")},
		{"allowlist aws-access-key-id by path: its pairs too", "[rules.allowlist.aws-access-key-id]\npaths = [\"deploy/\", \"src/ids.txt\"]\n", without("deploy/prod.env", "src/ids.txt")},
		{"allowlist aws-access-key-id elsewhere", "[rules.allowlist.aws-access-key-id]\npaths = [\"docs/\"]\n", all},
		{"allowlist aws-access-key-id by key: its pairs too", "[rules.allowlist.aws-access-key-id]\nregexes = ['''^AKIA''']\n", without("deploy/prod.env", "src/ids.txt")},
		{"allowlist github-token", "[rules.allowlist.github-token]\npaths = [\"src/\"]\n", without("src/gh.env")},
		{"allowlist generic-secret", "[rules.allowlist.generic-secret]\npaths = [\"**/*.yaml\"]\n", without("src/db.yaml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, scanRuleIDs(t, r.Dir, tt.config)); diff != "" {
				t.Errorf("findings by path (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConfigAcceptsEveryListedRuleID: every id keysweep rules lists is
// accepted wherever .keysweep.toml takes a rule id.
func TestConfigAcceptsEveryListedRuleID(t *testing.T) {
	t.Parallel()
	_, out, _ := runCLI(t, "rules")
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		ids = append(ids, strings.Fields(line)[0])
	}
	if !slices.Contains(ids, detectors.AWSKeyRule) {
		t.Fatalf("aws-access-key is not listed: %v", ids)
	}
	r := gittest.New(t)
	r.Write("README.md", "# nothing secret\n")
	r.Commit("init")
	// One configuration names every listed id in every place that takes
	// one: an id the configuration refused would fail the run.
	var config, tables strings.Builder
	config.WriteString("[rules]\ndisable = [")
	for i, id := range ids {
		if i > 0 {
			config.WriteString(", ")
		}
		config.WriteString(strconv.Quote(id))
		tables.WriteString("[rules.allowlist." + id + "]\npaths = [\"docs/\"]\nstopwords = [\"example\"]\n")
	}
	config.WriteString("]\n[rules.entropy]\n")
	for _, id := range ids {
		config.WriteString(id + " = 4.0\n")
	}
	p := filepath.Join(t.TempDir(), "every-rule.toml")
	if err := os.WriteFile(p, []byte(config.String()+tables.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "git", r.Dir, "--config", p, "--no-progress"); code != exitClean {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
