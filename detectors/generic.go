package detectors

import (
	"path"
	"regexp"
	"strings"
)

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// parseAssignment reads `name <op> value` around a keyword at pos, where
// name contains the keyword and op is one of = := : =>. It understands the
// shapes secrets are written in: env files, YAML, JSON, TOML, INI, code.
func parseAssignment(data []byte, pos int) (Candidate, bool) {
	const maxName, maxValue = 64, 256
	ns := pos
	for ns > 0 && pos-ns < maxName && isNameByte(data[ns-1]) {
		ns--
	}
	ne := pos
	for ne < len(data) && ne-pos < maxName && isNameByte(data[ne]) {
		ne++
	}
	i := ne
	// Closing quotes or brackets of the name: "password": or env["TOKEN"] =
	for i < len(data) && i-ne < 3 && (data[i] == '"' || data[i] == '\'' || data[i] == ']') {
		i++
	}
	for i < len(data) && (data[i] == ' ' || data[i] == '\t') {
		i++
	}
	if i >= len(data) {
		return Candidate{}, false
	}
	switch {
	case data[i] == ':' && i+1 < len(data) && data[i+1] == '=':
		i += 2
	case data[i] == '=' && i+1 < len(data) && data[i+1] == '>':
		i += 2
	case data[i] == '=':
		if i+1 < len(data) && data[i+1] == '=' {
			return Candidate{}, false // a comparison
		}
		i++
	case data[i] == ':':
		if i+1 < len(data) && data[i+1] == ':' {
			return Candidate{}, false // a scope operator
		}
		i++
	default:
		return Candidate{}, false
	}
	for i < len(data) && (data[i] == ' ' || data[i] == '\t') {
		i++
	}
	if i >= len(data) {
		return Candidate{}, false
	}
	var quote byte
	if c := data[i]; c == '"' || c == '\'' || c == '`' {
		quote = c
		i++
	}
	vs := i
	for i < len(data) && i-vs <= maxValue {
		c := data[i]
		if quote != 0 && c == quote || c == '\n' || c == '\r' {
			break
		}
		if quote == 0 && strings.IndexByte(" \t,;\"'`<>(){}[]", c) >= 0 {
			break
		}
		i++
	}
	if i-vs > maxValue || i == vs {
		return Candidate{}, false
	}
	if quote == 0 && i < len(data) && data[i] == '(' {
		return Candidate{}, false // a function call
	}
	return Candidate{
		Secret: string(data[vs:i]),
		Name:   string(data[ns:ne]),
		Data:   data,
		Start:  vs,
		End:    i,
	}, true
}

var (
	uuidRe       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	identChainRe = regexp.MustCompile(`^[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+$`)
)

// nameSuffixes end names that hold something other than a secret value:
// secretName, token_url, password_file, api_key_id, ...
var nameSuffixes = []string{
	"name", "names", "id", "ids", "url", "uri", "path", "file", "dir", "type", "length", "len",
	"size", "count", "prefix", "suffix", "field", "param", "header", "expiry", "expires",
	"expiration", "ttl", "timeout", "version", "format", "enabled", "mode", "ref", "arn",
	"hash", "sha", "digest", "checksum", "policy", "endpoint", "key_name", "env", "var",
	"placeholder", "label", "regex", "pattern", "template", "provider", "generator",
}

// nameStopwords in a name mean the value is derived from or about a secret,
// not a secret itself.
var nameStopwords = []string{"hash", "checksum", "digest", "integrity", "sha1", "sha256", "sha512", "fingerprint", "public"}

// valueStopwords mark documentation placeholders and fake values.
var valueStopwords = []string{
	"example", "xxxx", "****", "....", "changeme", "change_me", "change-me", "placeholder",
	"your_", "your-", "yourpass", "yoursecret", "yourtoken", "dummy", "sample", "redacted",
	"replace", "insert", "todo", "fixme", "foobar", "password", "passwd", "notasecret",
	"not-a-secret", "not_a_secret", "fake", "secret123", "s3cr3t",
}

// lockFiles hold hashes and checksums assigned to names like "token" only
// by coincidence; the generic rule skips them.
var lockFiles = map[string]bool{
	"go.sum": true, "package-lock.json": true, "npm-shrinkwrap.json": true, "yarn.lock": true,
	"pnpm-lock.yaml": true, "Cargo.lock": true, "poetry.lock": true, "Pipfile.lock": true,
	"composer.lock": true, "Gemfile.lock": true, "mix.lock": true, "pubspec.lock": true,
	"packages.lock.json": true, "gradle.lockfile": true, "flake.lock": true, "go.work.sum": true,
	".terraform.lock.hcl": true, "SHA256SUMS": true, "SHA512SUMS": true, "checksums.txt": true,
}

func isLockFile(p string) bool {
	base := path.Base(p)
	if lockFiles[base] {
		return true
	}
	ext := path.Ext(base)
	return ext == ".lock" || ext == ".sum" || ext == ".sha256" || ext == ".sha512" || ext == ".md5"
}

// validGeneric keeps a value assigned to a secret-like name only when it
// looks like a real credential: long enough, random enough, not a
// reference, placeholder, identifier, UUID, path, number or hash.
func validGeneric(c Candidate) bool {
	if c.Path != "" && isLockFile(c.Path) {
		return false
	}
	name := strings.ToLower(c.Name)
	for _, s := range nameSuffixes {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	for _, s := range nameStopwords {
		if strings.Contains(name, s) {
			return false
		}
	}
	v := c.Secret
	if len(v) < 10 || len(v) > 200 {
		return false
	}
	switch v[0] {
	case '$', '%', '/', '~', '#', '=', '!', '&', '*', '@', '\\':
		return false // a reference, path, comment, comparison or escape
	}
	if strings.HasPrefix(v, "./") || strings.Contains(v, "://") || strings.Contains(v, "${") || strings.Contains(v, "{{") {
		return false
	}
	lv := strings.ToLower(v)
	for _, s := range valueStopwords {
		if strings.Contains(lv, s) {
			return false
		}
	}
	if uuidRe.MatchString(v) || identChainRe.MatchString(v) {
		return false
	}
	lower, upper, digit, other := charClasses(v)
	if !digit && !other {
		return false // letters only: a word, not a credential
	}
	if !lower && !upper {
		return false // digits and punctuation: a number, date or version
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	e := shannon(v)
	if len(v) < 16 {
		return classes >= 3 && e >= 3.0
	}
	if isHex(v) {
		// Hex tokens exist, but so do hashes; ask for the randomness of a
		// 128-bit or longer value.
		return len(v) >= 32 && e >= 3.5
	}
	return e >= 3.5
}
