package scanner

import (
	"bytes"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/keysweep/keysweep/detectors"
)

// placeByRescanning places matches as findingsIn did before it read data
// once: each match's line read again, from its start to its last line's
// end. It is the reference findingsIn must agree with.
func placeByRescanning(ms []detectors.Match, data []byte) (out [][3]int) {
	line, lineStart, pos := 1, 0, 0
	for _, m := range ms {
		if m.Start < pos {
			line, lineStart, pos = 1, 0, 0
		}
		chunk := data[pos:m.Start]
		if n := bytes.Count(chunk, []byte{'\n'}); n > 0 {
			line += n
			lineStart = pos + bytes.LastIndexByte(chunk, '\n') + 1
		}
		pos = m.Start
		end := min(m.End, len(data))
		stop := bytes.IndexByte(data[end:], '\n')
		if stop < 0 {
			stop = len(data)
		} else {
			stop += end
		}
		marked := 0
		if bytes.Contains(data[lineStart:stop], []byte(AllowMarker)) {
			marked = 1
		}
		out = append(out, [3]int{line, utf8.RuneCount(data[lineStart:m.Start]) + 1, marked})
	}
	return out
}

func TestFindingsInPlacesLikeRescanning(t *testing.T) {
	t.Parallel()
	pieces := []string{"a", "token", " ", "\n", "\r\n", "é", "€", "\U0001F511", "\xe2\x82", "\xff", AllowMarker, "keysweep:", "\t"}
	rng := rand.New(rand.NewPCG(7, 11))
	for n := 0; n < 2000; n++ {
		var b strings.Builder
		for b.Len() < 1+rng.IntN(400) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		data := []byte(b.String())
		var ms []detectors.Match
		for range 1 + rng.IntN(12) {
			s := rng.IntN(len(data) + 1)
			e := min(len(data)+rng.IntN(2), s+rng.IntN(60))
			ms = append(ms, detectors.Match{RuleID: "r", Secret: "x", Start: s, End: max(s, e)})
		}
		if rng.IntN(4) > 0 { // mostly in order, as detectors return them
			sort.SliceStable(ms, func(i, j int) bool { return ms[i].Start < ms[j].Start })
		}
		want := placeByRescanning(ms, data)
		fs, allowed := findingsIn(ms, data, "p", true)
		var got [][3]int
		for _, f := range fs {
			marked := 0
			if f.Marked {
				marked = 1
			}
			got = append(got, [3]int{f.Line, f.Column, marked})
		}
		if diff := cmp.Diff(want, got); diff != "" || allowed != 0 {
			t.Fatalf("data %q, matches %+v: (-want +got):\n%s", data, ms, diff)
		}
	}
}

// TestFindingsInReadsDataOnce: many secrets on one long line, each with
// a keysweep:allow marker far along the line, cost the bytes of the line
// about once, not once a secret.
func TestFindingsInReadsDataOnce(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1000, 4000} {
		var b strings.Builder
		var ms []detectors.Match
		for i := range n {
			b.WriteString("x=1;é€;")
			ms = append(ms, detectors.Match{RuleID: "r", Secret: "s", Start: b.Len(), End: b.Len() + 10})
			b.WriteString("ghp_secret" + strings.Repeat(";", i%7))
		}
		b.WriteString("/* " + AllowMarker + " */\n")
		data := []byte(b.String())
		loc := locator{data: data, line: 1}
		for _, m := range ms {
			loc.at(m.Start)
			if !loc.markedAllowed(m.End) {
				t.Fatalf("match at %d: the marker at the end of its line is not seen", m.Start)
			}
		}
		if loc.steps > 3*len(data) {
			t.Errorf("%d secrets on a line of %d bytes: %d bytes read, want at most %d", n, len(data), loc.steps, 3*len(data))
		}
	}
}
