package detectors

// prefilter finds every occurrence of a set of keywords in one pass over the
// bytes, ignoring ASCII case. It is the reason the catalog is cheap: most
// bytes of a repository contain no keyword, so regexes run only on small
// windows around the few hits.
//
// Each position is checked against a 64 Kibit bitmap indexed by a hash of
// the three (case-folded) bytes ending there; only on a bitmap hit are the
// keywords that start with those three bytes compared in full. The bitmap
// fits in L1 cache, so the common path is a table lookup and a bit test.
type prefilter struct {
	bits     [1 << 10]uint64
	byPrefix map[uint32][]int // folded trigram -> indexes into keywords
	keywords [][]byte         // folded
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

func trigramHash(v uint32) uint32 { return (v * 0x9E3779B1) >> 16 }

// newPrefilter builds a prefilter for keywords of at least three bytes.
func newPrefilter(keywords []string) *prefilter {
	p := &prefilter{byPrefix: make(map[uint32][]int)}
	for i, k := range keywords {
		f := make([]byte, len(k))
		for j := range k {
			f[j] = foldTable[k[j]]
		}
		p.keywords = append(p.keywords, f)
		v := uint32(f[0])<<16 | uint32(f[1])<<8 | uint32(f[2])
		p.byPrefix[v] = append(p.byPrefix[v], i)
		h := trigramHash(v)
		p.bits[h>>6] |= 1 << (h & 63)
	}
	return p
}

// hit is a keyword found at a byte offset.
type hit struct {
	keyword int
	pos     int
}

// find appends to dst every keyword occurrence in data, in order of position.
func (p *prefilter) find(data []byte, dst []hit) []hit {
	var v uint32
	for i, c := range data {
		v = (v<<8 | uint32(foldTable[c])) & 0xFFFFFF
		h := trigramHash(v)
		if p.bits[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		start := i - 2
		if start < 0 {
			continue
		}
		for _, k := range p.byPrefix[v] {
			kw := p.keywords[k]
			if start+len(kw) > len(data) {
				continue
			}
			j := 3
			for ; j < len(kw); j++ {
				if foldTable[data[start+j]] != kw[j] {
					break
				}
			}
			if j == len(kw) {
				dst = append(dst, hit{keyword: k, pos: start})
			}
		}
	}
	return dst
}
