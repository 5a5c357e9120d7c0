package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/verify"
)

func newRulesCmd(s *streams) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use: "rules",
		Example: `  keysweep rules
  keysweep rules --format json | jq '.[] | select(.verifier.provider) | .verifier.calls'`,
		Short: "List the built-in rules: the ids findings carry and .keysweep.toml takes, and how each is verified",
		Long: `List the built-in rules: the ids findings carry and .keysweep.toml takes,
the keywords that make the scanner look, and the provider that verifies
their secrets with --verify. With --format json, each verifier's exact
requests (so that a locked-down network can allow them), and for the rules
with none, why.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			switch format {
			case "text":
				return report.WriteRules(s.out, detectors.Catalog(), ruleVerifiers())
			case "json":
				return report.WriteRulesJSON(s.out, detectors.Catalog(), ruleVerifiers())
			}
			return fmt.Errorf("invalid --format %q (want text or json)", format)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "text or json")
	return cmd
}

// ruleVerifiers maps each rule that has a provider to how it is verified:
// AWS's own, then the providers of package verify.
func ruleVerifiers() map[string]report.RuleVerifier {
	aws := report.RuleVerifier{Provider: "aws", Calls: []string{"POST https://sts.amazonaws.com/ (sts:GetCallerIdentity, signed with the key; " +
		"then in aws-cn and aws-us-gov if unknown)"}}
	out := map[string]report.RuleVerifier{detectors.AWSKeyRule: aws}
	out[detectors.AWSKeyIDRule] = report.RuleVerifier{Why: "a key id alone proves nothing: verified through its pair when one is found"}
	for _, p := range verify.Catalog() {
		for _, v := range p.Verifiers {
			for _, r := range v.Rules {
				out[r] = report.RuleVerifier{Provider: p.Name, Calls: v.Calls}
			}
		}
		for r, why := range p.Unverified {
			if _, ok := out[r]; !ok {
				out[r] = report.RuleVerifier{Why: why}
			}
		}
	}
	return out
}
