// Package escape makes text that others chose (a path, an author, a
// commit message, an AWS answer, an IAM tag) safe to show on a terminal or
// in a line of a message.
package escape

import (
	"strings"
	"unicode/utf8"
)

// Text makes text that comes from scanned content (a path, an author,
// a commit message, a rule description, a ref name) safe to print on a
// terminal or in a line of a message. A file named "\x1b[2J" would clear
// the reader's screen, one with a newline would forge a line, a bidi
// override would show text in another order than it is.
//
// Escaped are ASCII control characters, newline and tab included, and DEL
// (as \n, \t, \r or \x1b), C1 control characters and the bidi embeddings,
// overrides and isolates U+202A-U+202E and U+2066-U+2069 (as \u009b), and
// bytes that are not UTF-8 (as \xff). Any other text, whatever its script,
// is returned as it is. A backslash is not escaped: the output is for
// people to read, not to be parsed back.
func Text(s string) string {
	i := unsafeIndex(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeHex(&b, `\x`, rune(s[i]), 2)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			writeHex(&b, `\x`, r, 2)
		case Unsafe(r):
			writeHex(&b, `\u`, r, 4)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafeIndex returns the index of the first byte Text escapes, or -1.
func unsafeIndex(s string) int {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || Unsafe(r) {
			return i
		}
		i += size
	}
	return -1
}

// Unsafe reports whether r is a control character or changes the
// direction of the text that follows.
func Unsafe(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

func writeHex(b *strings.Builder, prefix string, r rune, digits int) {
	const hexDigits = "0123456789abcdef"
	b.WriteString(prefix)
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[r>>shift&0xf])
	}
}
