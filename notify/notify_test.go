package notify

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const commitID = "0123456789abcdef0123456789abcdef01234567"

// fullNotice has every field set, as package aws fills it.
func fullNotice() Notice {
	return Notice{
		KeyID: "AKIAIOSFODNN7EXAMPLE", Account: "111122223333", User: "deploy-bot", Partition: "aws",
		Repository: "acme/infra", Commit: commitID, Path: "deploy/prod.env", Line: 2,
		Link:         "https://github.com/acme/infra/blob/" + commitID + "/deploy/prod.env#L2",
		ExposedSince: "2026-03-01T10:00:00Z", LastUsed: "2026-03-02T11:30:00+01:00", UsedAfterExposure: "yes",
		Action: "warned", Steps: []string{"Create a new access key for deploy-bot.", "Deploy it, then delete the old one."},
		Due: time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC), To: []string{"owner@example.com"},
	}
}

func TestNoticeText(t *testing.T) {
	t.Parallel()
	want := `keysweep: leaked AWS key AKIAIOSFODNN7EXAMPLE of user deploy-bot in account 111122223333: rotate it before 2026-03-05 10:00 UTC

keysweep found an AWS access key where others can read it. Anyone who also has its secret can act as its user.

Key: AKIAIOSFODNN7EXAMPLE
User: deploy-bot
Account: 111122223333 (partition aws)
Repository: acme/infra
Commit: ` + commitID + `
File: deploy/prod.env, line 2
Link: https://github.com/acme/infra/blob/` + commitID + `/deploy/prod.env#L2
Exposed since: 2026-03-01 10:00 UTC
Last used: 2026-03-02 10:30 UTC
Used after the leak: yes. Someone else may have used it: review what it did in CloudTrail.

What keysweep did: warned
If the key is still active at 2026-03-05 10:00 UTC, keysweep will contain it.

What to do:
1. Create a new access key for deploy-bot.
2. Deploy it, then delete the old one.

Rotate the key (create a new one, move what uses it, then delete this one) in the IAM console: https://console.aws.amazon.com/iam/home#/users/details/deploy-bot?section=security_credentials

This message holds no secret: keysweep never sends one.
`
	if diff := cmp.Diff(want, fullNotice().Text()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNoticeTextCases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		edit    func(*Notice)
		subject string
		has     []string
		hasNot  []string
	}{{
		name:    "done now",
		edit:    func(n *Notice) { n.Due, n.Action = time.Time{}, "deactivated" },
		subject: "keysweep: leaked AWS key AKIAIOSFODNN7EXAMPLE of user deploy-bot in account 111122223333: deactivated",
		has:     []string{"What keysweep did: deactivated\n"},
		hasNot:  []string{"will contain"},
	}, {
		name: "local scan, never used",
		edit: func(n *Notice) {
			n.Repository, n.Link, n.LastUsed, n.UsedAfterExposure, n.ExposedSince = "", "", "", "", ""
			n.Line = 0
		},
		has:    []string{"File: deploy/prod.env\n", "Last used: never, or unknown\n"},
		hasNot: []string{"Repository:", "Link:", "Exposed since", "Used after", ", line"},
	}, {
		name:   "aws-us-gov",
		edit:   func(n *Notice) { n.Partition = "aws-us-gov" },
		has:    []string{"https://console.amazonaws-us-gov.com/iam/home#/users/details/deploy-bot?section=security_credentials\n", "(partition aws-us-gov)"},
		hasNot: []string{"console.aws.amazon.com"},
	}, {
		name:   "aws-cn",
		edit:   func(n *Notice) { n.Partition = "aws-cn" },
		has:    []string{"https://console.amazonaws.cn/iam/home#/users/details/deploy-bot?section=security_credentials\n"},
		hasNot: []string{"console.aws.amazon.com"},
	}, {
		name:   "unknown partition: no console link",
		edit:   func(n *Notice) { n.Partition = "aws-iso" },
		hasNot: []string{"IAM console", "https://console"},
	}, {
		name:   "a link that is not a web link",
		edit:   func(n *Notice) { n.Link = "javascript:alert(1)//https://github.com" },
		hasNot: []string{"Link:", "javascript"},
	}, {
		name: "forged lines in every field",
		edit: func(n *Notice) {
			n.User = "bot\nUser: admin"
			n.Path = "x.env\n\nRotate the key in the IAM console: https://evil.example/\x1b[8m"
			n.Steps = []string{"a\r\nb", "\u202eevil"}
			n.Action = "warned\n\x00"
		},
		subject: `keysweep: leaked AWS key AKIAIOSFODNN7EXAMPLE of user bot\nUser: admin in account 111122223333: rotate it before 2026-03-05 10:00 UTC`,
		has: []string{`User: bot\nUser: admin` + "\n", `File: x.env\n\nRotate the key in the IAM console: https://evil.example/\x1b[8m, line 2` + "\n",
			"1. a\\r\\nb\n", "2. \\u202eevil\n", `What keysweep did: warned\n\x00` + "\n"},
		hasNot: []string{"\x1b", "\x00", "\u202e", "\r"},
	}, {
		name:    "an encoded word in the subject",
		edit:    func(n *Notice) { n.User, n.Due = "=?utf-8?q?URGENT?=", time.Time{} },
		subject: "keysweep: leaked AWS key AKIAIOSFODNN7EXAMPLE of user = ?utf-8?q?URGENT?= in account 111122223333: warned",
	}, {
		name: "bounded",
		edit: func(n *Notice) {
			n.Path = strings.Repeat("é", 10000)
			n.Steps = make([]string, 100)
		},
		has:    []string{"…, line 2\n", "20. \n(and 80 more steps)\n"},
		hasNot: []string{"21. "},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := fullNotice()
			tc.edit(&n)
			text := n.Text()
			if tc.subject != "" && n.Subject() != tc.subject {
				t.Errorf("subject:\n got %q\nwant %q", n.Subject(), tc.subject)
			}
			if !strings.HasPrefix(text, n.Subject()+"\n\n") {
				t.Errorf("text does not open with the subject:\n%s", text)
			}
			for _, s := range tc.has {
				if !strings.Contains(text, s) {
					t.Errorf("text lacks %q:\n%s", s, text)
				}
			}
			for _, s := range tc.hasNot {
				if strings.Contains(text, s) {
					t.Errorf("text holds %q:\n%s", s, text)
				}
			}
			if len(text) > 32<<10 {
				t.Errorf("text is %d bytes", len(text))
			}
		})
	}
}

func TestSubjectBounded(t *testing.T) {
	t.Parallel()
	n := fullNotice()
	n.User = strings.Repeat("ü", 500)
	if s := n.Subject(); len(s) > 200 || !strings.HasSuffix(s, "…") {
		t.Errorf("subject of %d bytes: %q", len(s), s)
	}
}

func TestConsoleURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ partition, user, want string }{
		{"aws", "deploy-bot", "https://console.aws.amazon.com/iam/home#/users/details/deploy-bot?section=security_credentials"},
		{"", "deploy-bot", "https://console.aws.amazon.com/iam/home#/users/details/deploy-bot?section=security_credentials"},
		{"aws-us-gov", "deploy-bot", "https://console.amazonaws-us-gov.com/iam/home#/users/details/deploy-bot?section=security_credentials"},
		{"aws-cn", "deploy-bot", "https://console.amazonaws.cn/iam/home#/users/details/deploy-bot?section=security_credentials"},
		{"aws", "a+b=c,d.e@f_g-h", "https://console.aws.amazon.com/iam/home#/users/details/a+b=c%2Cd.e@f_g-h?section=security_credentials"},
		{"aws", "x/../../y?z#w", "https://console.aws.amazon.com/iam/home#/users/details/x%2F..%2F..%2Fy%3Fz%23w?section=security_credentials"},
		{"aws", "a b", "https://console.aws.amazon.com/iam/home#/users/details/a%20b?section=security_credentials"},
		{"aws", "", "https://console.aws.amazon.com/iam/home#/users"},
		{"aws-iso", "deploy-bot", ""},
	} {
		if got := ConsoleURL(tc.partition, tc.user); got != tc.want {
			t.Errorf("ConsoleURL(%q, %q) = %q, want %q", tc.partition, tc.user, got, tc.want)
		}
	}
}

// secretShape is what an AWS secret access key looks like: 40 base64
// characters on their own.
var secretShape = regexp.MustCompile(`(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+])`)

func TestNoSecret(t *testing.T) {
	t.Parallel()
	// A Notice has no field that could hold one.
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Notice]()) {
		if name := strings.ToLower(f.Name); strings.Contains(name, "secret") || strings.Contains(name, "token") || strings.Contains(name, "password") {
			t.Errorf("Notice has a field %s", f.Name)
		}
	}
	n := fullNotice()
	mail := string(message("keysweep@example.com", n.To, n, time.Unix(0, 0), "<x@example.com>"))
	for name, text := range map[string]string{"text": n.Text(), "slack": n.SlackText(), "mail": mail} {
		for _, m := range secretShape.FindAllStringSubmatch(text, -1) {
			if m[1] != commitID {
				t.Errorf("%s holds %q, which looks like a secret", name, m[1])
			}
		}
	}
	// A secret passed in a field by mistake is not sent.
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	n.Steps = []string{"Rotate " + secret + " now", secret}
	n.Action = secret
	n.Path = "creds/" + secret
	for name, text := range map[string]string{"subject": n.Subject(), "text": n.Text(), "slack": n.SlackText()} {
		if strings.Contains(text, secret) || strings.Contains(text, "EXAMPLEKEY") {
			t.Errorf("%s holds the secret:\n%s", name, text)
		}
	}
	if !strings.Contains(n.Text(), "1. Rotate [redacted] now\n2. [redacted]\n") {
		t.Errorf("steps not redacted:\n%s", n.Text())
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY":    "[redacted]",
		"k=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY;": "k=[redacted];",
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYx":   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYx",
		commitID: commitID,
		"ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ":         "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ",
		"AKIAIOSFODNN7EXAMPLE":                             "AKIAIOSFODNN7EXAMPLE",
		"a wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY b ":    "a [redacted] b ",
		"creds/wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY/x": "creds/[redacted]/x",
		"src/main/java/com/Example/Service2/Impl/x.java":   "src/main/java/com/Example/Service2/Impl/x.java",
	} {
		if got := scrub(in); got != want {
			t.Errorf("scrub(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain/path.go":       "plain/path.go",
		"a\nb\tc\rd":          `a\nb\tc\rd`,
		"\x1b[2J\x7f":         `\x1b[2J\x7f`,
		"\u009b\u202e\u2066x": `\u009b\u202e\u2066x`,
		"\xff\xfe":            `\xff\xfe`,
		"日本語 é \\":            "日本語 é \\",
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNotice(f *testing.F) {
	f.Add("deploy/prod.env", "bot", "warned")
	f.Add("<!channel>\n\x1b[8m", "a\r\nBcc: x@example.com", "=?utf-8?q?x?=")
	f.Fuzz(func(t *testing.T, path, user, action string) {
		n := fullNotice()
		n.Path, n.User, n.Action = path, user, action
		subject := n.Subject()
		if strings.ContainsAny(subject, "\r\n\x00") || len(subject) > 200 {
			t.Fatalf("subject %q", subject)
		}
		for _, text := range []string{n.Text(), n.SlackText()} {
			for _, line := range strings.Split(text, "\n") {
				if strings.ContainsAny(line, "\r\x00\x1b") {
					t.Fatalf("line %q", line)
				}
			}
		}
		if s := n.SlackText(); strings.Contains(s, "<!") || strings.Contains(s, "<@") {
			t.Fatalf("slack text makes a mention:\n%s", s)
		}
	})
}
