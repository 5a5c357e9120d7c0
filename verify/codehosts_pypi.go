package verify

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// A PyPI token is "pypi-" and a macaroon (version 2, binary, base64url):
// its caveats, JSON that PyPI wrote when it issued the token, say which
// projects it may upload to and until when. PyPI's answer names neither,
// so they are read from the token itself; they are claims the token
// carries, which PyPI checks against its signature when it is used.

// pypiCaveats are what a PyPI token's caveats restrict.
type pypiCaveats struct {
	projects []string
	// expires is the end of the token's validity, zero when it has none.
	expires time.Time
}

// pypiScopes says what the caveats of token allow, for a verified
// result: "all projects" or "project NAME", and "expires DATE".
func pypiScopes(c pypiCaveats) []string {
	var out []string
	if len(c.projects) == 0 {
		out = append(out, "all projects of its user")
	}
	for _, p := range c.projects {
		out = append(out, "project "+p)
	}
	if !c.expires.IsZero() {
		out = append(out, "expires "+c.expires.UTC().Format(time.RFC3339))
	}
	return out
}

// Macaroon v2 field types.
const (
	macaroonEOS        = 0
	macaroonIdentifier = 2
	macaroonSignature  = 6
)

// pypiReadCaveats decodes the caveats of token; ok is false when it is
// not a macaroon this reader knows.
func pypiReadCaveats(token string) (c pypiCaveats, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(strings.TrimPrefix(token, "pypi-"), "="))
	if err != nil || len(raw) < 1 || raw[0] != 2 {
		return c, false
	}
	r := macaroonReader{b: raw[1:]}
	// The header: location and identifier, up to an EOS.
	if !r.section(nil) {
		return c, false
	}
	for n := 0; ; n++ {
		if n > 64 || len(r.b) == 0 {
			return c, false
		}
		if r.b[0] == macaroonEOS { // the caveats end
			break
		}
		if !r.section(func(id []byte) { c.add(id) }) {
			return c, false
		}
	}
	r.b = r.b[1:]
	typ, _, good := r.field()
	return c, good && typ == macaroonSignature
}

// add reads one caveat: [tag, ...] or the legacy objects.
func (c *pypiCaveats) add(id []byte) {
	var tagged []json.RawMessage
	if json.Unmarshal(id, &tagged) == nil && len(tagged) > 1 {
		var tag int
		if json.Unmarshal(tagged[0], &tag) != nil {
			return
		}
		switch tag {
		case 0: // expiration: expires_at, not_before
			var exp int64
			if json.Unmarshal(tagged[1], &exp) == nil {
				c.expire(exp)
			}
		case 1: // project names
			var names []string
			if json.Unmarshal(tagged[1], &names) == nil {
				c.project(names...)
			}
		case 2: // project ids
			var ids []string
			if json.Unmarshal(tagged[1], &ids) == nil {
				for _, id := range ids {
					c.project("id " + id)
				}
			}
		}
		return
	}
	var legacy struct {
		Version     int             `json:"version"`
		Permissions json.RawMessage `json:"permissions"`
		Exp         *int64          `json:"exp"`
	}
	if json.Unmarshal(id, &legacy) != nil {
		return
	}
	if legacy.Exp != nil {
		c.expire(*legacy.Exp)
	}
	var perms struct {
		Projects []string `json:"projects"`
	}
	if legacy.Version == 1 && json.Unmarshal(legacy.Permissions, &perms) == nil {
		c.project(perms.Projects...)
	}
}

func (c *pypiCaveats) expire(unix int64) {
	t := time.Unix(unix, 0)
	if c.expires.IsZero() || t.Before(c.expires) {
		c.expires = t
	}
}

func (c *pypiCaveats) project(names ...string) {
	for _, n := range names {
		if n = Clean(n, 100); n != "" && len(c.projects) < 20 {
			c.projects = append(c.projects, n)
		}
	}
}

// macaroonReader reads the fields of a binary macaroon.
type macaroonReader struct{ b []byte }

// field reads a type and, for all but EOS, a length and that many bytes.
func (r *macaroonReader) field() (typ uint64, data []byte, ok bool) {
	typ, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, nil, false
	}
	r.b = r.b[n:]
	if typ == macaroonEOS {
		return typ, nil, true
	}
	size, n := binary.Uvarint(r.b)
	if n <= 0 || size > uint64(len(r.b)-n) {
		return 0, nil, false
	}
	data = r.b[n : n+int(size)]
	r.b = r.b[n+int(size):]
	return typ, data, true
}

// section reads fields up to an EOS, giving each identifier to id.
func (r *macaroonReader) section(id func([]byte)) bool {
	for n := 0; n < 8; n++ {
		typ, data, ok := r.field()
		switch {
		case !ok:
			return false
		case typ == macaroonEOS:
			return true
		case typ == macaroonIdentifier && id != nil:
			id(data)
		}
	}
	return false
}

// pypiExpired is why a token PyPI knows still cannot upload, "" when
// nothing says so.
func pypiExpired(c pypiCaveats, now time.Time) string {
	if !c.expires.IsZero() && !now.Before(c.expires) {
		return fmt.Sprintf("PyPI knows the token, but it expired on %s (its expiry caveat): it can upload nothing", c.expires.UTC().Format(time.RFC3339))
	}
	return ""
}
