package detectors

import (
	"bytes"
	"encoding/base64"
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
		if quote == 0 && strings.IndexByte(" \t,;\"'`<>(){}[]&", c) >= 0 {
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
	if bytes.ContainsAny(data[vs:i], " \t\\") {
		// Prose, a document in a string, or escapes (\n, \30) that make
		// the value something other than what the bytes say.
		return Candidate{}, false
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
	uuidRe    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	numberRe  = regexp.MustCompile(`^[-+]?(?:0[xX][0-9a-fA-F]+|[0-9][0-9_.eE+-]*)$`)
	md5HashRe = regexp.MustCompile(`^md5[0-9a-f]{32}$`)
	identRe   = regexp.MustCompile(`^[A-Za-z_]+$`)
	// slugRe matches lower-case names in segments: k8s-sys-client, my_app.prod.
	slugRe       = regexp.MustCompile(`^[a-z0-9]+(?:[-_.][a-z0-9]+){2,}$`)
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
var nameStopwords = []string{"hash", "checksum", "digest", "integrity", "sha1", "sha256", "sha512", "fingerprint", "public",
	// Pagination tokens are cursors, not credentials.
	"pagetoken", "page_token", "nexttoken", "next_token", "continuationtoken", "continuation_token", "synctoken"}

// valueStopwords mark documentation placeholders and fake values.
var valueStopwords = []string{
	"example", "xxxx", "****", "....", "changeme", "change_me", "change-me", "placeholder",
	"your_", "your-", "yourpass", "yoursecret", "yourtoken", "dummy", "sample", "redacted",
	"replace", "insert", "todo", "fixme", "foobar", "password", "passwd", "notasecret",
	"not-a-secret", "not_a_secret", "fake", "secret123", "s3cr3t",
	// Keyboard runs of documentation values: 1234567890abcdefgh.
	"1234567890", "0123456789", "abcdefgh", "qwerty",
}

// unleet undoes the digit-for-letter spelling of example passwords
// (P4ssw0rd1!, MyP@ssw0rd), so that they meet the stopwords.
var unleet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s")

// isExamplePassword reports whether v spells "password" or "secret",
// however disguised: the value of every tutorial.
func isExamplePassword(v string) bool {
	l := unleet.Replace(strings.ToLower(v))
	return strings.Contains(l, "password") || strings.Contains(l, "passw") && strings.Contains(l, "rd") || strings.Contains(l, "secret")
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

// validGeneric is validValue for a candidate assigned to a secret-like
// name, outside lock files.
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
	return validValue(name, c.Secret, true)
}

// pgpPublicPrefixes start the base64 of PGP public key packets: a public
// key is not a secret (a secret key packet starts lQ and stays a finding).
var pgpPublicPrefixes = []string{"mQENB", "mQINB", "mQGNB", "mQINBF", "mDMEY", "mQMuB"}

// hashLengths are the lengths of SHA-1, SHA-256 and SHA-512 in hex.
var hashLengths = map[int]bool{40: true, 64: true, 128: true}

// validValue keeps a value assigned to a secret-like name only when it
// looks like a real credential: long enough, random enough, not a
// reference, placeholder (valueStopwords, and what isPlaceholder finds in
// keys and tokens too), identifier, words, UUID, path, number or hash.
// Base64 of plain text (c3VwZXJzZWNyZXQ= is "supersecret") is judged by
// what it decodes to, once.
func validValue(name, v string, decode bool) bool {
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
	if numberRe.MatchString(v) || strings.HasPrefix(v, "arn:") || md5HashRe.MatchString(v) || identRe.MatchString(v) {
		return false // a numeric literal, an ARN, a PostgreSQL md5 hash, an identifier
	}
	for _, p := range pgpPublicPrefixes {
		if strings.HasPrefix(v, p) {
			return false
		}
	}
	lv := strings.ToLower(v)
	for _, s := range valueStopwords {
		if strings.Contains(lv, s) {
			return false
		}
	}
	if isExamplePassword(v) || isPlaceholder(v) {
		return false
	}
	if uuidRe.MatchString(v) || identChainRe.MatchString(strings.TrimPrefix(v, ".")) || slugRe.MatchString(v) || wordy(v) {
		return false
	}
	if decode {
		if text, ok := decodeBase64Text(v); ok {
			return validValue(name, text, false)
		}
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
		// Hex tokens exist, but so do hashes: a hash-sized value counts
		// only under a name that says token, password or secret (not, say,
		// the private_key_pem of a Terraform plan, which shows a SHA-1).
		if hashLengths[len(v)] && !strings.Contains(name, "token") && !strings.Contains(name, "pass") && !strings.Contains(name, "secret") {
			return false
		}
		return len(v) >= 32 && e >= 3.5
	}
	return e >= 3.5
}

// wordy reports whether v reads as words joined into a name (s3ConfigKey,
// wordpress.local-tls, k8s-user-info) rather than random characters: most
// of its letters stand in runs of four or more, runs being split at
// lower-to-upper changes. Random tokens flip case and class every couple
// of characters.
func wordy(v string) bool {
	letters, inLong, run := 0, 0, 0
	end := func() {
		if run >= 4 {
			inLong += run
		}
		run = 0
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		lower, upper := c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z'
		if !lower && !upper {
			end()
			continue
		}
		if upper && i > 0 && v[i-1] >= 'a' && v[i-1] <= 'z' {
			end()
		}
		letters++
		run++
	}
	end()
	return letters*2 >= len(v) && inLong*10 >= letters*6
}

// decodeBase64Text decodes v when it is base64 (standard or URL alphabet,
// padded or not) of printable text.
func decodeBase64Text(v string) (string, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(v)
		if err != nil || len(b) == 0 {
			continue
		}
		for _, c := range b {
			if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c > 0x7e {
				return "", false
			}
		}
		return strings.TrimSpace(string(b)), true
	}
	return "", false
}
