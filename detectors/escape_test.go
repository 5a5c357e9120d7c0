package detectors

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// escJSON returns s as a JSON string, slashes escaped as PHP and
// many API servers write them.
func escJSON(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return strings.ReplaceAll(string(b), "/", `\/`)
}

// escSlashes escapes the slashes of s as JSON may.
func escSlashes(s string) string { return strings.ReplaceAll(s, "/", `\/`) }

// escEntities writes the slashes and pluses of s as XML character
// references, hex and decimal in turn.
func escEntities(s string) string {
	var b strings.Builder
	for i, c := range []byte(s) {
		switch {
		case c == '/' && i%2 == 0:
			b.WriteString("&#x2F;")
		case c == '/':
			b.WriteString("&#47;")
		case c == '+':
			b.WriteString("&#43;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// escNotebook returns a Jupyter notebook with one code cell of lines.
func escNotebook(lines ...string) string {
	src := make([]string, len(lines))
	for i, l := range lines {
		src[i] = "    " + escJSON(l+"\n")
	}
	return "{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",\n   \"metadata\": {},\n   \"source\": [\n" +
		strings.Join(src, ",\n") + "\n   ]\n  }\n ],\n \"nbformat\": 4\n}\n"
}

// escNotebookCells returns a Jupyter notebook with a code cell for each
// of cells, its lines.
func escNotebookCells(cells ...[]string) string {
	var out []string
	for _, lines := range cells {
		src := make([]string, len(lines))
		for i, l := range lines {
			src[i] = "    " + escJSON(l+"\n")
		}
		out = append(out, "  {\n   \"cell_type\": \"code\",\n   \"execution_count\": null,\n   \"metadata\": {},\n   \"outputs\": [],\n   \"source\": [\n"+
			strings.Join(src, ",\n")+"\n   ]\n  }")
	}
	return "{\n \"cells\": [\n" + strings.Join(out, ",\n") + "\n ],\n \"nbformat\": 4\n}\n"
}

// escWant is a match as these tests see it: At is the text of the data
// it must be placed on, the first occurrence of it.
type escWant struct {
	Rule, Secret, KeyID, Decoded, At string
}

func TestEscapedSecrets(t *testing.T) {
	t.Parallel()
	// Secrets with a slash and a plus, made at run time.
	secret := fake("esc-secret", `A-Za-z0-9`, 12) + "/" + fake("esc-secret2", `A-Za-z0-9`, 14) + "+" + fake("esc-secret3", `A-Za-z0-9`, 12)
	secretB := fake("esc-b1", `A-Za-z0-9`, 20) + "/" + fake("esc-b2", `A-Za-z0-9`, 19)
	id := "AKIA" + fake("esc-id", `A-Z2-7`, 16)
	pw := fake("esc-pw", `A-Za-z0-9`, 14) + "#" + fake("esc-pw2", `A-Za-z0-9`, 5)
	hook := "https://hooks.slack.com/services/T" + fake("esc-t", `A-Z0-9`, 8) + "/B" + fake("esc-b", `A-Z0-9`, 8) + "/" + fake("esc-h", `A-Za-z0-9`, 24)
	gh := "ghp_" + fake("esc-gh", `A-Za-z0-9`, 36)

	nb := escNotebook("import boto3", "aws_access_key_id = \""+id+"\"", "aws_secret_access_key = \""+secret+"\"", "s3 = boto3.client('s3')")
	inner := `{"aws_access_key_id": "` + id + `", "aws_secret_access_key": "` + escSlashes(secretB) + `"}`
	jsonInJSON := `{"event": "upload", "body": ` + escJSON(inner) + "}\n"
	// Credentials whose base64 holds a slash, in a JSON string that
	// escapes it.
	// The base64 of ASCII text holds a slash only where a '?' ends a
	// group of three bytes.
	var b64 string
	for n := 0; !strings.Contains(b64, "/"); n++ {
		b64 = base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n#%*s ok?\n", id, secretB, n, "")))
	}
	glued := "AKIA" + fake("esc-glued", `A-Z2-7`, 16)
	id2 := "AKIA" + fake("esc-id2", `A-Z2-7`, 16)
	plain := fake("esc-plain", `A-Za-z0-9`, 40)
	other := fake("esc-o1", `A-Za-z0-9`, 25) + "/" + fake("esc-o2", `A-Za-z0-9`, 14)

	tests := []struct {
		name, path, data string
		want             []escWant
	}{
		{"notebook: escaped secret, key id on the line above", "aws.ipynb", nb,
			[]escWant{{AWSKeyRule, secret, id, "json-escape", id}}},
		// Directly, both key ids pair with the one secret without a slash.
		{"notebook: two pairs, one secret escaped", "aws.ipynb",
			escNotebook("aws_access_key_id = \""+id+"\"", "aws_secret_access_key = \""+secret+"\"",
				"aws_access_key_id = \""+id2+"\"", "aws_secret_access_key = \""+plain+"\""),
			[]escWant{{AWSKeyRule, secret, id, "json-escape", id}, {AWSKeyRule, plain, id2, "", id2}}},
		{"notebook: key id and secret in neighbouring cells", "aws.ipynb",
			escNotebookCells([]string{"import boto3", "key_id = \"" + id + "\""}, []string{"key = \"" + secret + "\"", "print(key_id)"}),
			[]escWant{{AWSKeyRule, secret, id, "json-escape", id}}},
		{"notebook: assignments without quotes", "creds.ipynb",
			escNotebook("aws_access_key_id = "+id, "aws_secret_access_key = "+secret),
			[]escWant{{AWSKeyRule, secret, id, "json-escape", id}}},
		{"credentials file in one json string", "dump.json",
			`{"user": "ci", "file": ` + escJSON("[default]\naws_access_key_id = "+id+"\naws_secret_access_key = "+secret+"\n") + "}\n",
			[]escWant{{AWSKeyRule, secret, id, "json-escape", id}}},
		{"notebook: key id alone stays alone", "aws.ipynb", escNotebook("key = \""+id+"\"", "print(\"done\")"),
			[]escWant{{AWSKeyIDRule, id, id, "", id}}},
		{"api dump: escaped slashes in a webhook", "hooks.json", `{"name":"deploy","url":` + escJSON(hook) + `,"active":true}`,
			[]escWant{{"slack-webhook", hook, "", "json-escape", escSlashes(hook)}}},
		{"token after an escaped line break", "log.json", `{"msg": "rotated\n` + gh + `\nok"}`,
			[]escWant{{"github-token", gh, "", "json-escape", gh}}},
		{"token behind a unicode escape", "msg.json", `{"token": "\u0067` + gh[1:] + `"}`,
			[]escWant{{"github-token", gh, "", "json-escape", `\u0067` + gh[1:]}}},
		{"key id after a surrogate pair and a line break", "chat.json", `{"text": "keys \ud83d\ude80\n` + glued + `"}`,
			[]escWant{{AWSKeyIDRule, glued, glued, "json-escape", glued}}},
		{"escaped json in yaml", "configmap.yaml", "data:\n  config.json: \"{\\\"db_password\\\": \\\"" + pw + "\\\"}\"\n",
			[]escWant{{GenericRule, pw, "", "json-escape", pw}}},
		{"json in a json string", "event.json", jsonInJSON,
			[]escWant{{AWSKeyRule, secretB, id, "json-escape+json-escape", id}}},
		{"base64 in a json string", "vars.json", `{"name": "ci", "vars": {"credentials": "` + escSlashes(b64) + `"}}`,
			[]escWant{{AWSKeyRule, secretB, id, "json-escape+base64", escSlashes(b64)}}},
		{"xml config", "aws.xml", "<config>\n  <aws>\n    <region>eu-west-1</region>\n    <accessKeyId>" + id +
			"</accessKeyId>\n    <secretAccessKey>" + escEntities(secret) + "</secretAccessKey>\n  </aws>\n</config>\n",
			[]escWant{{AWSKeyRule, secret, id, "xml-entity", id}}},
		{".net config", "web.config", "<appSettings>\n  <add key=\"AWSAccessKey\" value=\"" + id + "\" />\n  <add key=\"AWSSecretKey\" value=\"" +
			escEntities(secret) + "\" />\n</appSettings>\n",
			[]escWant{{AWSKeyRule, secret, id, "xml-entity", id}}},
		{"html dump: webhook in entities", "page.html", "<tr><td>hook</td><td>" + escEntities(hook) + "</td></tr>\n",
			[]escWant{{"slack-webhook", hook, "", "xml-entity", escEntities(hook)}}},
		{"html attribute: json in entities", "page.html", `<div data-config="{&quot;api_token&quot;: &quot;` + pw + `&quot;}"></div>` + "\n",
			[]escWant{{GenericRule, pw, "", "xml-entity", pw}}},
		{"a pair found directly is not reported again", "creds.json",
			"aws_secret_access_key = " + secretB + "\n" + strings.Repeat("x = 1\n", 8) + "aws_access_key_id = " + id + "\n" +
				`note = "a\/b\/c\/d\/e\/f\/g"` + "\n",
			[]escWant{{AWSKeyRule, secretB, id, "", id}}},
		{"a direct pair with its secret beyond the escaped text stands", "creds.json",
			"aws_secret_access_key = " + secretB + "\n" + strings.Repeat("x = 1\n", 9) + "aws_access_key_id = " + id + "\n" +
				`{"other": "` + escSlashes(other) + `"}` + "\n",
			[]escWant{{AWSKeyRule, secretB, id, "", id}}},
	}
	e := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ms, cov := e.ScanCoverage(tt.path, []byte(tt.data))
			var got []escWant
			for _, m := range ms {
				if m.Start < 0 || m.End > len(tt.data) || m.Start > m.End {
					t.Fatalf("%s at [%d,%d) outside the data", m.RuleID, m.Start, m.End)
				}
				w := escWant{m.RuleID, m.Secret, m.KeyID, m.Decoded, tt.data[m.Start:m.End]}
				if i := strings.Index(tt.data, w.At); i != m.Start {
					t.Errorf("%s placed at %d, but %q first occurs at %d", m.RuleID, m.Start, w.At, i)
				}
				got = append(got, w)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if cov.Undecoded != 0 {
				t.Errorf("%d runs undecoded", cov.Undecoded)
			}
		})
	}
}

func TestEscapesHideNothing(t *testing.T) {
	t.Parallel()
	id := "AKIA" + fake("quiet-id", `A-Z2-7`, 16)
	secret := fake("quiet-s", `A-Za-z0-9`, 20) + "/" + fake("quiet-s2", `A-Za-z0-9`, 19)
	tests := []struct{ name, path, data string }{
		{"aws documented example, escaped", "example.ipynb",
			escNotebook("aws_access_key_id = 'AKIAIOSFODNN7EXAMPLE'", "aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'")},
		{"an escaped aws secret with no key id", "cell.json", `{"source": ["value = \"` + escSlashes(secret) + `\"\n"]}`},
		{"placeholders in entities", "page.html", "<pre>{&quot;password&quot;: &quot;changeme&quot;, &quot;token&quot;: &quot;&lt;your-token&gt;&quot;}</pre>\n"},
		{"paths and line breaks", "paths.json", `{"dir": "C:\\Users\\builder\\AppData\\Local\\Temp", "log": "line one\nline two\n"}`},
		{"html with links", "index.html", `<a href="/search?q=keys&amp;page=2&amp;sort=desc">next &gt;</a> &copy; 2024` + "\n"},
		{"escaped json without secrets", "event.json", `{"body": "{\"user\": \"builder\", \"items\": [1, 2, 3], \"url\": \"https:\/\/example.com\/a\/b\"}"}`},
		{"key id inside an escaped base64 blob", "img.json",
			`{"img": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk` + id + `\/wAAQUBAScY42YAAAAASUVORK5CYII="}`},
	}
	e := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if ms := e.Scan(tt.path, []byte(tt.data)); len(ms) != 0 {
				t.Errorf("Scan() = %+v, want no findings", ms)
			}
		})
	}
}

func TestUnescape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind     escapeKind
		in, want string
	}{
		{jsonEscapes, `a\"b\\c\/d\be\ff\ng\rh\ti`, "a\"b\\c/d\be\ff\ng\rh\ti"},
		{jsonEscapes, `\u0041\u00e9\u20ac\ud83d\ude80`, "Aé€\U0001F680"},
		{jsonEscapes, `\\n\\\n\\\\`, "\\n\\\n\\\\"},
		{jsonEscapes, `lone \ud83d and \ude80, \u12 \x41 \' end\`, `lone \ud83d and \ude80, \u12 \x41 \' end\`},
		{xmlEntities, `&amp;&lt;&gt;&quot;&apos;&#47;&#x2F;&#X2f;&#128640;&#0000047;`, "&<>\"'///\U0001F680/"},
		{xmlEntities, `&nbsp; &#; &#x; &#0; &#xD800; &#1114112; &#00000000047; &amp &`, `&nbsp; &#; &#x; &#0; &#xD800; &#1114112; &#00000000047; &amp &`},
	}
	for _, tt := range tests {
		r := escapeRun{0, len(tt.in), tt.kind}
		got := r.decode([]byte(tt.in), &scanState{})
		if string(got.text) != tt.want || got.end != len(tt.in) {
			t.Errorf("%s %q: %q ending at %d, want %q", tt.kind.name(), tt.in, got.text, got.end, tt.want)
		}
	}
}

// TestPlaceSpans: every piece of a text, escaped at random, is placed
// back on exactly the bytes it was escaped to, from a run that starts
// anywhere.
func TestPlaceSpans(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 14))
	forms := map[escapeKind]func(c rune) string{
		jsonEscapes: func(c rune) string {
			switch {
			case c == '\n' && rng.IntN(2) == 0:
				return `\n`
			case c == '"' || c == '\\' || c == '/':
				return `\` + string(c)
			case c > 0xffff:
				hi, lo := (c-0x10000)>>10+0xd800, (c-0x10000)&0x3ff+0xdc00
				return fmt.Sprintf(`\u%04x\u%04X`, hi, lo)
			case rng.IntN(3) == 0:
				return fmt.Sprintf(`\u%04x`, c)
			}
			return string(c)
		},
		xmlEntities: func(c rune) string {
			switch {
			case c == '&':
				return "&amp;"
			case c == '"':
				return "&quot;"
			case rng.IntN(3) == 0:
				return fmt.Sprintf("&#x%X;", c)
			case rng.IntN(3) == 0:
				return fmt.Sprintf("&#%d;", c)
			}
			return string(c)
		},
	}
	alphabet := []rune("ab/\\\"&;\n+=é€\U0001F680")
	for kind, form := range forms {
		for n := 0; n < 300; n++ {
			var src strings.Builder
			var text []rune
			var at [][2]int // where each character's escape is in src
			for range rng.IntN(40) {
				c := alphabet[rng.IntN(len(alphabet))]
				s := form(c)
				at = append(at, [2]int{src.Len(), src.Len() + len(s)})
				src.WriteString(s)
				text = append(text, c)
			}
			data := []byte(src.String())
			enc := escapeRun{0, len(data), kind}.decode(data, &scanState{})
			if string(enc.text) != string(text) {
				t.Fatalf("%s %q decoded to %q, want %q", kind.name(), data, enc.text, string(text))
			}
			// Each span of whole characters, as a match.
			var ms []Match
			var want [][2]int
			for a := 0; a < len(text); a++ {
				b := a + 1 + rng.IntN(len(text)-a)
				s, e := len(string(text[:a])), len(string(text[:b]))
				ms = append(ms, Match{Start: s, End: e})
				want = append(want, [2]int{at[a][0], at[b-1][1]})
			}
			kind.placeSpans(data, 0, len(data), ms, nil, &scanState{})
			for i, m := range ms {
				if m.Start != want[i][0] || m.End != want[i][1] {
					t.Fatalf("%s %q: span %d placed at [%d,%d), want %v", kind.name(), data, i, m.Start, m.End, want[i])
				}
			}
		}
	}
}

// TestEscapeFreeTextCostsNothing: text without escapes, or with only the
// escapes code and markup are full of, is not decoded: no run, no copy,
// none of the decode budget spent. Text without the lead bytes at all
// costs no counted step and no allocation. Not parallel: AllocsPerRun
// counts the process's allocations.
func TestEscapeFreeTextCostsNothing(t *testing.T) {
	plain := []byte(strings.Repeat("func main() { x := y + 1; fmt.Println(x, \"done\") }\n", 2000))
	var st scanState
	if runs := findEscaped(plain, &st); len(runs) != 0 || st.steps != 0 {
		t.Errorf("plain text: %d runs, %d steps; want none", len(runs), st.steps)
	}
	if a := testing.AllocsPerRun(10, func() { findEscaped(plain, &scanState{}) }); a != 0 {
		t.Errorf("plain text: %v allocations, want none", a)
	}
	ordinary := strings.Join([]string{
		`fmt.Printf("usage: %s [flags]\n\t-v\tverbose\n", os.Args[0])`,
		`lines := strings.Split(string(out), "\n")`,
		`msg := "he said \"hi\" and left"`,
		`path := "C:\\Program Files\\Tool\\bin"`,
		`re := regexp.MustCompile("^\\d+\\.\\d+$")`,
		`name := "caf\u00e9 cr\u00e8me"`,
		`if a && b || &x != nil { return &y }`,
		`<p>Terms &amp; conditions &lt;here&gt;: <a href="/a?b=1&amp;c=2">more</a> &copy; &nbsp;</p>`,
		`<script>var s = "<\/script>";</script>`,
		`{"date": "01\/02\/2024", "ok": true}`,
	}, "\n") + "\n"
	st = scanState{budget: decodeBudget{left: maxDecodedBytes}}
	Default().scan("main.go", []byte(ordinary), 0, &st)
	if st.budget.left != maxDecodedBytes {
		t.Errorf("ordinary code: %d bytes decoded, want none", maxDecodedBytes-st.budget.left)
	}
}

func TestEscapedBudgetIsCounted(t *testing.T) {
	t.Parallel()
	// Escapes that count every few lines, far more of them than the
	// budget decodes.
	rng := adversarialRand("escaped-budget")
	line := func(int) string {
		return `{"k": "` + randFrom(rng, advAlnum, 12) + `\/` + randFrom(rng, advAlnum, 12) + `"}` + "\n" + strings.Repeat("plain line of text\n", 8)
	}
	_, cov := Default().ScanCoverage("dump.json", fill(12<<20, line))
	if cov.Undecoded == 0 {
		t.Error("escaped text beyond the budget was not counted")
	}
	if _, cov := Default().ScanCoverage("small.json", fill(64<<10, line)); cov.Undecoded != 0 {
		t.Errorf("small: %d undecoded", cov.Undecoded)
	}
}

// TestEscapeRunsAlign: a run that starts in a long line starts where no
// escape is cut, however many backslashes precede it.
func TestEscapeRunsAlign(t *testing.T) {
	t.Parallel()
	gh := "ghp_" + fake("align-gh", `A-Za-z0-9`, 36)
	for _, pad := range []int{0, 1, 2, 3, 1500, 1501, 3000} {
		data := strings.Repeat(`\\`, pad) + `\u0041` + strings.Repeat(`\\`, pad) + `x=` + `\n` + gh + `\"`
		var got []string
		for _, m := range Default().Scan("x.json", []byte(data)) {
			got = append(got, m.Secret+" at "+data[m.Start:m.End])
		}
		if want := []string{gh + " at " + gh}; !cmp.Equal(got, want) {
			t.Errorf("pad %d: %q, want %q", pad, got, want)
		}
	}
}

// BenchmarkFindEscaped measures the search for escaped runs alone, over
// real code: escapes abound there, and hide nothing. It reports the share
// of the bytes that runs hold, which scanEncoded decodes and scans again.
func BenchmarkFindEscaped(b *testing.B) {
	files := goSourceCorpus(b, 64<<20)
	var n, held int64
	for _, f := range files {
		n += int64(len(f))
	}
	b.SetBytes(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		held = 0
		for _, f := range files {
			for _, r := range findEscaped(f, &scanState{}) {
				held += int64(r.end - r.start)
			}
		}
	}
	b.ReportMetric(100*float64(held)/float64(n), "%escaped")
}

// TestSilentRulesInEscapedText: a silent rule's match in escaped text is
// not reported, and keeps the generic rule off the bytes it came from.
func TestSilentRulesInEscapedText(t *testing.T) {
	t.Parallel()
	e := silenced("github-token")
	gh := "ghp_" + fake("silent-gh", `A-Za-z0-9`, 36)
	for _, data := range []string{
		`{"token": "\u0067` + gh[1:] + `"}`,
		`{"config": "{\"github_token\": \"` + gh + `\"}"}`,
		`<p data-x="{&quot;token&quot;: &quot;` + gh + `&quot;}"></p>`,
	} {
		if ms := e.Scan("a.json", []byte(data)); len(ms) != 0 {
			t.Errorf("%q: %+v, want nothing", data, ms)
		}
	}
}
