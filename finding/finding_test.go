package finding

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"short", "*****"},
		{"twelve-chars", "tw*****"},
		{"ghp_R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE", "ghp_*****"},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----*****"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	raw := "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE"
	tests := []struct {
		name, secret, want string
	}{
		{"raw", raw, "ghp_*****"},
		{"read back redacted", "ghp_*****", "ghp_*****"},
		{"read back short", "*****", "*****"},
		{"private key read back", "-----BEGIN RSA PRIVATE KEY-----*****", "-----BEGIN RSA PRIVATE KEY-----*****"},
		// Shaped like a redacted value but holding more than one keeps.
		{"long prefix", "ghp_R8k*****", "gh*****"},
		{"stars inside", "ab*c*****", "*****"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := []Finding{{Secret: tt.secret, SessionToken: tt.secret}}
			got := Redacted(fs, false)
			if got[0].Secret != tt.want || got[0].SessionToken != tt.want {
				t.Errorf("Redacted: secret %q, token %q; want %q", got[0].Secret, got[0].SessionToken, tt.want)
			}
			if fs[0].Secret != tt.secret {
				t.Errorf("Redacted changed its input: %q", fs[0].Secret)
			}
			if kept := Redacted(fs, true); kept[0].Secret != tt.secret {
				t.Errorf("Redacted with noRedact: %q", kept[0].Secret)
			}
		})
	}
}

func TestVerificationRank(t *testing.T) {
	t.Parallel()
	order := []*Verification{nil, {Status: StatusUnknown}, {Status: StatusCanary}, {Status: StatusInvalid}, {Status: StatusVerified}}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() >= order[i].Rank() {
			t.Errorf("rank of %v is not below rank of %v", order[i-1], order[i])
		}
	}
}

func TestKeyAndLocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f        Finding
		location string
	}{
		{Finding{Path: "a/b.env"}, "a/b.env"},
		{Finding{Source: SourceCommitMessage}, "commit message"},
		{Finding{Source: SourceTagMessage}, "tag message"},
	}
	for _, tt := range tests {
		if got := tt.f.Location(); got != tt.location {
			t.Errorf("Location(%+v) = %q, want %q", tt.f, got, tt.location)
		}
	}
	a := Finding{Repository: "o/r", Fingerprint: "r:1", Path: "p", Commit: "c", Line: 1}
	b := a
	b.Line = 9
	if a.Key() != b.Key() {
		t.Error("the same secret at another line of the same path and commit is another finding")
	}
	for _, change := range []func(*Finding){
		func(f *Finding) { f.Repository = "o/s" },
		func(f *Finding) { f.Fingerprint = "r:2" },
		func(f *Finding) { f.Path = "q" },
		func(f *Finding) { f.Commit = "d" },
	} {
		c := a
		change(&c)
		if c.Key() == a.Key() {
			t.Errorf("%+v and %+v have one key", a, c)
		}
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE")
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----")
	f.Add("-----BEGIN")
	f.Add("short")
	f.Fuzz(func(t *testing.T, s string) {
		r := Redact(s)
		if s == "" {
			if r != "" {
				t.Fatalf("Redact(\"\") = %q", r)
			}
			return
		}
		if !strings.HasSuffix(r, "*****") {
			t.Fatalf("Redact(%q) = %q: not marked as redacted", s, r)
		}
		// Read back from a report and written again, it shows no more.
		if again := Redacted([]Finding{{Secret: r}}, false)[0].Secret; len(strings.TrimSuffix(again, "*****")) > len(strings.TrimSuffix(r, "*****")) {
			t.Fatalf("redacting %q again shows more: %q", r, again)
		}
		// At most a few leading characters survive (a PEM header is not
		// secret): never the body of a long secret.
		kept := strings.TrimSuffix(r, "*****")
		if !strings.HasPrefix(s, kept) {
			t.Fatalf("Redact(%q) = %q keeps what is not the secret's start", s, r)
		}
		if !strings.HasPrefix(s, "-----BEGIN") && len(kept) > 4 {
			t.Fatalf("Redact(%q) keeps %d characters", s, len(kept))
		}
		if len(s) >= 8 && len(kept) >= len(s)/2 && !strings.HasPrefix(s, "-----BEGIN") {
			t.Fatalf("Redact(%q) = %q keeps half the secret", s, r)
		}
	})
}

// TestMaybeJSON checks that used_after_exposure is written as true, false
// or null, not at all when not asked, and read back the same.
func TestMaybeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    Maybe
		want string // the field in the JSON, "" for none
	}{
		{"not asked", Maybe{}, ""},
		{"yes", Yes(), `"used_after_exposure":true`},
		{"no", No(), `"used_after_exposure":false`},
		{"cannot tell", Unknown(), `"used_after_exposure":null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := json.Marshal(Finding{RuleID: "aws-access-key", UsedAfterExposure: tt.m})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(raw), "used_after_exposure"); got != (tt.want != "") || tt.want != "" && !strings.Contains(string(raw), tt.want) {
				t.Errorf("JSON %s, want %q", raw, tt.want)
			}
			var back Finding
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			if back.UsedAfterExposure.Asked != tt.m.Asked || back.UsedAfterExposure.True() != tt.m.True() || (back.UsedAfterExposure.Value == nil) != (tt.m.Value == nil) {
				t.Errorf("read back %+v, want %+v", back.UsedAfterExposure, tt.m)
			}
		})
	}
	var m Maybe
	if err := json.Unmarshal([]byte(`"yes"`), &m); err == nil {
		t.Error(`"yes" read as an answer`)
	}
}

func TestResults(t *testing.T) {
	t.Parallel()
	fs := []Finding{
		{RuleID: "a"},
		{RuleID: "b", Verification: &Verification{Status: StatusVerified}},
		{RuleID: "c", Verification: &Verification{Status: StatusInvalid}},
		{RuleID: "d", Verification: &Verification{Status: StatusUnknown}},
		{RuleID: "e", Verification: &Verification{Status: StatusCanary}},
	}
	tests := []struct {
		list string
		want string
	}{
		{"", "abcde"},
		{"verified", "b"},
		{"verified,unknown", "bd"},
		{" invalid , unverified ", "ace"},
	}
	for _, tt := range tests {
		keep, err := ParseResults(tt.list)
		if err != nil {
			t.Fatalf("%q: %v", tt.list, err)
		}
		got := ""
		for _, f := range KeepResults(fs, keep) {
			got += f.RuleID
		}
		if got != tt.want {
			t.Errorf("%q: kept %q, want %q", tt.list, got, tt.want)
		}
	}
	if _, err := ParseResults("live"); err == nil || !strings.Contains(err.Error(), `unknown result "live"`) {
		t.Errorf("live: %v", err)
	}
}

// TestRedactedSnippet: a snippet shows no secret once redacted: not the
// match, nor a copy of the secret (or its session token, or most of it)
// beside it; a key id stays visible.
func TestRedactedSnippet(t *testing.T) {
	t.Parallel()
	secret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
	tests := []struct {
		name string
		f    Finding
		want Snippet
	}{
		{"a token", Finding{Secret: "ghp_R8fK2mQx7Lw3Nz9Pv5Tb1Yc6Hd4Js0Ga2Ue8",
			Snippet: &Snippet{Before: "GITHUB_TOKEN=", Match: "ghp_R8fK2mQx7Lw3Nz9Pv5Tb1Yc6Hd4Js0Ga2Ue8", After: " # ci"}},
			Snippet{Before: "GITHUB_TOKEN=", Match: "ghp_*****", After: " # ci"}},
		{"an AWS pair on one line", Finding{KeyID: "AKIAQYLPMN5HHHFPZAM2", Secret: secret,
			Snippet: &Snippet{Before: "creds(", Match: "AKIAQYLPMN5HHHFPZAM2", After: `, "` + secret[:30]}},
			Snippet{Before: "creds(", Match: "AKIAQYLPMN5HHHFPZAM2", After: `, "` + "wJal*****"}},
		{"a copy cut at the start of the line", Finding{Secret: secret,
			Snippet: &Snippet{Before: secret[25:] + `" key=`, Match: "AKIAQYLPMN5HHHFPZAM2", After: ""}, KeyID: "AKIAQYLPMN5HHHFPZAM2"},
			Snippet{Before: `*****" key=`, Match: "AKIAQYLPMN5HHHFPZAM2", After: ""}},
		{"a decoded secret: its encoded form is hidden", Finding{Secret: "hunter2hunter2", Decoded: "base64",
			Snippet: &Snippet{Before: "pw: ", Match: "aHVudGVyMmh1bnRlcjI=", After: ""}},
			Snippet{Before: "pw: ", Match: "aHVu*****", After: ""}},
	}
	for _, tt := range tests {
		got := Redacted([]Finding{tt.f}, false)[0].Snippet
		if *got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, *got, tt.want)
		}
		if strings.Contains(got.Before+got.Match+got.After, tt.f.Secret) {
			t.Errorf("%s: the secret is in the snippet", tt.name)
		}
		if clear := Redacted([]Finding{tt.f}, true)[0].Snippet; *clear != *tt.f.Snippet {
			t.Errorf("%s: --no-redact changed the snippet: %+v", tt.name, *clear)
		}
	}
}

// TestRedactedSnippetNeighbours: a line with two secrets shows neither in
// either finding's snippet.
func TestRedactedSnippetNeighbours(t *testing.T) {
	t.Parallel()
	gh, slack := "ghp_R8fK2mQx7Lw3Nz9Pv5Tb1Yc6Hd4Js0Ga2Ue8", "xoxb-2094857361-5928374651-Qm7Rt2Wx9Kp4Lz8Nv3Bc6Hd"
	line := func(before, match, after string) *Snippet {
		return &Snippet{Before: before, Match: match, After: after}
	}
	fs := []Finding{
		{RuleID: "github-token", Secret: gh, Path: "ci.env", Line: 3, Snippet: line("GH=", gh, " SLACK="+slack)},
		{RuleID: "slack-token", Secret: slack, Path: "ci.env", Line: 3, Snippet: line("GH="+gh+" SLACK=", slack, "")},
	}
	for _, f := range Redacted(fs, false) {
		text := f.Snippet.Before + f.Snippet.Match + f.Snippet.After
		if strings.Contains(text, gh[8:]) || strings.Contains(text, slack[8:]) {
			t.Errorf("%s: the snippet shows a secret: %q", f.RuleID, text)
		}
	}
}
