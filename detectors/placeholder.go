package detectors

import (
	"math/bits"
	"strings"
)

// Placeholders: what documentation, examples and tests write where a key
// goes (AKIAXXXXXXXXXXXXXXXX, wJalr…EXAMPLEKEY, your-secret-key-here,
// ABCDEFGHIJKLMNOP), told apart from the random values real keys are.
//
// A random key shows a little structure by chance: a run like AAA is in
// about one 40-character base64 key in a hundred, "test" in some case in
// one in 30,000. So a structure counts by how much of the value it
// explains, never for being there at all, and the thresholds are set so
// that random keys of the catalog's alphabets are dropped less than once
// in ten million (TestPlaceholderRandomKeys measures it). Only long words
// that random characters practically never spell, and template syntax
// that no key alphabet holds, count on their own.

// templateMarkers are markup that no key alphabet holds: <AWS_SECRET>,
// ${TOKEN}, {{ .Values.token }}.
var templateMarkers = []string{"<", ">", "${", "{{"}

// markerWords make a value a placeholder wherever they occur. Each is at
// least six letters long: random characters of any key alphabet spell one
// less than once in 10^9 positions.
var markerWords = []string{
	"Example", "Sample", "Placeholder", "Redacted", "ChangeMe", "Replace", "NotReal", "NotASecret",
	"YourKey", "YourSecret", "YourToken", "YourAccess",
}

// edgeWords make a value a placeholder when one stands at its start or
// end (or between separators: my-fake-key), another word joins it, and
// structure explains a third of the value (see isPlaceholder). Four to six
// letters are spelt by chance too often to count anywhere, or alone.
var edgeWords = []string{"Fake", "Test", "Dummy", "Mock", "Demo", "Your", "Todo", "Insert"}

// fillerWords are what placeholders are made of besides their marker
// (FAKEKEY, your-secret-key-here): they count as structure, never alone.
var fillerWords = []string{"Key", "Secret", "Token", "Access", "Here", "Auth", "Pass", "Password", "Value"}

// maskBytes fill the masked or elided part of a value: AKIAIOSFODNN7XXXXXXX,
// sk_live_0000000000, a1b2****.
var maskBytes = [256]bool{'x': true, 'X': true, '0': true, '*': true, '.': true, '#': true}

// wordKind says how a word of a placeholder counts.
type wordKind uint8

const (
	kindMarker wordKind = iota // markerWords
	kindEdge                   // edgeWords
	kindFiller                 // fillerWords
)

type placeholderWord struct {
	text string // capitals where a word may start: ChangeMe
	kind wordKind
}

// wordsByFirst holds the words of placeholders by their first letter.
var wordsByFirst = func() (t [26][]placeholderWord) {
	for kind, ws := range [][]string{markerWords, edgeWords, fillerWords} {
		for _, w := range ws {
			t[foldTable[w[0]]-'a'] = append(t[foldTable[w[0]]-'a'], placeholderWord{w, wordKind(kind)})
		}
	}
	return t
}()

// sequenceOrders are the orders that placeholders follow (ABCDEFGH,
// 0123456789, qwerty), read forwards or backwards: the alphabet in each
// case, the digits (which wrap around: 7890123), and the rows of the
// keyboard in each case. A byte is in at most two of them.
var sequenceOrders = []string{
	"0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"qwertyuiop", "asdfghjkl", "zxcvbnm", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM",
}

// seqPlace is where a byte stands in one of sequenceOrders.
type seqPlace struct{ order, pos int8 }

// seqPlaces holds each byte's places in sequenceOrders.
var seqPlaces = func() (t [256][]seqPlace) {
	for o, s := range sequenceOrders {
		for j := 0; j < len(s); j++ {
			t[s[j]] = append(t[s[j]], seqPlace{int8(o), int8(j)})
		}
	}
	return t
}()

// Thresholds of isPlaceholder.
const (
	// minRun and minSequence are the shortest run of one character and
	// the shortest sequence that count as structure.
	minRun      = 4
	minSequence = 4
	// minMaskRun is the shortest run of mask bytes that, at an edge,
	// counts as an edge word joined by another does.
	minMaskRun = 5
)

// isPlaceholder reports whether v, the part of a key or token that should
// be random (the 16 characters after AKIA, a token after its prefix), is
// a placeholder:
//
//   - it holds template syntax (templateMarkers) or a marker word;
//   - structure explains more than half of its characters;
//   - or structure explains at least a third of them, and v starts or
//     ends with a run of mask bytes (minMaskRun), or with an edge word
//     that another word joins (FAKEKEY…, …TEST_TOKEN).
//
// Structure is words (edge and filler words), runs of one character
// (minRun) and sequences (minSequence) such as abcdef, 654321 or asdfgh,
// each in one case. A word explains its characters; a run or a sequence
// all of its characters but the first, which chance picks as it picks
// any. Words count in lower or upper case, or with capitals where a
// word starts (test, TEST, Test, ChangeMe, changeMe), not in the mixed
// case random characters spell them in. Separators (- _ and space) count neither as structure nor
// towards the length.
func isPlaceholder(v string) bool {
	for _, m := range templateMarkers {
		if strings.Contains(v, m) {
			return true
		}
	}
	var buf [128]bool
	covered := buf[:0]
	if len(v) > len(buf) {
		covered = make([]bool, 0, len(v))
	}
	covered = covered[:len(v)]
	// words counts the words found that overlap no other (DEMOCK is one
	// word), wordEnd is where the last one ends, and edgeWord says one of
	// them is an edge word at an edge.
	words, wordEnd, edgeWord, maskEdge := 0, 0, false, false
	for i := 0; i < len(v); i++ {
		c := foldTable[v[i]]
		if c < 'a' || c > 'z' {
			continue
		}
		for _, w := range wordsByFirst[c-'a'] {
			j := i + len(w.text)
			if !wordAt(v, i, w.text) {
				continue
			}
			if w.kind == kindMarker {
				return true
			}
			markSpan(covered, i, j)
			if i >= wordEnd {
				words++
			}
			wordEnd = max(wordEnd, j)
			edgeWord = edgeWord || w.kind == kindEdge && atEdge(v, i, j)
		}
	}
	for i := 0; i < len(v); {
		j := i + 1
		for j < len(v) && v[j] == v[i] {
			j++
		}
		if !isSeparator(v[i]) && j-i >= minRun {
			markSpan(covered, i+1, j)
			maskEdge = maskEdge || maskBytes[v[i]] && j-i >= minMaskRun && (i == 0 || j == len(v))
		}
		i = j
	}
	markSequences(v, covered)
	n, c := 0, 0
	for i, ok := range covered {
		if !isSeparator(v[i]) {
			n++
			if ok {
				c++
			}
		}
	}
	return 2*c > n || 3*c >= n && (maskEdge || edgeWord && words >= 2)
}

// markSequences marks in covered the runs of v, of at least minSequence
// bytes, that step through one of sequenceOrders forwards or backwards,
// all but their first byte: in one pass, with a run length for each
// order and direction.
func markSequences(v string, covered []bool) {
	var runs [32]int // bytes in the run ending at i-1, by 2*order+direction
	var live uint32  // the runs that go on to i-1
	end := func(bit, i int) {
		if runs[bit] >= minSequence {
			markSpan(covered, i-runs[bit]+1, i)
		}
		runs[bit] = 0
	}
	for i := 1; i < len(v); i++ {
		var steps uint32 // the runs that go on from v[i-1] to v[i]
		for _, a := range seqPlaces[v[i-1]] {
			for _, b := range seqPlaces[v[i]] {
				if a.order != b.order {
					continue
				}
				d := int(b.pos) - int(a.pos)
				if a.order == 0 { // the digits wrap around: 9 then 0 steps forwards
					switch d {
					case 9:
						d = -1
					case -9:
						d = 1
					}
				}
				switch d {
				case 1:
					steps |= 1 << (2 * a.order)
				case -1:
					steps |= 1 << (2*a.order + 1)
				}
			}
		}
		for m := live &^ steps; m != 0; m &= m - 1 {
			end(bits.TrailingZeros32(m), i)
		}
		for m := steps; m != 0; m &= m - 1 {
			bit := bits.TrailingZeros32(m)
			if runs[bit] == 0 {
				runs[bit] = 1
			}
			runs[bit]++
		}
		live = steps
	}
	for m := live; m != 0; m &= m - 1 {
		end(bits.TrailingZeros32(m), len(v))
	}
}

func markSpan(covered []bool, i, j int) {
	for k := i; k < j; k++ {
		covered[k] = true
	}
}

func isSeparator(c byte) bool { return c == '-' || c == '_' || c == ' ' }

// atEdge reports whether v[i:j] starts or ends v, or stands between
// separators.
func atEdge(v string, i, j int) bool {
	return i == 0 || j == len(v) || isSeparator(v[i-1]) && isSeparator(v[j])
}

// wordAt reports whether v holds w at i, ASCII case ignored, in upper
// case or with capitals only where w has them (test, Test, changeMe,
// ChangeMe, TEST for Test and ChangeMe): not in the mixed case random
// characters spell words in.
func wordAt(v string, i int, w string) bool {
	if i+len(w) > len(v) {
		return false
	}
	upper, camel := true, true
	for k := 0; k < len(w); k++ {
		c := v[i+k]
		if foldTable[c] != foldTable[w[k]] {
			return false
		}
		isUpper := c != foldTable[c]
		upper = upper && isUpper
		camel = camel && (!isUpper || w[k] != foldTable[w[k]])
	}
	return upper || camel
}
