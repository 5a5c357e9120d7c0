package gitsrc

import (
	"strings"
	"testing"
)

func TestParseRevRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec string
		want Range
		err  string
	}{
		{"main..topic", Range{Base: "main", Head: "topic"}, ""},
		{"main", Range{Base: "main", Head: "HEAD"}, ""},
		{"..topic", Range{Base: "HEAD", Head: "topic"}, ""},
		{"main..", Range{Base: "main", Head: "HEAD"}, ""},
		{"v1.0..v2.0", Range{Base: "v1.0", Head: "v2.0"}, ""},
		{"main...topic", Range{Base: "main", Head: "topic", Symmetric: true}, ""},
		{"main...", Range{Base: "main", Head: "HEAD", Symmetric: true}, ""},
		{"...topic", Range{Base: "HEAD", Head: "topic", Symmetric: true}, ""},
		{"v1.0...v2.0", Range{Base: "v1.0", Head: "v2.0", Symmetric: true}, ""},
		// A side that looks like an option stays a side: Repo.Commit
		// never reads it as one.
		{"--all..HEAD", Range{Base: "--all", Head: "HEAD"}, ""},
		{"", Range{}, "want BASE..HEAD"},
		{"  ", Range{}, "want BASE..HEAD"},
		{"..", Range{}, "want BASE..HEAD"},
		{"...", Range{}, "want BASE..HEAD"},
		{"a..b..c", Range{}, "want one range"},
		{"a...b..c", Range{}, "want one range"},
		{"a..b...c", Range{}, "want one range"},
		{"a...b...c", Range{}, "want one range"},
		{"main\n..topic", Range{}, "control character"},
		{"main..top\x1bic", Range{}, "control character"},
	}
	for _, tt := range tests {
		got, err := ParseRevRange(tt.spec)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseRevRange(%q) = %+v, %v; want an error with %q", tt.spec, got, err, tt.err)
			}
		case err != nil || got != tt.want:
			t.Errorf("ParseRevRange(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
		}
	}
}

func TestParseRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec, base, head, err string
	}{
		{"main..topic", "main", "topic", ""},
		{"main", "main", "HEAD", ""},
		{"..topic", "HEAD", "topic", ""},
		{"main..", "main", "HEAD", ""},
		{"v1.0..v2.0", "v1.0", "v2.0", ""},
		{"main...topic", "", "", "three dots are not supported"},
		{"", "", "", "want BASE..HEAD"},
		{"  ", "", "", "want BASE..HEAD"},
		{"..", "", "", "want BASE..HEAD"},
		{"a..b..c", "", "", "want one range"},
	}
	for _, tt := range tests {
		base, head, err := ParseRange(tt.spec)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseRange(%q) = %q, %q, %v; want an error with %q", tt.spec, base, head, err, tt.err)
			}
		case err != nil || base != tt.base || head != tt.head:
			t.Errorf("ParseRange(%q) = %q, %q, %v; want %q, %q", tt.spec, base, head, err, tt.base, tt.head)
		}
	}
}

func FuzzParseRevRange(f *testing.F) {
	for _, s := range []string{"main..topic", "a...b", "..", "...", "a....b", "-x..y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		r, err := ParseRevRange(spec)
		if err != nil {
			return
		}
		if r.Base == "" || r.Head == "" || strings.Contains(r.Base, "..") || strings.Contains(r.Head, "..") {
			t.Errorf("ParseRevRange(%q) = %+v", spec, r)
		}
	})
}
