package gitsrc

import (
	"strings"
	"testing"
)

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
