package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/internal/smtptest"
)

const testPassword = "hunter2-smtp-pw"

var testNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// mailTo returns a Mail for s, as ParseSMTPURL makes it from a URL, with
// the stand-in's certificate trusted.
func mailTo(t *testing.T, s *smtptest.Server, scheme string) *Mail {
	t.Helper()
	m, err := parseSMTPURL(scheme+"://bot:"+testPassword+"@"+s.Addr+"?from=keysweep@example.com", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	m.RootCAs, m.Now = s.CertPool, func() time.Time { return testNow }
	return m
}

func noEnv(string) string { return "" }

// parse reads a message back, checking that its headers are well-formed.
func parse(t *testing.T, data []byte) (*mail.Message, string) {
	t.Helper()
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(line) > 0 && !bytes.HasSuffix(line, []byte("\r\n")) {
			t.Errorf("line without CRLF: %q", line)
		}
		if len(line) > 1000 {
			t.Errorf("line of %d bytes", len(line))
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("headers %v", msg.Header)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return msg, strings.ReplaceAll(string(body), "\r\n", "\n")
}

func TestMailDelivered(t *testing.T) {
	t.Parallel()
	for _, scheme := range []string{"smtp", "smtps"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			s := smtptest.New(t, smtptest.Options{User: "bot", Password: testPassword, ImplicitTLS: scheme == "smtps"})
			m := mailTo(t, s, scheme)
			n := fullNotice()
			n.User = "josé" // non-ASCII, to be encoded in the subject
			n.Path = "données/.env\n.\n"
			n.To = []string{"owner@example.com", "security@example.org", "Owner@Example.com"}
			if err := m.Notify(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			got := s.Messages()
			if len(got) != 1 {
				t.Fatalf("%d messages", len(got))
			}
			if g := got[0]; !g.TLS || g.User != "bot" || g.From != "keysweep@example.com" ||
				!cmp.Equal(g.To, []string{"owner@example.com", "security@example.org"}) {
				t.Errorf("envelope: from %q to %q, TLS %v, user %q", g.From, g.To, g.TLS, g.User)
			}
			msg, body := parse(t, got[0].Data)
			h := msg.Header
			var dec mime.WordDecoder
			subject, err := dec.DecodeHeader(h.Get("Subject"))
			if err != nil || subject != n.Subject() || !strings.Contains(subject, "josé") {
				t.Errorf("subject %q (%v), want %q", subject, err, n.Subject())
			}
			to, err := h.AddressList("To")
			if err != nil || len(to) != 2 || to[0].Address != "owner@example.com" || to[1].Address != "security@example.org" {
				t.Errorf("To %v %v", to, err)
			}
			if from, err := mail.ParseAddress(h.Get("From")); err != nil || from.Address != "keysweep@example.com" {
				t.Errorf("From %v %v", from, err)
			}
			if date, err := h.Date(); err != nil || !date.Equal(testNow) {
				t.Errorf("Date %v %v", date, err)
			}
			if id := h.Get("Message-ID"); !regexp.MustCompile(`^<[0-9a-f]{32}@example\.com>$`).MatchString(id) {
				t.Errorf("Message-ID %q", id)
			}
			for k, want := range map[string]string{"MIME-Version": "1.0", "Content-Type": "text/plain; charset=utf-8", "Auto-Submitted": "auto-generated"} {
				if got := h.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if want := strings.TrimPrefix(n.Text(), n.Subject()+"\n\n"); body != want {
				t.Errorf("body (-want +got):\n%s", cmp.Diff(want, body))
			}
			if strings.Contains(string(got[0].Data), testPassword) {
				t.Error("the message holds the password")
			}
		})
	}
}

func TestMailRefusesClearText(t *testing.T) {
	t.Parallel()
	s := smtptest.New(t, smtptest.Options{User: "bot", Password: testPassword, NoStartTLS: true})
	err := mailTo(t, s, "smtp").Notify(context.Background(), fullNotice())
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS: refusing to send in clear") {
		t.Fatalf("err %v", err)
	}
	for _, c := range s.Commands() {
		if c == "AUTH" || c == "MAIL" || c == "DATA" {
			t.Errorf("sent %s in clear: %v", c, s.Commands())
		}
	}
	if len(s.Messages()) != 0 {
		t.Error("a message was sent")
	}
}

func TestMailUntrustedCertificate(t *testing.T) {
	t.Parallel()
	s := smtptest.New(t, smtptest.Options{User: "bot", Password: testPassword})
	m := mailTo(t, s, "smtp")
	m.RootCAs = nil // the system's roots do not know the stand-in
	err := m.Notify(context.Background(), fullNotice())
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(strings.Join(s.Commands(), " "), "AUTH") {
		t.Error("authenticated over an unverified connection")
	}
}

func TestMailErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts smtptest.Options
		edit func(*Mail, *Notice)
		err  string
		sent int
	}{{
		name: "wrong password",
		opts: smtptest.Options{User: "bot", Password: "other"},
		err:  "notify: smtp authenticate as bot: 535 \"5.7.8 authentication credentials invalid\"",
	}, {
		name: "AUTH refused",
		opts: smtptest.Options{User: "bot", Password: testPassword, RefuseAuth: true},
		err:  "notify: smtp authenticate as bot: 535 \"5.7.8 authentication credentials invalid\"",
	}, {
		name: "no recipient",
		opts: smtptest.Options{User: "bot", Password: testPassword},
		edit: func(_ *Mail, n *Notice) { n.To = nil },
		err:  "notify: no email recipient for key AKIAIOSFODNN7EXAMPLE",
	}, {
		name: "one recipient refused",
		opts: smtptest.Options{User: "bot", Password: testPassword, Reject: []string{"gone@example.com"}},
		edit: func(_ *Mail, n *Notice) { n.To = []string{"gone@example.com", "owner@example.com"} },
		err:  "notify: sent, but the smtp server refused gone@example.com (550 \"5.1.1 <gone@example.com>: no such user\")",
		sent: 1,
	}, {
		name: "every recipient refused",
		opts: smtptest.Options{User: "bot", Password: testPassword, Reject: []string{"gone@example.com"}},
		edit: func(_ *Mail, n *Notice) { n.To = []string{"gone@example.com"} },
		err:  "notify: smtp server refused every recipient: gone@example.com (550 \"5.1.1 <gone@example.com>: no such user\")",
	}, {
		name: "header injection in a recipient",
		opts: smtptest.Options{User: "bot", Password: testPassword},
		edit: func(_ *Mail, n *Notice) { n.To = []string{"owner@example.com\r\nBcc: evil@example.net"} },
		err:  `notify: recipient: "owner@example.com\r\nBcc: evil@example.net" is not a bare email address like name@example.com`,
	}, {
		name: "a bad sender",
		opts: smtptest.Options{User: "bot", Password: testPassword},
		edit: func(m *Mail, _ *Notice) { m.From = "Keysweep <k@example.com>" },
		err:  `notify: sender: "Keysweep <k@example.com>" is not a bare email address like name@example.com`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := smtptest.New(t, tc.opts)
			m := mailTo(t, s, "smtp")
			n := fullNotice()
			if tc.edit != nil {
				tc.edit(m, &n)
			}
			err := m.Notify(context.Background(), n)
			if got := errString(err); got != tc.err {
				t.Errorf("error\n got %q\nwant %q", got, tc.err)
			}
			if got := len(s.Messages()); got != tc.sent {
				t.Errorf("%d messages sent, want %d", got, tc.sent)
			}
		})
	}
}

// TestMailHeaderInjection: values a leak's author controls become text of
// the subject and body, never headers.
func TestMailHeaderInjection(t *testing.T) {
	t.Parallel()
	s := smtptest.New(t, smtptest.Options{User: "bot", Password: testPassword})
	n := fullNotice()
	n.User = "bot\r\nBcc: evil@example.net"
	n.Action = "warned\n\nforged body\r\n.\r\nMAIL FROM:<x@example.net>"
	n.Path = "\r\n.\r\nQUIT\r\n"
	if err := mailTo(t, s, "smtp").Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	got := s.Messages()
	if len(got) != 1 || !cmp.Equal(got[0].To, []string{"owner@example.com"}) {
		t.Fatalf("messages %+v", got)
	}
	msg, body := parse(t, got[0].Data)
	var keys []string
	for k := range msg.Header {
		keys = append(keys, k)
	}
	if len(keys) != 9 || msg.Header.Get("Bcc") != "" {
		t.Errorf("headers %v", keys)
	}
	var dec mime.WordDecoder
	subject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	if want := `keysweep: leaked AWS key AKIAIOSFODNN7EXAMPLE of user bot\r\nBcc: evil@example.net in account 111122223333: rotate it before 2026-03-05 10:00 UTC`; subject != want {
		t.Errorf("subject\n got %q\nwant %q", subject, want)
	}
	for _, want := range []string{`What keysweep did: warned\n\nforged body\r\n.\r\nMAIL FROM:<x@example.net>` + "\n", `File: \r\n.\r\nQUIT\r\n, line 2` + "\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestRecipients(t *testing.T) {
	t.Parallel()
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("u%d@example.com", i)
	}
	for _, tc := range []struct {
		name string
		in   []string
		want []string
		ok   bool
	}{
		{"bare", []string{"owner@example.com", "a.b+tag@sub.example.org"}, []string{"owner@example.com", "a.b+tag@sub.example.org"}, true},
		{"duplicates", []string{"a@example.com", "A@EXAMPLE.COM"}, []string{"a@example.com"}, true},
		{"display name", []string{"Owner <owner@example.com>"}, nil, false},
		{"angle brackets", []string{"<owner@example.com>"}, nil, false},
		{"display name trick", []string{`"admin@example.com" <evil@example.net>`}, nil, false},
		{"quoted local part", []string{`"a@b"@example.com`}, nil, false},
		{"comment", []string{"owner@example.com (CEO)"}, nil, false},
		{"two in one", []string{"a@example.com, evil@example.net"}, nil, false},
		{"CRLF", []string{"a@example.com\r\nBcc: evil@example.net"}, nil, false},
		{"LF", []string{"a@example.com\n"}, nil, false},
		{"space", []string{" a@example.com"}, nil, false},
		{"NUL", []string{"a@example.com\x00"}, nil, false},
		{"non-ASCII", []string{"jos\u00e9@example.com"}, nil, false},
		{"no domain", []string{"owner"}, nil, false},
		{"empty", []string{""}, nil, false},
		{"too long", []string{strings.Repeat("a", 250) + "@example.com"}, nil, false},
		{"too many", many, nil, false},
		{"one bad of two", []string{"a@example.com", "b@example.com\r\n"}, nil, false},
	} {
		got, err := recipients(tc.in)
		if (err == nil) != tc.ok || !cmp.Equal(got, tc.want) {
			t.Errorf("%s: recipients(%q) = %q, %v", tc.name, tc.in, got, err)
		}
	}
}

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	env := func(pw string) func(string) string {
		return func(k string) string {
			if k == PasswordEnv {
				return pw
			}
			return ""
		}
	}
	for _, tc := range []struct {
		raw      string
		env      string
		want     Mail
		password string
		str      string
	}{{
		raw:  "smtp://mail.example.com?from=k@example.com",
		want: Mail{Host: "mail.example.com", From: "k@example.com"},
		str:  "smtp://mail.example.com:587?from=k%40example.com",
	}, {
		raw:  "smtp://bot:" + testPassword + "@mail.example.com:2525/?from=k@example.com",
		env:  "from-env",
		want: Mail{Host: "mail.example.com", Port: "2525", From: "k@example.com", Username: "bot"}, password: testPassword,
		str: "smtp://bot@mail.example.com:2525?from=k%40example.com",
	}, {
		raw:  "smtps://bot@mail.example.com?from=k@example.com",
		env:  "from-env",
		want: Mail{Host: "mail.example.com", ImplicitTLS: true, From: "k@example.com", Username: "bot"}, password: "from-env",
		str: "smtps://bot@mail.example.com:465?from=k%40example.com",
	}, {
		raw:  "smtp://[::1]:25?from=k@example.com",
		env:  "ignored without a user",
		want: Mail{Host: "::1", Port: "25", From: "k@example.com"},
		str:  "smtp://[::1]:25?from=k%40example.com",
	}, {
		raw:  "smtp://bot%40corp:p%40ss%3Aword@mail.example.com?from=k@example.com",
		want: Mail{Host: "mail.example.com", From: "k@example.com", Username: "bot@corp"}, password: "p@ss:word",
		str: "smtp://bot%40corp@mail.example.com:587?from=k%40example.com",
	}} {
		m, err := parseSMTPURL(tc.raw, env(tc.env))
		if err != nil {
			t.Errorf("%s: %v", tc.raw, err)
			continue
		}
		if m.password != tc.password {
			t.Errorf("%s: password %q, want %q", tc.raw, m.password, tc.password)
		}
		m.password = ""
		if diff := cmp.Diff(tc.want, *m, cmp.AllowUnexported(Mail{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.raw, diff)
		}
		if m.String() != tc.str {
			t.Errorf("%s: String() = %q, want %q", tc.raw, m.String(), tc.str)
		}
	}
}

func TestParseSMTPURLErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ raw, want string }{
		{"", "smtp url: the scheme is not smtp or smtps; " + smtpURLForm},
		{"mail.example.com:587", "smtp url: not a valid URL; " + smtpURLForm},
		{"https://mail.example.com?from=k@example.com", "smtp url: the scheme is not smtp or smtps; " + smtpURLForm},
		{"smtp://bot:" + testPassword, "smtp url: not a valid URL; " + smtpURLForm},
		{"smtp://bot:" + testPassword + "@mail.example.com:99999?from=k@example.com", `smtp url: port "99999" is not a port number`},
		{"smtp://bot:" + testPassword + "@?from=k@example.com", "smtp url: no host; " + smtpURLForm},
		{"smtp://mail.example.com/path?from=k@example.com", "smtp url: a path or fragment has no meaning; " + smtpURLForm},
		{"smtp://mail.example.com?from=k@example.com&to=x@example.com", `smtp url: unknown parameter "to" (only from= is known)`},
		{"smtp://mail.example.com?from=k@example.com&from=j@example.com", "smtp url: from= is given more than once"},
		{"smtp://mail.example.com", "smtp url: no sender: add ?from=ADDRESS"},
		{"smtp://mail.example.com?from=Keysweep%20%3Ck@example.com%3E", `smtp url: from: "Keysweep <k@example.com>" is not a bare email address like name@example.com`},
		{"smtp://mail.example.com?from=k@example.com%0d%0aBcc:x@example.net", `smtp url: from: "k@example.com\r\nBcc:x@example.net" is not a bare email address like name@example.com`},
		{"smtp://:" + testPassword + "@mail.example.com?from=k@example.com", "smtp url: a password with no user; " + smtpURLForm},
		{"smtp://bot@mail.example.com?from=k@example.com", `smtp url: user "bot" has no password: put it in the URL or in KEYSWEEP_SMTP_PASSWORD`},
		{"smtp://bot:" + testPassword + "@mail.example.com\x7f?from=k@example.com", "smtp url: not a valid URL; " + smtpURLForm},
	} {
		_, err := parseSMTPURL(tc.raw, noEnv)
		if got := errString(err); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.raw, got, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), testPassword) || strings.Contains(err.Error(), "\n")) {
			t.Errorf("%q: the error holds the password or a newline: %v", tc.raw, err)
		}
	}
}

// TestMailNeverShowsPassword: no formatting of a Mail, and no error of a
// session, holds the password.
func TestMailNeverShowsPassword(t *testing.T) {
	t.Parallel()
	m, err := parseSMTPURL("smtp://bot:"+testPassword+"@127.0.0.1:1?from=k@example.com", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(m), fmt.Sprint(*m), fmt.Sprintf("%+v %#v %v %s %d %x %q", m, m, *m, *m, *m, m, m), m.String()} {
		if strings.Contains(s, testPassword) || strings.Contains(s, fmt.Sprintf("%x", testPassword)) {
			t.Errorf("shows the password: %s", s)
		}
	}

	// A server that echoes what it is sent, password included.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(c, "554 no service for you, bot:%s\r\n", testPassword)
	}()
	m.Host, m.Port = "127.0.0.1", fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	err = m.Notify(context.Background(), fullNotice())
	if err == nil || strings.Contains(err.Error(), testPassword) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("err %v", err)
	}
}

// TestMailCancelled: a server that never answers does not hold Notify
// past its context.
func TestMailCancelled(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		cancel() // connected: now give up
		_, _ = io.Copy(io.Discard, c)
	}()
	m, err := parseSMTPURL("smtp://"+ln.Addr().String()+"?from=k@example.com", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	err = m.Notify(ctx, fullNotice())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
}
