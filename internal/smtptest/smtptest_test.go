package smtptest

import (
	"crypto/tls"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dial opens a client session, over STARTTLS when the server offers it.
func dial(t *testing.T, s *Server, starttls bool) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if starttls {
		if err := c.StartTLS(&tls.Config{ServerName: s.Host, RootCAs: s.CertPool}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func send(c *smtp.Client, from string, to []string, data string) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(data)); err != nil {
		return err
	}
	return w.Close()
}

// code is the SMTP reply code of err, 0 when it is no reply.
func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestDeliveryOverSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	s := New(t, Options{User: "bot", Password: "s3cret"})
	c := dial(t, s, true)
	if ok, mechs := c.Extension("AUTH"); !ok || mechs != "PLAIN" {
		t.Fatalf("AUTH after STARTTLS: %v %q", ok, mechs)
	}
	if err := c.Mail("keysweep@example.com"); code(err) != 530 {
		t.Fatalf("MAIL before AUTH: %v, want 530", err)
	}
	if err := c.Auth(smtp.PlainAuth("", "bot", "s3cret", s.Host)); err != nil {
		t.Fatal(err)
	}
	data := "Subject: hi\n\n.leading dot\n..two dots\nend\n"
	if err := send(c, "keysweep@example.com", []string{"a@example.com", "b@example.com"}, data); err != nil {
		t.Fatal(err)
	}
	// A second message in the same session, after RSET and NOOP.
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(); err != nil {
		t.Fatal(err)
	}
	if err := send(c, "keysweep@example.com", []string{"c@example.com"}, "x\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	want := []Message{{
		From: "keysweep@example.com", To: []string{"a@example.com", "b@example.com"},
		Data: []byte("Subject: hi\r\n\r\n.leading dot\r\n..two dots\r\nend\r\n"), TLS: true, User: "bot",
	}, {
		From: "keysweep@example.com", To: []string{"c@example.com"}, Data: []byte("x\r\n"), TLS: true, User: "bot",
	}}
	if diff := cmp.Diff(want, s.Messages()); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if got := strings.Join(s.Commands(), " "); got != "EHLO STARTTLS EHLO MAIL AUTH MAIL RCPT RCPT DATA RSET NOOP MAIL RCPT DATA QUIT" {
		t.Errorf("commands: %s", got)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts Options
		run  func(*testing.T, *Server) error
		want int
	}{{
		name: "no STARTTLS offered",
		opts: Options{NoStartTLS: true},
		run: func(t *testing.T, s *Server) error {
			c := dial(t, s, false)
			if ok, _ := c.Extension("STARTTLS"); ok {
				t.Error("STARTTLS offered")
			}
			return c.StartTLS(&tls.Config{ServerName: s.Host, RootCAs: s.CertPool})
		},
		want: 502,
	}, {
		name: "wrong password",
		opts: Options{User: "bot", Password: "s3cret"},
		run: func(t *testing.T, s *Server) error {
			return dial(t, s, true).Auth(smtp.PlainAuth("", "bot", "guess", s.Host))
		},
		want: 535,
	}, {
		name: "AUTH refused",
		opts: Options{User: "bot", Password: "s3cret", RefuseAuth: true},
		run: func(t *testing.T, s *Server) error {
			return dial(t, s, true).Auth(smtp.PlainAuth("", "bot", "s3cret", s.Host))
		},
		want: 535,
	}, {
		name: "rejected recipient",
		opts: Options{Reject: []string{"gone@example.com"}},
		run: func(t *testing.T, s *Server) error {
			return send(dial(t, s, true), "k@example.com", []string{"gone@example.com"}, "x\n")
		},
		want: 550,
	}, {
		name: "too big",
		opts: Options{MaxSize: 10},
		run: func(t *testing.T, s *Server) error {
			return send(dial(t, s, true), "k@example.com", []string{"a@example.com"}, strings.Repeat("x", 20)+"\n")
		},
		want: 552,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := New(t, tc.opts)
			if err := tc.run(t, s); code(err) != tc.want {
				t.Errorf("got %v, want a %d reply", err, tc.want)
			}
			if m := s.Messages(); len(m) != 0 {
				t.Errorf("messages accepted: %+v", m)
			}
		})
	}
}

func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	s := New(t, Options{ImplicitTLS: true, User: "bot", Password: "s3cret"})
	conn, err := tls.Dial("tcp", s.Addr, &tls.Config{ServerName: "localhost", RootCAs: s.CertPool})
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered over TLS")
	}
	if err := c.Auth(smtp.PlainAuth("", "bot", "s3cret", s.Host)); err != nil {
		t.Fatal(err)
	}
	if err := send(c, "k@example.com", []string{"a@example.com"}, "x\n"); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages(); len(m) != 1 || !m[0].TLS || m[0].User != "bot" {
		t.Errorf("messages %+v", m)
	}
}
