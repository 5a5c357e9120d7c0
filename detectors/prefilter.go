package detectors

// prefilter finds every occurrence of all rules' keywords in one pass over
// the bytes, ignoring ASCII case: an Aho-Corasick automaton compiled to a
// DFA. It is the reason the catalog is cheap: most bytes of a repository
// contain no keyword, so regexes run only on small windows around the few
// hits.
//
// Bytes are first mapped to classes (one per distinct folded byte that
// occurs in a keyword, and one for all others), so the transition table is
// states × classes of uint16 and stays small enough for the cache. The
// scan is one table lookup per byte; states that end a keyword are marked
// so the common path never touches the output lists.
type prefilter struct {
	class    [256]byte
	nclass   int
	delta    []uint16 // state*nclass + class -> state
	out      [][]int  // state -> keywords that end there (suffixes included)
	table    []uint32 // delta, premultiplied and flagged: what the scan reads
	keywords [][]byte // folded
	maxLen   int      // of the longest keyword
}

// foldTable lower-cases ASCII letters and leaves every other byte as it is.
var foldTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

// newPrefilter builds the automaton for keywords (each at least one byte).
func newPrefilter(keywords []string) *prefilter {
	p := &prefilter{nclass: 1}
	for _, k := range keywords {
		f := make([]byte, len(k))
		for j := 0; j < len(k); j++ { // every byte, not every character
			f[j] = foldTable[k[j]]
			if p.class[f[j]] == 0 {
				p.class[f[j]] = byte(p.nclass)
				p.nclass++
			}
		}
		p.keywords = append(p.keywords, f)
		p.maxLen = max(p.maxLen, len(f))
	}
	// Upper-case letters share their lower-case class.
	for c := 'A'; c <= 'Z'; c++ {
		p.class[c] = p.class[c+'a'-'A']
	}

	// The trie: state 0 is the root; 0 in delta means "no edge yet".
	p.delta = make([]uint16, p.nclass)
	p.out = [][]int{nil}
	for ki, k := range p.keywords {
		s := 0
		for _, c := range k {
			next := int(p.delta[s*p.nclass+int(p.class[c])])
			if next == 0 {
				next = len(p.out)
				if next > 0xFFFF {
					panic("detectors: too many keyword states")
				}
				p.delta[s*p.nclass+int(p.class[c])] = uint16(next)
				p.delta = append(p.delta, make([]uint16, p.nclass)...)
				p.out = append(p.out, nil)
			}
			s = next
		}
		p.out[s] = append(p.out[s], ki)
	}

	// Breadth first: failure links, then complete every missing edge with
	// the failure state's edge, which turns the trie into a DFA.
	fail := make([]int, len(p.out))
	queue := []int{}
	for c := 0; c < p.nclass; c++ {
		if s := int(p.delta[c]); s != 0 {
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		p.out[s] = append(p.out[s], p.out[fail[s]]...)
		for c := 0; c < p.nclass; c++ {
			t := int(p.delta[s*p.nclass+c])
			if t != 0 {
				fail[t] = int(p.delta[fail[s]*p.nclass+c])
				queue = append(queue, t)
			} else {
				p.delta[s*p.nclass+c] = p.delta[fail[s]*p.nclass+c]
			}
		}
	}
	// The scan's table: each entry is the next state premultiplied by
	// the number of classes (so the scan adds instead of multiplying),
	// with termBit set when that state ends a keyword.
	p.table = make([]uint32, len(p.delta))
	for i, next := range p.delta {
		v := uint32(next) * uint32(p.nclass)
		if len(p.out[next]) > 0 {
			v |= termBit
		}
		p.table[i] = v
	}
	return p
}

const termBit = 1 << 31

// hit is a keyword found at a byte offset.
type hit struct {
	keyword int
	pos     int
}

// find appends to dst every keyword occurrence in data, ordered by
// position.
//
// Each step of an automaton waits for the previous one's table load, so
// one stream cannot keep a core busy. Large inputs are cut in two halves
// run as two independent automata in the same loop; the second starts a
// keyword's length early and reports only what ends in its half.
func (p *prefilter) find(data []byte, dst []hit) []hit {
	first := len(dst)
	if len(data) < 4096 {
		dst = p.run1(data, dst)
	} else {
		dst = p.run2(data, dst)
	}
	// Hits come in order of their end; order them by their start.
	for i := first + 1; i < len(dst); i++ {
		h := dst[i]
		j := i
		for j > first && dst[j-1].pos > h.pos {
			dst[j] = dst[j-1]
			j--
		}
		dst[j] = h
	}
	return dst
}

// any reports whether data holds a keyword.
func (p *prefilter) any(data []byte) bool {
	var s uint32
	table, class := p.table, &p.class
	for _, c := range data {
		s = table[s&^termBit+uint32(class[c])]
		if s&termBit != 0 {
			return true
		}
	}
	return false
}

func (p *prefilter) emit(dst []hit, s uint32, end int) []hit {
	for _, k := range p.out[(s&^termBit)/uint32(p.nclass)] {
		dst = append(dst, hit{keyword: k, pos: end - len(p.keywords[k])})
	}
	return dst
}

func (p *prefilter) run1(data []byte, dst []hit) []hit {
	var s uint32
	table, class := p.table, &p.class
	for i, c := range data {
		s = table[s&^termBit+uint32(class[c])]
		if s&termBit != 0 {
			dst = p.emit(dst, s, i+1)
		}
	}
	return dst
}

func (p *prefilter) run2(data []byte, dst []hit) []hit {
	mid := len(data) / 2
	back := min(p.maxLen-1, mid)
	a, b := data[:mid], data[mid-back:]
	// b is longer than a by at most back+1 bytes: warm it up first.
	var s, t uint32
	table, class := p.table, &p.class
	extra := len(b) - len(a)
	for i := 0; i < extra; i++ {
		t = table[t&^termBit+uint32(class[b[i]])]
		if t&termBit != 0 && mid-back+i+1 > mid {
			dst = p.emit(dst, t, mid-back+i+1)
		}
	}
	var second []hit
	b = b[extra:]
	off := mid - back + extra
	for i := range a {
		s = table[s&^termBit+uint32(class[a[i]])]
		t = table[t&^termBit+uint32(class[b[i]])]
		if (s|t)&termBit != 0 {
			if s&termBit != 0 {
				dst = p.emit(dst, s, i+1)
			}
			if t&termBit != 0 && off+i+1 > mid {
				second = p.emit(second, t, off+i+1)
			}
		}
	}
	return append(dst, second...)
}
