package detectors

import (
	"bytes"
	"encoding/base64"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// File rules find the credentials that tools write into their own
// configuration files: a registry login in a Docker config, a .netrc, a
// Maven settings.xml, an .npmrc or .pypirc, a Group Policy preference,
// and the secrets a Terraform state holds. The file's shape is the
// context that makes a plain password worth reporting, so each rule
// checks that shape, and drops what documentation puts there instead: a
// placeholder, a reference to a variable, a default. A value that is a
// token another rule knows by its prefix is left to that rule, so that
// one credential makes one finding.

// fileRules returns the file rules. prior are the rules before them in
// the catalog: their prefixes say which values are tokens that another
// rule reports.
func fileRules(prior []Rule) []Rule {
	known := knownTokens(prior)
	return []Rule{
		{
			// The secret is the auth value as written, base64 of
			// user:password: what the file holds, what an HTTP client
			// sends (Authorization: Basic), and it names the account.
			// Multiline here and below only spares the engine looking for
			// the end of a minified file's one line at each hit: the
			// regex says where a value ends.
			ID:          "docker-registry-auth",
			Description: "Container registry login (auth in a Docker or Podman config, a dockerconfigjson)",
			Keywords:    []string{`"auth`},
			Regex:       regexp.MustCompile(`"auth\\?"\s*:\s*\\?"(?P<secret>[A-Za-z0-9+/]+={0,2})\\?"`),
			Before:      0, After: 3100, Multiline: true,
			Valid:    func(c Candidate) bool { return validDockerAuth(c, known) },
			prefixed: true,
		},
		{
			ID:          "docker-registry-token",
			Description: "Container registry token (identitytoken or registrytoken in a Docker or Podman config)",
			Keywords:    []string{`"identitytoken`, `"registrytoken`},
			Regex:       regexp.MustCompile(`"(?:identitytoken|registrytoken)\\?"\s*:\s*\\?"(?P<secret>[^"\\\s]{16,})`),
			Before:      0, After: 3100, Multiline: true,
			Valid: func(c Candidate) bool {
				return !known.covers(c.Secret) && notPlaceholder(c) && !isReference(c.Secret) && shannon(c.Secret) >= 3.5
			},
			prefixed: true,
		},
		{
			ID:          "netrc-password",
			Description: "Password of a .netrc machine entry",
			Keywords:    []string{"machine"},
			// The tokens of an entry are separated by any white space,
			// line breaks included; an entry may start, and a value
			// ends, at a quote or a backslash too, as in
			// `echo "machine ..." > .netrc`.
			Regex:  regexp.MustCompile(`(?:^|[\s"'` + "`" + `])machine\s+[^\s"'` + "`" + `\\]+(?:\s+(?:login|account|port)\s+[^\s"'` + "`" + `\\]+)*\s+password\s+(?P<secret>[^\s"'` + "`" + `\\]+)`),
			Before: 1, After: 1024, Multiline: true,
			Valid:    func(c Candidate) bool { return validNetrc(c, known) },
			prefixed: true,
		},
		{
			ID:          "maven-settings-password",
			Description: "Password in a Maven settings.xml server or proxy",
			Keywords:    []string{"<password>", "<passphrase>"},
			Regex:       regexp.MustCompile(`<(?:password|passphrase)>\s*(?P<secret>[^<\s]+)\s*</(?:password|passphrase)>`),
			Before:      0, After: 600, Multiline: true,
			Valid:    func(c Candidate) bool { return validMavenPassword(c, known) },
			prefixed: true,
		},
		{
			// A value ends where an .npmrc comment (; or #) starts, as
			// npm reads it; a quoted Yarn value holding one is cut
			// there too.
			ID:          "npmrc-auth",
			Description: "npm or Yarn registry credential (_authToken, _auth, _password in .npmrc; npmAuthToken, npmAuthIdent in .yarnrc.yml)",
			Keywords:    []string{"_auth", "_password", "npmAuthToken", "npmAuthIdent"},
			Regex:       regexp.MustCompile(`(?:^|[\s:])(?:_authToken|_auth|_password|npmAuthToken|npmAuthIdent)[ \t]*[=:][ \t]*["']?(?P<secret>[^\s"'#;]+)`),
			Before:      1, After: 1100, Multiline: true,
			Valid:    func(c Candidate) bool { return validNpmrc(c, known) },
			prefixed: true,
		},
		{
			ID:          "pypirc-password",
			Description: "Password of a package index in a .pypirc",
			Keywords:    []string{"password"},
			Regex:       regexp.MustCompile(`(?:^|[ \t])password[ \t]*[=:][ \t]*(?P<secret>[^\s]+)[ \t]*(?:\r?\n|$)`),
			Before:      1, After: 300,
			Valid:    func(c Candidate) bool { return validPypirc(c, known) },
			prefixed: true,
		},
		{
			// Found only in the text structuredRuns makes of a Terraform
			// state (see tfstate.go): a line per value that the state's
			// resource type or a sensitive output says is a secret.
			ID:          tfstateRule,
			Description: "Secret held in a Terraform state (random_password result, database and login passwords, client secrets, sensitive outputs)",
			Keywords:    []string{tfstateRule},
			Regex:       regexp.MustCompile(tfstateRule + ` [A-Za-z0-9_.\-]+ = (?P<secret>[^\r\n]+)`),
			Before:      0, After: 1200,
			Valid: func(c Candidate) bool {
				return !known.covers(c.Secret) && plausiblePassword(c.Secret, "")
			},
			prefixed: true,
		},
		{
			// Group Policy preferences (Groups.xml, Services.xml,
			// ScheduledTasks.xml, DataSources.xml, Drives.xml) encrypt
			// passwords with an AES key Microsoft published (MS14-025):
			// the value is as good as the password.
			ID:          "gpp-cpassword",
			Description: "Group Policy Preferences password (cpassword, decryptable with the published key)",
			Keywords:    []string{"cpassword="},
			Regex:       regexp.MustCompile(`(?:^|[^A-Za-z0-9_])cpassword="(?P<secret>[A-Za-z0-9+/]{20,}={0,2})"`),
			Before:      1, After: 1100, Multiline: true,
			Valid:    validCPassword,
			prefixed: true,
		},
		{
			ID:          "sourcegraph-token",
			Description: "Sourcegraph access token",
			Keywords:    []string{"sgp_"},
			Regex:       regexp.MustCompile(`(?:^|[^A-Za-z0-9_])(?P<secret>sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40})(?:[^A-Za-z0-9_]|$)`),
			Before:      1, After: 72,
			Valid: func(c Candidate) bool {
				return notPlaceholder(c) && shannon(c.Secret[len(c.Secret)-40:]) >= 3.0
			},
			prefixed: true,
		},
	}
}

// tfstateRule is the id of the rule for secrets in a Terraform state,
// and the word that starts each line of the text structuredRuns makes of
// them: `terraform-state-secret <type>.<attribute> = <value>`.
const tfstateRule = "terraform-state-secret"

// tokenPrefixes are the prefixes of the tokens other rules report, by
// their first three bytes.
type tokenPrefixes map[string][]string

// knownTokens returns the prefixes of the prefixed rules among rules.
func knownTokens(rules []Rule) tokenPrefixes {
	out := tokenPrefixes{}
	for _, r := range rules {
		if !r.prefixed {
			continue
		}
		for _, k := range r.Keywords {
			if len(k) >= 3 {
				out[k[:3]] = append(out[k[:3]], k)
			}
		}
	}
	return out
}

// covers reports whether another rule reports v: a token with one of the
// prefixes and nothing in it a token does not hold, or a signed JWT.
func (p tokenPrefixes) covers(v string) bool {
	if len(v) < 4 {
		return false
	}
	if strings.HasPrefix(v, "eyJ") {
		return validJWT(Candidate{Secret: v})
	}
	ks := p[v[:3]]
	if len(ks) == 0 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-.+/=~$:", c) >= 0) {
			return false
		}
	}
	for _, k := range ks {
		if len(v) > len(k) && strings.HasPrefix(v, k) {
			return true
		}
	}
	return false
}

// isReference reports whether v refers to a secret kept elsewhere: a
// shell, Maven, Go-template, Ruby or Windows variable.
func isReference(v string) bool {
	if strings.HasPrefix(v, "$") || strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%") {
		return true
	}
	for _, r := range []string{"${", "$(", "{{", "#{", "@{", "%("} {
		if strings.Contains(v, r) {
			return true
		}
	}
	return false
}

// angleRe matches the markup of placeholders: <password>, <your token>.
var angleRe = regexp.MustCompile(`<[A-Za-z][A-Za-z0-9_ .-]*>`)

var angleBrackets = strings.NewReplacer("<", "!", ">", "!")

// passwordStopwords mark the passwords of documentation and examples.
var passwordStopwords = []string{
	"xxx", "***", "changeme", "change_me", "change-me", "placeholder", "example", "your", "redacted",
	"dummy", "fake", "sample", "token", "replace", "insert", "todo", "fixme", "notreal", "notasecret",
}

// plausiblePassword reports whether pw, the password of user (or ""),
// found where a file's format puts a password, is a real one: not a
// placeholder, a reference, a default or a word, and not whitespace.
// The format is the context, so the bar is lower than for a value
// assigned to any secret-like name: six characters of some variety.
func plausiblePassword(pw, user string) bool {
	if len(pw) < 6 || len(pw) > 1024 || !utf8.ValidString(pw) {
		return false
	}
	for i := 0; i < len(pw); i++ {
		if pw[i] <= ' ' || pw[i] == 0x7f {
			return false
		}
	}
	if isReference(pw) || angleRe.MatchString(pw) {
		return false
	}
	// Random passwords hold < and > (Terraform's random_password does by
	// default), which isPlaceholder takes for markup: markup is what
	// angleRe found.
	if isPlaceholder(angleBrackets.Replace(pw)) {
		return false
	}
	lpw := strings.ToLower(pw)
	if weakPasswords[lpw] || user != "" && strings.EqualFold(pw, user) {
		return false
	}
	for _, w := range passwordStopwords {
		if strings.Contains(lpw, w) {
			return false
		}
	}
	if isExamplePassword(pw) || placeholderRe.MatchString(pw) {
		return false
	}
	e := shannon(pw)
	if len(pw) < 12 {
		lower, upper, digit, other := charClasses(pw)
		classes := 0
		for _, b := range []bool{lower, upper, digit, other} {
			if b {
				classes++
			}
		}
		return classes >= 2 && e >= 2.5 && !wordy(pw)
	}
	return e >= 3.0
}

// decodeStdBase64 decodes base64 in the standard alphabet, padded or not.
func decodeStdBase64(s string) ([]byte, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	return b, err == nil
}

// userPassword splits user:password, the decoded form of a basic auth
// value, when it is text.
func userPassword(b []byte) (user, pw string, ok bool) {
	if !utf8.Valid(b) {
		return "", "", false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return "", "", false
		}
	}
	user, pw, ok = strings.Cut(string(b), ":")
	return user, pw, ok && user != "" && len(user) <= 256
}

// validDockerAuth keeps an auth value that is base64 of user:password
// with a plausible password. A Google service-account key
// (_json_key) is left to the private-key rule, which finds the key in
// the decoded value, as a token password is left to its rule.
func validDockerAuth(c Candidate, known tokenPrefixes) bool {
	if len(c.Secret) < 8 {
		return false
	}
	b, ok := decodeStdBase64(c.Secret)
	if !ok {
		return false
	}
	user, pw, ok := userPassword(b)
	if !ok || user == "_json_key" || known.covers(pw) || !notPlaceholder(Candidate{Secret: user}) {
		return false
	}
	return plausiblePassword(pw, user)
}

// validNetrc keeps the password of a .netrc entry for a real host: one
// with a dot in its name (a domain or an address), not a placeholder or
// an example, and a plausible password that is not the login.
func validNetrc(c Candidate, known tokenPrefixes) bool {
	host, login, ok := netrcEntry(c)
	if !ok || !strings.Contains(host, ".") || strings.Contains(strings.ToLower(host), "example") ||
		!notPlaceholder(Candidate{Secret: host}) || isReference(host) {
		return false
	}
	return !known.covers(c.Secret) && plausiblePassword(c.Secret, login)
}

// netrcEntry returns the host and login of the .netrc entry whose
// password is c, read from the entry's start, at most a window back.
func netrcEntry(c Candidate) (host, login string, ok bool) {
	head := c.Data[max(0, c.Start-1100):c.Start]
	// The last "machine" that is a token of its own (not part of a
	// login like ci-machine-user).
	i := len(head)
	for {
		i = bytes.LastIndex(head[:i], []byte("machine"))
		if i < 0 {
			return "", "", false
		}
		e := i + len("machine")
		if (i == 0 || strings.IndexByte(" \t\r\n\"'`", head[i-1]) >= 0) && e < len(head) && strings.IndexByte(" \t\r\n", head[e]) >= 0 {
			break
		}
	}
	f := strings.Fields(string(head[i:]))
	if len(f) < 3 {
		return "", "", false
	}
	host = f[1]
	for k := 2; k+1 < len(f); k += 2 {
		if f[k] == "login" {
			login = f[k+1]
		}
	}
	return host, login, true
}

// validMavenPassword keeps a password in a <server> or <proxy> entry of
// a Maven settings file, unless Maven-encrypted ({...}) or a property
// reference (${env.PASSWORD}).
func validMavenPassword(c Candidate, known tokenPrefixes) bool {
	s := c.Secret
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		return false // encrypted with the master password
	}
	return inMavenEntry(c.Data, c.Start) && !known.covers(s) && plausiblePassword(s, "")
}

// inMavenEntry reports whether the element at pos is inside a <server>
// or <proxy>: the nearest such tag before it, a window back, opens one.
func inMavenEntry(d []byte, pos int) bool {
	from := max(0, pos-512)
	for i := pos; i > from; {
		j := bytes.LastIndexByte(d[from:i], '<')
		if j < 0 {
			return false
		}
		j += from
		tag := d[j:min(len(d), j+10)]
		for _, t := range []string{"<server>", "<proxy>"} {
			if bytes.HasPrefix(tag, []byte(t)) {
				return true
			}
		}
		for _, t := range []string{"</server>", "</proxy>", "<servers>", "<proxies>"} {
			if bytes.HasPrefix(tag, []byte(t)) {
				return false
			}
		}
		i = j
	}
	return false
}

// validNpmrc keeps an npm or Yarn credential: a token that is not a
// reference or a code expression, or the base64 of a password or of
// user:password, as npm writes them.
func validNpmrc(c Candidate, known tokenPrefixes) bool {
	v := c.Secret
	if isReference(v) || !notPlaceholder(c) {
		return false
	}
	switch npmrcName(c) {
	case "_authToken", "npmAuthToken":
		if len(v) < 16 || known.covers(v) || identChainRe.MatchString(v) || wordy(v) {
			return false
		}
		_, _, digit, _ := charClasses(v)
		return digit && shannon(v) >= 3.0
	case "_auth":
		b, ok := decodeStdBase64(v)
		if !ok {
			return false
		}
		user, pw, ok := userPassword(b)
		return ok && !known.covers(pw) && plausiblePassword(pw, user)
	case "npmAuthIdent":
		user, pw, ok := userPassword([]byte(v))
		if !ok {
			b, decoded := decodeStdBase64(v)
			if !decoded {
				return false
			}
			if user, pw, ok = userPassword(b); !ok {
				return false
			}
		}
		return !known.covers(pw) && plausiblePassword(pw, user)
	case "_password":
		b, ok := decodeStdBase64(v)
		if !ok || !utf8.Valid(b) {
			return false
		}
		pw := string(b)
		return !known.covers(pw) && plausiblePassword(pw, "")
	}
	return false
}

// npmrcName returns the name a value of the npmrc-auth rule is assigned
// to, read back from the value over the operator.
func npmrcName(c Candidate) string {
	i := c.Start
	for i > 0 && i > c.Start-8 && strings.IndexByte(" \t=:\"'", c.Data[i-1]) >= 0 {
		i--
	}
	for _, n := range []string{"_authToken", "_auth", "_password", "npmAuthToken", "npmAuthIdent"} {
		if i >= len(n) && string(c.Data[i-len(n):i]) == n {
			return n
		}
	}
	return ""
}

// pypiSections name the sections of a .pypirc whatever the file is
// called.
var pypiSections = map[string]bool{"pypi": true, "testpypi": true}

// validPypirc keeps the password of a package index in a .pypirc: the
// key starts its line, in a section named pypi or testpypi, or with a
// repository URL, or in any section of a file named .pypirc; and the
// password is plausible.
func validPypirc(c Candidate, known tokenPrefixes) bool {
	d := c.Data
	ls := bytes.LastIndexByte(d[:c.Start], '\n') + 1
	if !bytes.HasPrefix(bytes.TrimLeft(d[ls:c.Start], " \t"), []byte("password")) {
		return false
	}
	base := path.Base(c.Path)
	named := base == ".pypirc" || base == "pypirc" || strings.HasSuffix(base, ".pypirc")
	// The section's lines, back to its header: a few short lines.
	repository := false
	for n, end := 0, ls; n < 16 && end > 0; n++ {
		s := max(0, end-512)
		if k := bytes.LastIndexByte(d[s:end-1], '\n'); k >= 0 {
			s += k + 1
		} else if s > 0 {
			return false // a line too long for an INI file
		}
		line := bytes.TrimSpace(d[s : end-1])
		if bytes.HasPrefix(line, []byte("[")) {
			name, _, ok := bytes.Cut(line[1:], []byte("]"))
			return ok && (named || repository || pypiSections[strings.ToLower(string(name))]) &&
				!known.covers(c.Secret) && plausiblePassword(c.Secret, "")
		}
		if k := bytes.IndexAny(line, "=:"); k > 0 && string(bytes.TrimSpace(line[:k])) == "repository" {
			v := bytes.TrimSpace(line[k+1:])
			repository = bytes.HasPrefix(v, []byte("https://")) || bytes.HasPrefix(v, []byte("http://"))
		}
		end = s
	}
	return false
}

// gppExamplePrefix starts the cpassword of Microsoft's documentation,
// copied into countless write-ups of MS14-025.
const gppExamplePrefix = "edBSHOwhZLTjt/QS9FeI"

// validCPassword keeps a cpassword that is AES ciphertext, whole blocks
// of it, other than Microsoft's example.
func validCPassword(c Candidate) bool {
	if strings.HasPrefix(c.Secret, gppExamplePrefix) {
		return false
	}
	b, ok := decodeStdBase64(c.Secret)
	return ok && len(b) >= 16 && len(b)%16 == 0 && shannon(c.Secret) >= 3.5
}
