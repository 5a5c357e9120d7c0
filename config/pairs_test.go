package config

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/detectors"
)

// A fake key, assembled at run time so that this file holds none.
var (
	pairKeyID  = "AKIA" + "QYLPMN5HHHFPZAM2"
	pairSecret = "9dr/Wq+XyWX" + "9kM2Lp3QzR8vT0bN6cHjE4fUaGs1Q"
)

// TestAWSPairRule: aws-access-key, the rule id of a key id found with its
// secret, is a rule like the others in the configuration, and what is
// said of aws-access-key-id holds for the pairs as well: a pair is that
// key. A key the user does not want reported never comes back as a
// generic secret instead.
func TestAWSPairRule(t *testing.T) {
	t.Parallel()
	pair := "aws_access_key_id = " + pairKeyID + "\naws_secret_access_key = " + pairSecret + "\n"
	blobs := map[string]string{
		"pair":    pair,
		"lone id": "id: " + pairKeyID + "\n",
		"encoded": "credentials: " + base64.StdEncoding.EncodeToString([]byte(pair)) + "\n",
	}
	tests := []struct {
		name, config string
		want         map[string][]string // blob -> rule ids reported
	}{
		{"defaults", "", map[string][]string{
			"pair": {detectors.AWSKeyRule}, "lone id": {detectors.AWSKeyIDRule}, "encoded": {detectors.AWSKeyRule}}},
		{"pairs disabled", `[rules]
disable = ["aws-access-key"]`, map[string][]string{
			"pair": nil, "lone id": {detectors.AWSKeyIDRule}, "encoded": nil}},
		{"key ids disabled", `[rules]
disable = ["aws-access-key-id"]`, map[string][]string{
			"pair": nil, "lone id": nil, "encoded": nil}},
		{"only pairs enabled", `[rules]
enable = ["aws-access-key"]`, map[string][]string{
			"pair": {detectors.AWSKeyRule}, "lone id": nil, "encoded": {detectors.AWSKeyRule}}},
		{"key ids enabled: pairs too", `[rules]
enable = ["aws-access-key-id"]`, map[string][]string{
			"pair": {detectors.AWSKeyRule}, "lone id": {detectors.AWSKeyIDRule}, "encoded": {detectors.AWSKeyRule}}},
		{"only the generic rule enabled", `[rules]
enable = ["generic-secret"]`, map[string][]string{
			"pair": nil, "lone id": nil, "encoded": nil}},
		{"pair allowlisted by its secret", `[rules.allowlist.aws-access-key]
regexes = ['''^9dr/''']`, map[string][]string{
			"pair": nil, "lone id": {detectors.AWSKeyIDRule}, "encoded": nil}},
		{"pair allowlisted by its key id", `[rules.allowlist.aws-access-key]
stopwords = ["qylpmn5h"]`, map[string][]string{
			"pair": nil, "lone id": {detectors.AWSKeyIDRule}, "encoded": nil}},
		{"key id allowlisted", `[rules.allowlist.aws-access-key-id]
regexes = ['''^AKIAQYLP''']`, map[string][]string{
			"pair": nil, "lone id": nil, "encoded": nil}},
		{"global allowlist", `[allowlist]
stopwords = ["wq+xywx9"]`, map[string][]string{
			"pair": nil, "lone id": {detectors.AWSKeyIDRule}, "encoded": nil}},
		{"pair entropy above the secret's", `[rules.entropy]
aws-access-key = 5.3`, map[string][]string{
			"pair": {detectors.AWSKeyIDRule, detectors.GenericRule}, "lone id": {detectors.AWSKeyIDRule}, "encoded": {detectors.AWSKeyIDRule, detectors.GenericRule}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(".keysweep.toml", []byte(tt.config))
			if err != nil {
				t.Fatal(err)
			}
			e := detectors.New(c.Apply(detectors.Catalog()))
			got := map[string][]string{}
			for name, data := range blobs {
				got[name] = nil
				for _, m := range e.Scan("app.env", []byte(data)) {
					got[name] = append(got[name], m.RuleID)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules reported (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAWSPairRulePaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, config string
		rule, path   string
		want         bool
	}{
		{"key id's paths cover pairs", "[rules.allowlist.aws-access-key-id]\npaths = [\"deploy/**\"]\n", detectors.AWSKeyRule, "deploy/prod.env", true},
		{"key id's paths cover key ids", "[rules.allowlist.aws-access-key-id]\npaths = [\"deploy/**\"]\n", detectors.AWSKeyIDRule, "deploy/prod.env", true},
		{"key id's paths only there", "[rules.allowlist.aws-access-key-id]\npaths = [\"deploy/**\"]\n", detectors.AWSKeyRule, "src/prod.env", false},
		{"key id's commits cover pairs", "[rules.allowlist.aws-access-key-id]\ncommits = [\"" + strings.Repeat("ab", 20) + "\"]\n", detectors.AWSKeyRule, "a.env", true},
		{"pair's paths", "[rules.allowlist.aws-access-key]\npaths = [\"docs/\"]\n", detectors.AWSKeyRule, "docs/aws.md", true},
		{"pair's paths leave key ids", "[rules.allowlist.aws-access-key]\npaths = [\"docs/\"]\n", detectors.AWSKeyIDRule, "docs/aws.md", false},
		{"both", "[rules.allowlist.aws-access-key]\npaths = [\"docs/\"]\n[rules.allowlist.aws-access-key-id]\npaths = [\"test/\"]\n", detectors.AWSKeyRule, "test/a.env", true},
		{"other rules untouched", "[rules.allowlist.aws-access-key-id]\npaths = [\"deploy/**\"]\n", "github-token", "deploy/prod.env", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(".keysweep.toml", []byte(tt.config))
			if err != nil {
				t.Fatal(err)
			}
			commit := ""
			if strings.Contains(tt.name, "commits") {
				commit = strings.Repeat("ab", 20)
			}
			if got := c.Filter().Allows(tt.rule, tt.path, commit); got != tt.want {
				t.Errorf("Allows(%s, %s) = %v, want %v", tt.rule, tt.path, got, tt.want)
			}
		})
	}
}
