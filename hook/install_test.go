package hook

import "testing"

// TestEdgeHookCommand: how a hook calls keysweep.
func TestEdgeHookCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, exe, onPath string
		same              bool
		want              string
		warn              bool
	}{
		{"a binary under TMPDIR, not on PATH", "/tmp/ci/keysweep", "", false, "/tmp/ci/keysweep", false},
		{"another keysweep on PATH", "/opt/keysweep/bin/keysweep", "/usr/local/bin/keysweep", false, "/opt/keysweep/bin/keysweep", false},
		{"the same keysweep on PATH", "/opt/homebrew/Cellar/keysweep/0.1.0/bin/keysweep", "/opt/homebrew/bin/keysweep", true, "/opt/homebrew/bin/keysweep", false},
		{"a path to quote", "/home/a b/keysweep", "", false, "'/home/a b/keysweep'", false},
		{"go run, keysweep on PATH", "/tmp/go-build1234/b001/exe/keysweep", "/usr/local/bin/keysweep", false, "keysweep", false},
		{"go run, no keysweep on PATH", "/tmp/go-build1234/b001/exe/keysweep", "", false, "keysweep", true},
		{"a test binary", "/tmp/go-build1234/b001/keysweep.test", "", false, "keysweep", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, warning := hookCommand(tc.exe, tc.onPath, tc.same)
			if got != tc.want || (warning != "") != tc.warn {
				t.Errorf("hookCommand = %q, warning %q; want %q, a warning: %v", got, warning, tc.want, tc.warn)
			}
		})
	}
}
