package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasExamples: each command's --help shows how it is
// used, and lists only flags that apply to it.
func TestEveryCommandHasExamples(t *testing.T) {
	var out, errOut bytes.Buffer
	root := newRootCmd(testStreams(strings.NewReader(""), &out, &errOut))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if sub.Runnable() && strings.TrimSpace(sub.Example) == "" {
				t.Errorf("%s has no example", sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(root)

	for _, tt := range []struct {
		args    []string
		without []string
	}{
		{[]string{"staged", "--help"}, []string{"--own-accounts", "--deactivate", "--contain", "--grace", "--repo "}},
		{[]string{"remediate", "--help"}, []string{"--dry-run", "--timeout "}},
	} {
		code, stdout, _ := runCLI(t, tt.args...)
		if code != exitClean || !strings.Contains(stdout, "Examples:") {
			t.Errorf("%v: exit %d\n%s", tt.args, code, stdout)
		}
		for _, flag := range tt.without {
			if strings.Contains(stdout, flag) {
				t.Errorf("%v lists %s", tt.args, flag)
			}
		}
	}
}

// TestFlagValueCompletion: the shell completion offers the values of --format,
// --results (as a list) and --group-by.
func TestFlagValueCompletion(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "git", "--format", ""}, []string{"json", "sarif", "text"}},
		{[]string{"__complete", "git", "--results", "verified,"}, []string{"verified,unknown", "verified,invalid", "verified,unverified"}},
		{[]string{"__complete", "merge", "--results", ""}, []string{"verified", "unverified"}},
		{[]string{"__complete", "git", "--group-by", ""}, []string{"file", "rule", "commit"}},
	}
	for _, tt := range tests {
		_, out, _ := runCLI(t, tt.args...)
		for _, w := range tt.want {
			if !strings.Contains(out, w+"\n") {
				t.Errorf("%v: no %q in\n%s", tt.args, w, out)
			}
		}
		if strings.Contains(out, "verified,verified") {
			t.Errorf("%v offers a value twice:\n%s", tt.args, out)
		}
	}
}
