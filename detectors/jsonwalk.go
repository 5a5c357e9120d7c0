package detectors

import (
	"encoding/json"
	"unicode/utf8"
)

// A small JSON reader for the formats structuredRuns reads: it says where
// each value is in the blob, which encoding/json does not, in one pass,
// and it stops quietly at the first thing that is not JSON.

// jsonFrame is an object or array being read, and what the readers of
// the formats note about it.
type jsonFrame struct {
	object bool
	// name is the key of this container in its parent object ("" in an
	// array), key that of the member of this object being read.
	name, key string
	expectKey bool

	// Kubernetes: the object's "kind", and the entries of its "data".
	kind    string
	entries []k8sEntry
	// Terraform: the object's "type", whether it says "sensitive":
	// true, and the values whose fate waits on those.
	typ       string
	sensitive bool
	values    []tfValue
}

// jsonVisitor is what a format's reader does with what walkJSON reads:
// each string or literal (true, false, null, a number) at start:end in
// data (a string with its quotes), under the containers of stack; and
// each container as it closes, on top of stack.
type jsonVisitor interface {
	value(data []byte, stack []*jsonFrame, str bool, start, end int)
	closed(data []byte, stack []*jsonFrame)
}

// maxJSONDepth is the nesting walkJSON follows; what is deeper is read
// past, not looked at.
const maxJSONDepth = 64

// maxJSONKey bounds the keys walkJSON keeps; a longer one is kept as "".
const maxJSONKey = 256

// walkJSON reads data as JSON and tells v what it finds.
func walkJSON(data []byte, v jsonVisitor, st *scanState) {
	st.steps += len(data)
	var stack []*jsonFrame
	deep := 0 // containers open past maxJSONDepth
	for pos := 0; ; {
		kind, start, end := jsonToken(data, pos)
		pos = end
		switch kind {
		case 0:
			return
		case '{', '[':
			if deep > 0 || len(stack) == maxJSONDepth {
				deep++
				continue
			}
			f := &jsonFrame{object: kind == '{', expectKey: kind == '{'}
			if n := len(stack); n > 0 && stack[n-1].object {
				f.name = stack[n-1].key
			}
			stack = append(stack, f)
		case '}', ']':
			if deep > 0 {
				deep--
				continue
			}
			if len(stack) == 0 || stack[len(stack)-1].object != (kind == '}') {
				return
			}
			v.closed(data, stack)
			stack[len(stack)-1] = nil
			stack = stack[:len(stack)-1]
		case ',':
			if deep == 0 && len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].expectKey = true
			}
		case ':':
		case '"', 'l':
			if deep > 0 || len(stack) == 0 {
				continue
			}
			top := stack[len(stack)-1]
			if top.object && top.expectKey {
				top.key = ""
				if kind == '"' && end-start <= maxJSONKey+2 {
					top.key, _ = jsonString(data[start:end])
				}
				top.expectKey = false
				continue
			}
			v.value(data, stack, kind == '"', start, end)
		}
	}
}

// jsonToken returns the token at or after pos: its kind (a structural
// byte, '"' for a string, 'l' for a literal, 0 at the end or at what is
// not JSON) and where it is.
func jsonToken(data []byte, pos int) (kind byte, start, end int) {
	for pos < len(data) && (data[pos] == ' ' || data[pos] == '\t' || data[pos] == '\n' || data[pos] == '\r') {
		pos++
	}
	if pos >= len(data) {
		return 0, pos, pos
	}
	switch c := data[pos]; c {
	case '{', '}', '[', ']', ',', ':':
		return c, pos, pos + 1
	case '"':
		for i := pos + 1; i < len(data); i++ {
			switch data[i] {
			case '\\':
				i++
			case '"':
				return '"', pos, i + 1
			case '\n':
				return 0, pos, pos // not JSON: strings hold no line break
			}
		}
		return 0, pos, pos
	default:
		i := pos
		for i < len(data) && (data[i] >= 'a' && data[i] <= 'z' || data[i] >= '0' && data[i] <= '9' || data[i] == '-' || data[i] == '+' || data[i] == '.' || data[i] == 'E') {
			i++
		}
		if i == pos {
			return 0, pos, pos
		}
		return 'l', pos, i
	}
}

// jsonString decodes a JSON string, quotes included.
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	plain := utf8.Valid(inner)
	for _, c := range inner {
		if c == '\\' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
