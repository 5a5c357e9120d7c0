package main

import (
	"runtime/debug"
	"testing"
)

// TestBuildVersion: a release says what it was linked with; a go install
// of a tag says the module's version; a build from a checkout its VCS
// revision and time, marked when the tree had changes.
func TestBuildVersion(t *testing.T) {
	info := func(v string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/keysweep/keysweep", Version: v}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	tests := []struct {
		name    string
		bi      *debug.BuildInfo
		ok      bool
		v, c, d string
	}{
		{"no build info", nil, false, "dev", "none", "unknown"},
		{"go install @v1.4.0", info("v1.4.0"), true, "v1.4.0", "none", "unknown"},
		{"a checkout", info("(devel)", "vcs.revision", "0123abcd", "vcs.time", "2026-11-30T10:00:00Z", "vcs.modified", "false"), true,
			"dev", "0123abcd", "2026-11-30T10:00:00Z"},
		{"a changed checkout", info("(devel)", "vcs.revision", "0123abcd", "vcs.modified", "true"), true, "dev", "0123abcd+dirty", "unknown"},
	}
	for _, tt := range tests {
		v, c, d := buildVersion(tt.bi, tt.ok)
		if v != tt.v || c != tt.c || d != tt.d {
			t.Errorf("%s: %s %s %s, want %s %s %s", tt.name, v, c, d, tt.v, tt.c, tt.d)
		}
	}
	// Linked at release: those values win.
	old := version
	version = "v2.0.0"
	defer func() { version = old }()
	if v, _, _ := buildVersion(info("v1.4.0"), true); v != "v2.0.0" {
		t.Errorf("a release's version %s", v)
	}
}
