package remote

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	type want struct {
		URL, Host, Scheme, Path, Origin string
		User, Password                  string
		HasPassword                     bool
	}
	tests := []struct {
		arg     string
		remote  bool
		want    want
		wantErr string
	}{
		// Local paths.
		{arg: ""},
		{arg: "."},
		{arg: "/srv/repo.git"},
		{arg: "../repo"},
		{arg: "repo"},
		{arg: `C:\repo`},
		{arg: `C:/repo`},
		{arg: `c:repo`},
		{arg: `\\server\share\repo`},
		{arg: "dir:with/colon"},
		{arg: "./git@github.com:acme/app"},
		{arg: "sub/dir@host:x"},
		{arg: "alice@home"},
		{arg: "localhost:repo"},

		// https.
		{arg: "https://github.com/acme/app", remote: true, want: want{URL: "https://github.com/acme/app", Host: "github.com", Scheme: "https", Path: "/acme/app", Origin: "https://github.com"}},
		{arg: "https://github.com/acme/app.git", remote: true, want: want{URL: "https://github.com/acme/app.git", Host: "github.com", Scheme: "https", Path: "/acme/app.git", Origin: "https://github.com"}},
		{arg: "HTTPS://GitHub.COM/Acme/App", remote: true, want: want{URL: "https://github.com/Acme/App", Host: "github.com", Scheme: "https", Path: "/Acme/App", Origin: "https://github.com"}},
		{arg: "https://github.com:443/acme/app", remote: true, want: want{URL: "https://github.com:443/acme/app", Host: "github.com", Scheme: "https", Path: "/acme/app", Origin: "https://github.com:443"}},
		{arg: "https://git.example.com:8443/group/sub/app.git", remote: true, want: want{URL: "https://git.example.com:8443/group/sub/app.git", Host: "git.example.com:8443", Scheme: "https", Path: "/group/sub/app.git", Origin: "https://git.example.com:8443"}},
		{arg: "https://[2001:db8::1]:8443/app", remote: true, want: want{URL: "https://[2001:db8::1]:8443/app", Host: "[2001:db8::1]:8443", Scheme: "https", Path: "/app", Origin: "https://[2001:db8::1]:8443"}},
		{arg: "https://[2001:DB8::1]/app", remote: true, want: want{URL: "https://[2001:db8::1]/app", Host: "[2001:db8::1]", Scheme: "https", Path: "/app", Origin: "https://[2001:db8::1]"}},
		{arg: "https://x/a%20b", remote: true, want: want{URL: "https://x/a%20b", Host: "x", Scheme: "https", Path: "/a b", Origin: "https://x"}},
		// Credentials leave the URL for the credential protocol.
		{arg: "https://alice:s3cret@git.example.com/app", remote: true, want: want{URL: "https://git.example.com/app", Host: "git.example.com", Scheme: "https", Path: "/app", Origin: "https://git.example.com", User: "alice", Password: "s3cret", HasPassword: true}},
		{arg: "https://alice:p%40ss%3Aw@git.example.com/app", remote: true, want: want{URL: "https://git.example.com/app", Host: "git.example.com", Scheme: "https", Path: "/app", Origin: "https://git.example.com", User: "alice", Password: "p@ss:w", HasPassword: true}},
		{arg: "https://ghp_tokenasuser@github.com/acme/app", remote: true, want: want{URL: "https://github.com/acme/app", Host: "github.com", Scheme: "https", Path: "/acme/app", Origin: "https://github.com", User: "ghp_tokenasuser"}},
		{arg: "https://:only@x/app", remote: true, want: want{URL: "https://x/app", Host: "x", Scheme: "https", Path: "/app", Origin: "https://x", Password: "only", HasPassword: true}},

		// http, loopback only.
		{arg: "http://127.0.0.1:8080/app.git", remote: true, want: want{URL: "http://127.0.0.1:8080/app.git", Host: "127.0.0.1:8080", Scheme: "http", Path: "/app.git", Origin: "http://127.0.0.1:8080"}},
		{arg: "http://localhost/app", remote: true, want: want{URL: "http://localhost/app", Host: "localhost", Scheme: "http", Path: "/app", Origin: "http://localhost"}},
		{arg: "http://[::1]:80/app", remote: true, want: want{URL: "http://[::1]:80/app", Host: "[::1]", Scheme: "http", Path: "/app", Origin: "http://[::1]:80"}},
		{arg: "http://github.com/acme/app", wantErr: "plain http"},
		{arg: "http://10.0.0.1/app", wantErr: "plain http"},
		{arg: "http://alice:pw@example.com/app", wantErr: "plain http"},

		// ssh.
		{arg: "ssh://git@github.com/acme/app.git", remote: true, want: want{URL: "ssh://git@github.com/acme/app.git", Host: "github.com", Scheme: "ssh", Path: "/acme/app.git"}},
		{arg: "ssh://github.com:2222/acme/app", remote: true, want: want{URL: "ssh://github.com:2222/acme/app", Host: "github.com:2222", Scheme: "ssh", Path: "/acme/app"}},
		{arg: "ssh://git@[::1]:22/srv/app", remote: true, want: want{URL: "ssh://git@[::1]:22/srv/app", Host: "[::1]", Scheme: "ssh", Path: "/srv/app"}},
		{arg: "git@github.com:acme/app.git", remote: true, want: want{URL: "git@github.com:acme/app.git", Host: "github.com", Scheme: "ssh", Path: "acme/app.git"}},
		{arg: "github.com:acme/app", remote: true, want: want{URL: "github.com:acme/app", Host: "github.com", Scheme: "ssh", Path: "acme/app"}},
		{arg: "git@myalias:app", remote: true, want: want{URL: "git@myalias:app", Host: "myalias", Scheme: "ssh", Path: "app"}},
		{arg: "git@[::1]:srv/app", remote: true, want: want{URL: "git@[::1]:srv/app", Host: "[::1]", Scheme: "ssh", Path: "srv/app"}},
		{arg: "[2001:db8::1]:/srv/app", remote: true, want: want{URL: "[2001:db8::1]:/srv/app", Host: "[2001:db8::1]", Scheme: "ssh", Path: "/srv/app"}},
		{arg: "ssh://user:pw@host/app", wantErr: "no password"},
		{arg: "user:pw@host.example:app"}, // git would take host "user": a local path here

		// file.
		{arg: "file:///srv/repo.git", remote: true, want: want{URL: "file:///srv/repo.git", Scheme: "file", Path: "/srv/repo.git"}},
		{arg: "file://localhost/srv/repo.git", remote: true, want: want{URL: "file://localhost/srv/repo.git", Scheme: "file", Path: "/srv/repo.git"}},
		{arg: "file://otherhost/srv/repo", wantErr: "names this machine"},
		{arg: "file://alice@/srv/repo", wantErr: "no user name"},

		// Hostile.
		{arg: "-oProxyCommand=x", wantErr: "starts with '-'"},
		{arg: "-\n", wantErr: "starts with '-'"},
		{arg: "--upload-pack=touch /tmp/x", wantErr: "starts with '-'"},
		{arg: "ext::sh -c touch% /tmp/pwned", wantErr: `transport "ext::"`},
		{arg: "fd::17", wantErr: `transport "fd::"`},
		{arg: "EXT::sh", wantErr: `transport "EXT::"`},
		{arg: "ssh://-oProxyCommand=x/app", wantErr: "host starts with '-'"},
		{arg: "ssh://-oProxyCommand=x@host/app", wantErr: "user name starts with '-'"},
		{arg: "-oProxyCommand=x@host:app", wantErr: "starts with '-'"},
		{arg: "git@-oProxyCommand=x.y:app", wantErr: "host starts with '-'"},
		{arg: "git@host.example:-app", wantErr: "path starts with '-'"},
		{arg: "git://github.com/acme/app", wantErr: "neither encrypted"},
		{arg: "git+ssh://github.com/acme/app", wantErr: "write ssh://"},
		{arg: "ftp://example.com/app", wantErr: `scheme "ftp"`},
		{arg: "javascript://x/y", wantErr: `scheme "javascript"`},
		{arg: "https://x/..%2f..", wantErr: "'..' segment"},
		{arg: "https://x/a/../../etc", wantErr: "'..' segment"},
		{arg: "https://x/a%2F..%2F..%2Fetc", wantErr: "'..' segment"},
		{arg: "git@host.example:../../etc", wantErr: "'..' segment"},
		{arg: "https://x/a%0aurl=https://evil/", wantErr: "control character"},
		{arg: "https://x/a\nb", wantErr: "control character"},
		{arg: "https://us%0Aer:pw@x/app", wantErr: "control character"},
		{arg: "https://x/app?service=git-upload-pack", wantErr: "no query"},
		{arg: "https://x/app#frag", wantErr: "no query"},
		{arg: "https://github.com", wantErr: "no repository path"},
		{arg: "https://github.com/", wantErr: "no repository path"},
		{arg: "https:///acme/app", wantErr: "no host"},
		{arg: "https://x:99999/app", wantErr: "not a port"},
		{arg: "https://x:/app", wantErr: "empty port"},
		{arg: "https://ex ample.com/app", wantErr: "malformed"},
		{arg: "https://[fe80::1%25eth0]/app", wantErr: "not a host name"},
		{arg: "https://exa$mple.com/app", wantErr: "not a host name"},
		{arg: "git@host.example:", wantErr: "no repository path"},
		{arg: "git@:app", wantErr: "no host"},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.arg, "/", "∕"), func(t *testing.T) {
			t.Parallel()
			got, remote, err := Parse(tt.arg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tt.arg, err, tt.wantErr)
				}
				if got != nil || remote {
					t.Errorf("Parse(%q) = %+v, %v with an error", tt.arg, got, remote)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.arg, err)
			}
			if remote != tt.remote || (got != nil) != tt.remote {
				t.Fatalf("Parse(%q) = %+v, %v; want remote %v", tt.arg, got, remote, tt.remote)
			}
			if !remote {
				return
			}
			g := want{URL: got.URL, Host: got.Host, Scheme: got.Scheme, Path: got.path, Origin: got.origin}
			if got.auth != nil {
				g.User, g.Password, g.HasPassword = got.auth.user, got.auth.password, got.auth.hasPassword
			}
			if diff := cmp.Diff(tt.want, g); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.arg, diff)
			}
		})
	}
}

// TestParseHidesPassword checks that neither an error nor the printed
// Target shows a password.
func TestParseHidesPassword(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{
		"https://alice:hunter2pw@github.com/acme/app",
		"http://alice:hunter2pw@example.com/app",
		"https://alice:hunter2pw@x/a/../b",
		"https://alice:hunter2pw@x/app?q",
		"https://alice:hunter2pw@x:bad/app",
		"ftp://alice:hunter2pw@x/app",
		"https://hunter2pw@x/app",
	} {
		got, _, err := Parse(arg)
		for _, s := range []string{errString(err), stringOf(got)} {
			if strings.Contains(s, "hunter2pw") {
				t.Errorf("Parse(%q) shows the password: %s", arg, s)
			}
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func stringOf(t *Target) string {
	if t == nil {
		return ""
	}
	return t.String() + " " + strings.Join([]string{t.URL, t.Host}, " ") + " " + fmtV(t)
}

func fmtV(t *Target) string { return fmt.Sprintf("%+v %v %s", *t, t, t) }

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"https://github.com/acme/app", "git@github.com:acme/app.git", "ssh://git@[::1]:22/x",
		"file:///srv/x", "http://127.0.0.1:1/x", "https://u:p@x/y", "C:\\repo", "ext::sh", "-o",
		"https://x/..%2f..", "[::1]:x", "a@b.c:d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		got, remote, err := Parse(arg)
		if err != nil {
			if got != nil || remote || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Parse(%q) = %v, %v, %q", arg, got, remote, err)
			}
			return
		}
		if remote != (got != nil) {
			t.Fatalf("Parse(%q) = %v, %v", arg, got, remote)
		}
		if got == nil {
			return
		}
		if n := schemeLen(got.URL); strings.HasPrefix(got.URL, "-") || n > 0 && strings.HasPrefix(got.URL[n:], "::") {
			t.Fatalf("Parse(%q) lets git see %q", arg, got.URL)
		}
		switch got.Scheme {
		case "https", "http":
			if strings.Contains(strings.SplitN(strings.TrimPrefix(got.URL, got.Scheme+"://"), "/", 2)[0], "@") {
				t.Fatalf("Parse(%q): userinfo stays in %q", arg, got.URL)
			}
		case "ssh", "file":
		default:
			t.Fatalf("Parse(%q): scheme %q", arg, got.Scheme)
		}
		if _, err := cachePath("/cache", got); err == nil {
			p, _ := cachePath("/cache", got)
			if !strings.HasPrefix(p, "/cache/") || strings.Contains(p, "/../") || strings.Contains(p, "/./") {
				t.Fatalf("Parse(%q): cache path %q", arg, p)
			}
		}
	})
}
