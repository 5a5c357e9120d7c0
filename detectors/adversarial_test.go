package detectors

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
)

// Adversarial inputs: blobs built to make a detector slow, each of about
// the size asked for. They are deterministic: the same size gives the same
// bytes. BenchmarkAdversarial measures them and TestScanWorkIsLinear holds
// the scan's work on them to linear growth.

// AdversarialInput is one adversarial blob: Data makes it.
type AdversarialInput struct {
	Name string
	Path string
	Data func() []byte
}

// adversarialRand returns a generator seeded by name.
func adversarialRand(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(h.Sum64(), 0x6b657973776565))
}

func randFrom(rng *rand.Rand, class string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = class[rng.IntN(len(class))]
	}
	return string(b)
}

const (
	advUpper32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	advAlnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	advBase64  = advAlnum + "+/"
)

func advKeyID(rng *rand.Rand) string  { return "AKIA" + randFrom(rng, advUpper32, 16) }
func advSecret(rng *rand.Rand) string { return randFrom(rng, advBase64, 40) }

// fill appends line(i) to a builder until it holds size bytes.
func fill(size int, line func(i int) string) []byte {
	var b strings.Builder
	b.Grow(size + 256)
	for i := 0; b.Len() < size; i++ {
		b.WriteString(line(i))
	}
	return []byte(b.String())
}

// AdversarialInputs returns the adversarial blobs of about size bytes
// each. Each is made when its Data is called, so that only the blob in use
// takes memory.
func AdversarialInputs(size int) []AdversarialInput {
	var out []AdversarialInput
	add := func(name, path string, data func() []byte) {
		out = append(out, AdversarialInput{Name: name, Path: path, Data: data})
	}

	// AWS key ids, one a line: every id is paired against every secret
	// look-alike, and lines are counted for each.
	add("ids", "ids.txt", func() []byte {
		rng := adversarialRand("ids")
		return fill(size, func(int) string { return advKeyID(rng) + "\n" })
	})

	// Secret look-alikes under a secret-like name, with a key id now and
	// then.
	add("secrets", "creds.ini", func() []byte {
		rng := adversarialRand("secrets")
		return fill(size, func(i int) string {
			if i%100 == 0 {
				return "aws_access_key_id = " + advKeyID(rng) + "\n"
			}
			return "aws_secret_access_key = " + advSecret(rng) + "\n"
		})
	})

	// Key ids and secrets in turn: the pairing's worst case.
	add("ids+secrets", "credentials", func() []byte {
		rng := adversarialRand("ids+secrets")
		return fill(size, func(i int) string {
			if i%2 == 0 {
				return "aws_access_key_id = " + advKeyID(rng) + "\n"
			}
			return "aws_secret_access_key = " + advSecret(rng) + "\n"
		})
	})

	// Every keyword of the catalog, each followed by a random value, and
	// secret-like names assigned random values.
	var keywords []string
	for _, r := range Catalog() {
		keywords = append(keywords, r.Keywords...)
	}
	add("keywords", "app.env", func() []byte {
		rng := adversarialRand("keywords")
		return fill(size, func(i int) string {
			k := keywords[i%len(keywords)]
			if i%3 == 0 {
				return k + "_value = \"" + randFrom(rng, advAlnum, 24) + "\"\n"
			}
			return "x " + k + randFrom(rng, advAlnum, 48) + " y\n"
		})
	})

	// Keywords back to back, with nothing else: every window of every rule
	// overlaps the next one.
	add("keywords-dense", "dense.txt", func() []byte {
		return fill(size, func(i int) string { return keywords[i%len(keywords)] })
	})

	// One line of tokens, key ids, secrets and assignments.
	add("one-line", "app.min.js", func() []byte {
		rng := adversarialRand("one-line")
		return fill(size, func(i int) string {
			switch i % 4 {
			case 0:
				return "ghp_" + randFrom(rng, advAlnum, 36) + " "
			case 1:
				return advKeyID(rng) + " "
			case 2:
				return advSecret(rng) + " "
			default:
				return "password=" + randFrom(rng, advAlnum, 20) + "; "
			}
		})
	})

	// One run of base64 of text that holds tokens, and runs wrapped at 76
	// columns: decoding is the work.
	text := func(n int) []byte {
		rng := adversarialRand("base64")
		return fill(n, func(i int) string {
			if i%8 == 0 {
				return "token: ghp_" + randFrom(rng, advAlnum, 36) + "\n"
			}
			return "an ordinary line of text, number " + fmt.Sprint(i) + "\n"
		})
	}
	add("base64", "blob.txt", func() []byte {
		return []byte("v: " + base64.StdEncoding.EncodeToString(text(size*3/4)) + "\n")
	})
	add("base64-wrapped", "secret.yaml", func() []byte {
		wrapped := base64.StdEncoding.EncodeToString(text(size * 9 / 16))
		var w strings.Builder
		w.WriteString("data: |\n")
		for len(wrapped) > 0 {
			n := min(76, len(wrapped))
			w.WriteString("  " + wrapped[:n] + "\n")
			wrapped = wrapped[n:]
		}
		return []byte(w.String())
	})

	// Short runs of base64 of base64 of credentials, and hex, one a line:
	// many decodings, each scanned again.
	add("nested", "dump.txt", func() []byte {
		rng := adversarialRand("nested")
		return fill(size, func(i int) string {
			creds := "aws_access_key_id = " + advKeyID(rng) + "\naws_secret_access_key = " + advSecret(rng) + "\n"
			inner := base64.StdEncoding.EncodeToString([]byte("data: " + base64.StdEncoding.EncodeToString([]byte(creds))))
			if i%2 == 0 {
				return "k" + fmt.Sprint(i) + ": " + inner + "\n"
			}
			return "h" + fmt.Sprint(i) + ": " + hex.EncodeToString([]byte("GITHUB_TOKEN=ghp_"+randFrom(rng, advAlnum, 36))) + "\n"
		})
	})

	// Percent escapes in one endless token, broken every few bytes.
	add("percent", "query.txt", func() []byte {
		return fill(size, func(i int) string {
			if i%4 == 0 {
				return "%zz"
			}
			return "%41%42%43"
		})
	})

	// Escaped text: every escape counts (\u0041 decodes to a letter of a
	// run of letters), so the text is decoded up to the budget.
	add("json-unicode", "dump.json", func() []byte {
		return fill(size, func(int) string { return `\u0041\u004B\u0049\u0041` })
	})

	// Entities that count (a slash and a plus between letters) and
	// entities that do not, in one endless line.
	add("xml-entities", "page.html", func() []byte {
		return fill(size, func(i int) string {
			if i%2 == 0 {
				return "&#47;&amp;&#x2F;&lt;"
			}
			return "ab&#47;cd&#x2B;"
		})
	})

	// Notebook lines of AWS key ids, every other one the same, and their
	// secrets, slashes escaped: each key id is found directly, alone or
	// paired with a secret without a slash, then paired again in the
	// escaped text and settled with what was found directly.
	add("notebook", "aws.ipynb", func() []byte {
		rng := adversarialRand("notebook")
		same := advKeyID(rng)
		return fill(size, func(i int) string {
			id := same
			if i%2 == 0 {
				id = advKeyID(rng)
			}
			secret := strings.ReplaceAll(advSecret(rng), "/", `\/`)
			return `    "aws_access_key_id = \"` + id + `\"\n",` + "\n" +
				`    "aws_secret_access_key = \"` + secret + `\"\n",` + "\n"
		})
	})

	// Credentials in JSON in a JSON string, six deep: runs of backslashes
	// that double at each level.
	add("escapes-nested", "events.json", func() []byte {
		rng := adversarialRand("escapes-nested")
		return fill(size, func(int) string {
			s := `{"aws_access_key_id": "` + advKeyID(rng) + `", "aws_secret_access_key": "` + advSecret(rng) + `"}`
			for range 6 {
				b, _ := json.Marshal(s)
				s = strings.ReplaceAll(string(b), "/", `\/`)
			}
			return s + "\n"
		})
	})

	// Long runs of backslashes with escapes that count between them: a
	// run's start, in a long line, must not cut an escape.
	add("backslashes", "paths.json", func() []byte {
		rng := adversarialRand("backslashes")
		return fill(size, func(int) string {
			return strings.Repeat(`\\`, 700) + `\/` + randFrom(rng, advAlnum, 30) + `\"` + randFrom(rng, advAlnum, 30) + `\":`
		})
	})
	out = append(out, fileAdversarialInputs(size)...)
	return out
}

// ScanSteps is the work counter of one scan, for the external tests.
func ScanSteps(e *Engine, path string, data []byte) int {
	_, _, steps := e.scanSteps(path, data)
	return steps
}
