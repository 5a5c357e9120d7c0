package detectors

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"
)

// structuredRuns returns the runs of data that a file format encodes on
// its own terms: each with the text to scan in its place. They replace
// the runs findEncoded found over the same bytes (see withStructured).
// It is called on a blob's own content only, not on decoded text.
//
// Two formats are read: Kubernetes Secret manifests, whose data: values
// are base64 (see k8sSecrets), and Terraform states, whose secrets sit
// in attributes that only the resource type says are secrets (see
// tfstateRuns). Each is recognised by its content, not its path: a
// manifest may be called anything, and a state is often renamed.
func structuredRuns(path string, data []byte, st *scanState) []encoded {
	var runs []encoded
	if isTFState(data) {
		runs = append(runs, tfstateRuns(data, st)...)
	}
	st.steps += len(data) // hasSecretKind
	if hasSecretKind(data) {
		for _, s := range k8sSecrets(data, st) {
			runs = append(runs, k8sRuns(s, st)...)
		}
	}
	return runs
}

// hasSecretKind reports whether data says kind: Secret, in YAML or JSON:
// the word kind, a colon, and Secret, quoted or not.
func hasSecretKind(data []byte) bool {
	for i := 0; ; {
		k := bytes.Index(data[i:], []byte("kind"))
		if k < 0 {
			return false
		}
		j := i + k + len("kind")
		i = j
		if j < len(data) && data[j] == '"' {
			j++
		}
		for j < len(data) && (data[j] == ' ' || data[j] == '\t') {
			j++
		}
		if j >= len(data) || data[j] != ':' {
			continue
		}
		j++
		for j < len(data) && (data[j] == ' ' || data[j] == '\t') {
			j++
		}
		if j < len(data) && (data[j] == '"' || data[j] == '\'') {
			j++
		}
		if !hasPrefixAt(data, j, "Secret") {
			continue
		}
		j += len("Secret")
		if j == len(data) || strings.IndexByte("\"' \t\r\n,}", data[j]) >= 0 {
			return true
		}
	}
}

// withStructured adds the structured runs to the runs findEncoded found,
// dropping those of its runs that overlap a structured one: the format
// says better what that text is (a Secret's value decoded with its key,
// an AWS key id with its secret), and the same value decoded twice
// would be reported twice.
func withStructured(runs, structured []encoded) []encoded {
	if len(structured) == 0 {
		return runs
	}
	spans := make([]window, len(structured))
	for i, s := range structured {
		spans[i] = window{s.start, s.end}
	}
	set := newSpanSet(spans)
	out := runs[:0:0]
	for _, r := range runs {
		if !set.overlaps(r.start, r.end) {
			out = append(out, r)
		}
	}
	return append(out, structured...)
}

// k8sEntry is one value of a Secret's data: its key, where its base64
// text is in the blob, and that text.
type k8sEntry struct {
	key        string
	start, end int
	value      string
}

// k8sSecrets returns the data: entries of each Secret (kind: Secret) the
// blob holds, as a YAML manifest (one document or several, or a List's
// items) or as JSON.
func k8sSecrets(data []byte, st *scanState) [][]k8sEntry {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		v := &k8sJSON{}
		walkJSON(data, v, st)
		return v.secrets
	}
	return k8sYAML(data, st)
}

// k8sRuns turns a Secret's entries into runs: each value decoded, and
// scanned as `key="value"` (or, when it spans lines or holds a quote,
// the key on a line and the value below), so that the generic rule
// sees the key it is assigned to. An entry that holds an AWS key id is
// scanned together with the entry that holds its secret access key (and
// a session token, for a temporary key), the run spanning both, so that
// they pair; the pairs are those pairAWS would choose if the entries
// were lines of one file. The runs say "base64": Decoded names the
// encodings a secret went through, as it does when findEncoded decodes
// the same value.
func k8sRuns(entries []k8sEntry, st *scanState) []encoded {
	type decodedEntry struct {
		k8sEntry
		text []byte
	}
	var ds []decodedEntry
	for _, e := range entries {
		// However long, an entry is decoded whole: the decode budget
		// bounds what its text costs to scan.
		st.steps += len(e.value)
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, e.value)
		b, ok := decodeStdBase64(clean)
		if !ok || len(b) == 0 || !utf8.Valid(b) {
			continue
		}
		b = bytes.TrimRight(b, "\r\n") // echo secret | base64
		if len(b) == 0 || !isTextBytes(b) {
			continue
		}
		ds = append(ds, decodedEntry{e, b})
	}
	if len(ds) == 0 {
		return nil
	}

	// AWS key ids and the values that may be their secrets, by entry.
	var ids []int
	var idLines []int
	var cands, tokens []secretCandidate
	for i, d := range ds {
		v := string(bytes.TrimSpace(d.text))
		switch {
		case isAWSKeyID(v):
			ids = append(ids, i)
			idLines = append(idLines, i+1)
		case len(v) == 40 && allBase64Bytes(v) && plausibleAWSSecret(v):
			cands = append(cands, secretCandidate{value: v, start: i, line: i + 1, context: strings.Contains(strings.ToLower(d.key), "secret")})
		case len(v) >= 100 && isSessionToken(d.key, v):
			tokens = append(tokens, secretCandidate{value: v, start: i, line: i + 1})
		}
	}
	grouped := make([]bool, len(ds))
	var runs []encoded
	if len(ids) > 0 && len(cands) > 0 {
		secretOf := pairSecrets(idLines, cands, st)
		for k, i := range ids {
			if secretOf[k] < 0 {
				continue
			}
			group := []int{i, cands[secretOf[k]].start}
			if strings.HasPrefix(string(bytes.TrimSpace(ds[i].text)), "ASIA") {
				if t := nearestToken(tokens, i+1); t >= 0 {
					group = append(group, tokens[t].start)
				}
			}
			sort.Ints(group)
			run := encoded{start: ds[group[0]].start, end: ds[group[0]].end, how: "base64"}
			for _, g := range group {
				grouped[g] = true
				run.start, run.end = min(run.start, ds[g].start), max(run.end, ds[g].end)
				run.text = appendEntry(run.text, ds[g].key, ds[g].text)
			}
			runs = append(runs, run)
		}
	}
	for i, d := range ds {
		if !grouped[i] {
			runs = append(runs, encoded{start: d.start, end: d.end, how: "base64", text: appendEntry(nil, d.key, d.text)})
		}
	}
	return runs
}

// appendEntry appends a Secret's entry as text to scan: `key="value"`
// on a line, or the key on a line and the value below it when the value
// spans lines or holds a quote or a backslash.
func appendEntry(b []byte, key string, value []byte) []byte {
	k := []byte(key)
	for i, c := range k {
		if !isNameByte(c) {
			k[i] = '_'
		}
	}
	b = append(b, k...)
	if bytes.ContainsAny(value, "\"\\\n\r") {
		b = append(b, ":\n"...)
		b = append(b, value...)
		return append(b, '\n')
	}
	b = append(b, `="`...)
	b = append(b, value...)
	return append(b, "\"\n"...)
}

// isTextBytes reports whether b is printable text (line breaks and tabs
// allowed), however short.
func isTextBytes(b []byte) bool {
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// isAWSKeyID reports whether v is an AWS access key id, as the key id
// rule would report it.
func isAWSKeyID(v string) bool {
	if len(v) != 20 || strings.HasSuffix(v, "EXAMPLE") {
		return false
	}
	switch v[:4] {
	case "AKIA", "ASIA", "ABIA", "ACCA":
	default:
		if v[:3] != "A3T" || !(v[3] >= 'A' && v[3] <= 'Z' || v[3] >= '0' && v[3] <= '9') {
			return false
		}
	}
	for i := 4; i < 20; i++ {
		if c := v[i]; !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

func allBase64Bytes(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isBase64Byte(v[i]) {
			return false
		}
	}
	return true
}

// isSessionToken reports whether v, the value of key, is an STS session
// token, as awsSessionTokens would take it.
func isSessionToken(key, v string) bool {
	body := strings.TrimRight(v, "=")
	if !allBase64Bytes(body) {
		return false
	}
	for _, p := range sessionTokenPrefixes {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	lk := strings.ToLower(key)
	for _, n := range sessionNames {
		if strings.Contains(lk, n) {
			return true
		}
	}
	return false
}

// k8sYAML returns the data: entries of the Secrets in a YAML stream.
//
// It reads lines, not YAML: a mapping is the run of lines whose keys
// start in one column, and a Secret is a mapping with `kind: Secret` and
// a `data:` key whose entries are the next mapping in. That is how
// kubectl, Helm and people write manifests, and it takes one pass.
func k8sYAML(data []byte, st *scanState) [][]k8sEntry {
	st.steps += len(data)
	type mapping struct {
		col     int
		secret  bool // kind: Secret
		entries []k8sEntry
		data    bool // this mapping is a data: block
		lastKey string
	}
	var out [][]k8sEntry
	var stack []*mapping
	closeTo := func(col int, inclusive bool) {
		for n := len(stack); n > 0; n = len(stack) {
			m := stack[n-1]
			if m.col < col || m.col == col && !inclusive {
				return
			}
			stack = stack[:n-1]
			if m.data && n >= 2 {
				stack[n-2].entries = append(stack[n-2].entries, m.entries...)
				continue
			}
			if m.secret && len(m.entries) > 0 {
				out = append(out, m.entries)
			}
		}
	}
	for pos := 0; pos < len(data); {
		ls := pos
		le := bytes.IndexByte(data[pos:], '\n')
		if le < 0 {
			le = len(data)
		} else {
			le += pos
		}
		pos = le + 1
		line := data[ls:le]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) {
			closeTo(0, true)
			continue
		}
		col := 0
		for col < len(line) && line[col] == ' ' {
			col++
		}
		if col == len(line) || line[col] == '#' || bytes.HasPrefix(line[col:], []byte("{{")) {
			continue // blank, a comment, a template directive
		}
		item := false
		for col+1 < len(line) && line[col] == '-' && line[col+1] == ' ' {
			item = true
			col += 2
			for col < len(line) && line[col] == ' ' {
				col++
			}
		}
		closeTo(col, item)
		key, vs, ve, ok := yamlKeyValue(line, col)
		if !ok {
			continue
		}
		var m *mapping
		if n := len(stack); n > 0 && stack[n-1].col == col {
			m = stack[n-1]
		} else {
			m = &mapping{col: col}
			if n := len(stack); n > 0 && stack[n-1].lastKey == "data" && stack[n-1].col < col {
				m.data = true
			}
			stack = append(stack, m)
		}
		value := line[vs:ve]
		m.lastKey = key
		switch {
		case m.data:
			start, end, v := ls+vs, ls+ve, string(value)
			if isBlockIndicator(value) {
				// A block scalar: the lines below, indented further.
				start, end, v, pos = blockScalar(data, pos, col)
			}
			m.entries = append(m.entries, k8sEntry{key: key, start: start, end: end, value: v})
		case key == "kind":
			m.secret = string(value) == "Secret"
		}
	}
	closeTo(0, true)
	return out
}

// yamlKeyValue reads `key: value` at col of line: the key (unquoted),
// and where the value is in line, without quotes or a trailing comment.
func yamlKeyValue(line []byte, col int) (key string, vs, ve int, ok bool) {
	i := col
	var k []byte
	if i < len(line) && (line[i] == '"' || line[i] == '\'') {
		q := line[i]
		j := bytes.IndexByte(line[i+1:], q)
		if j < 0 {
			return "", 0, 0, false
		}
		k = line[i+1 : i+1+j]
		i += j + 2
	} else {
		for i < len(line) && line[i] != ':' && line[i] != ' ' {
			i++
		}
		k = line[col:i]
	}
	for i < len(line) && line[i] == ' ' {
		i++
	}
	if i >= len(line) || line[i] != ':' || len(k) == 0 || i+1 < len(line) && line[i+1] != ' ' {
		return "", 0, 0, false
	}
	i++
	for i < len(line) && line[i] == ' ' {
		i++
	}
	vs, ve = i, len(line)
	if vs < ve && (line[vs] == '"' || line[vs] == '\'') {
		j := bytes.IndexByte(line[vs+1:], line[vs])
		if j < 0 {
			return "", 0, 0, false
		}
		return string(k), vs + 1, vs + 1 + j, true
	}
	if c := bytes.Index(line[vs:], []byte(" #")); c >= 0 {
		ve = vs + c
	}
	for ve > vs && line[ve-1] == ' ' {
		ve--
	}
	return string(k), vs, ve, true
}

// isBlockIndicator reports whether a value starts a block scalar: |, >,
// with a chomping or indentation indicator.
func isBlockIndicator(v []byte) bool {
	if len(v) == 0 || v[0] != '|' && v[0] != '>' {
		return false
	}
	for _, c := range v[1:] {
		if c != '-' && c != '+' && !(c >= '1' && c <= '9') {
			return false
		}
	}
	return true
}

// blockScalar reads the lines of a block scalar from pos, those indented
// past col (and blank ones between), and returns where its text is, the
// text, and where the next line starts.
func blockScalar(data []byte, pos, col int) (start, end int, value string, next int) {
	start, end = -1, -1
	var b strings.Builder
	for pos < len(data) {
		le := bytes.IndexByte(data[pos:], '\n')
		if le < 0 {
			le = len(data)
		} else {
			le += pos
		}
		line := bytes.TrimRight(data[pos:le], "\r")
		ind := 0
		for ind < len(line) && line[ind] == ' ' {
			ind++
		}
		if ind < len(line) && ind <= col {
			break
		}
		if ind < len(line) {
			if start < 0 {
				start = pos + ind
			}
			end = pos + len(line)
			b.Write(line[ind:])
			b.WriteByte('\n')
		}
		pos = le + 1
	}
	if start < 0 {
		return pos, pos, "", pos
	}
	return start, end, b.String(), pos
}

// k8sJSON collects the Secrets of a JSON document (a Secret, a List, or
// anything holding them): objects with "kind": "Secret", whose "data"
// member's string members are the entries.
type k8sJSON struct {
	secrets [][]k8sEntry
}

func (k *k8sJSON) value(data []byte, stack []*jsonFrame, str bool, start, end int) {
	n := len(stack)
	top := stack[n-1]
	if !str || !top.object {
		return
	}
	switch {
	case top.key == "kind":
		top.kind, _ = jsonString(data[start:end])
	case top.name == "data" && n >= 2 && stack[n-2].object:
		if v, ok := jsonString(data[start:end]); ok {
			stack[n-2].entries = append(stack[n-2].entries, k8sEntry{key: top.key, start: start + 1, end: end - 1, value: v})
		}
	}
}

func (k *k8sJSON) closed(data []byte, stack []*jsonFrame) {
	if f := stack[len(stack)-1]; f.object && f.kind == "Secret" && len(f.entries) > 0 {
		k.secrets = append(k.secrets, f.entries)
	}
}
