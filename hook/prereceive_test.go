package hook

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzPushOptions: no push option a pusher sends lets anything through
// without a reason, or makes the hook panic.
func FuzzPushOptions(f *testing.F) {
	f.Add(2, "keysweep.allow=github-token:0123456789abcdef", "keysweep.reason=fixture", "")
	f.Add(1, "keysweep.skip=", "keysweep.reason=  ", "x")
	f.Add(3, "keysweep.skip", "keysweep.allow=,, ,", "keysweep.reason=\x1b[2J")
	f.Add(-1, "", "", "")
	f.Fuzz(func(t *testing.T, n int, o0, o1, o2 string) {
		env := map[string]string{"GIT_PUSH_OPTION_COUNT": strconv.Itoa(n), "GIT_PUSH_OPTION_0": o0, "GIT_PUSH_OPTION_1": o1, "GIT_PUSH_OPTION_2": o2}
		p, err := readPushOptions(func(k string) string { return env[k] })
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if (p.skip || len(p.allow) > 0) && strings.TrimSpace(p.reason) == "" {
			t.Fatalf("a bypass without a reason: %+v", p)
		}
		for fp := range p.allow {
			if fp == "" || strings.ContainsAny(fp, ", ") {
				t.Fatalf("allow holds %q", fp)
			}
		}
	})
}
