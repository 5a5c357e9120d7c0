package detectors

import (
	"bytes"
	"sort"
	"strings"
)

// Rule ids of the AWS findings.
const (
	AWSKeyIDRule = "aws-access-key-id"
	AWSKeyRule   = "aws-access-key"
)

func isBase64Byte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// validAWSKeyID drops AWS's documented example ids (…EXAMPLE) and ids
// embedded in a long base64 run, where four letters spelling AKIA are chance.
func validAWSKeyID(c Candidate) bool {
	if strings.HasSuffix(c.Secret, "EXAMPLE") {
		return false
	}
	s, e := c.Start, c.End
	for s > 0 && isBase64Byte(c.Data[s-1]) {
		s--
	}
	for e < len(c.Data) && (isBase64Byte(c.Data[e]) || c.Data[e] == '=') {
		e++
	}
	return e-s < 64
}

// secretCandidate is a 40-character string that may be a secret access key.
type secretCandidate struct {
	value      string
	start, end int
	line       int
	context    bool // "secret" appears on its line
}

// awsSecretCandidates returns the 40-character base64 runs in data that
// could be secret access keys: not hex (git ids, SHA-1 sums), not AWS's
// example, with the mix of characters a random key has.
func awsSecretCandidates(data []byte) []secretCandidate {
	var out []secretCandidate
	line := 1
	lineStart := 0
	for i := 0; i < len(data); {
		c := data[i]
		if c == '\n' {
			line++
			lineStart = i + 1
		}
		if !isBase64Byte(c) {
			i++
			continue
		}
		j := i
		for j < len(data) && isBase64Byte(data[j]) {
			j++
		}
		// A trailing '=' is base64 padding: then the run is encoded data, not a key.
		if j-i == 40 && (j == len(data) || data[j] != '=') {
			v := string(data[i:j])
			if plausibleAWSSecret(v) {
				le := bytes.IndexByte(data[j:], '\n')
				if le < 0 {
					le = len(data) - j
				}
				ctx := bytes.Contains(bytes.ToLower(data[lineStart:j+le]), []byte("secret"))
				out = append(out, secretCandidate{value: v, start: i, end: j, line: line, context: ctx})
			}
		}
		i = j
	}
	return out
}

func plausibleAWSSecret(v string) bool {
	if isHex(v) || strings.HasSuffix(v, "EXAMPLEKEY") {
		return false
	}
	lower, upper, digit, _ := charClasses(v)
	return lower && upper && digit && shannon(v) >= 4.0
}

// sessionTokenPrefixes start the base64 of STS session tokens.
var sessionTokenPrefixes = []string{"IQoJb3JpZ2lu", "FwoGZXIvYXdz", "FQoGZXIvYXdz"}

// awsSessionTokens returns long base64 values that are session tokens: they
// start like one, or are assigned to a session/security token name.
func awsSessionTokens(data []byte) []secretCandidate {
	var out []secretCandidate
	for i := 0; i < len(data); {
		if !isBase64Byte(data[i]) {
			i++
			continue
		}
		j := i
		for j < len(data) && isBase64Byte(data[j]) {
			j++
		}
		for j < len(data) && data[j] == '=' {
			j++ // padding
		}
		if j-i >= 100 {
			v := string(data[i:j])
			ok := false
			for _, p := range sessionTokenPrefixes {
				ok = ok || strings.HasPrefix(v, p)
			}
			if !ok {
				ls := bytes.LastIndexByte(data[:i], '\n') + 1
				before := strings.ToLower(string(data[ls:i]))
				ok = strings.Contains(before, "session") || strings.Contains(before, "security_token") || strings.Contains(before, "securitytoken")
			}
			if ok {
				out = append(out, secretCandidate{value: v, start: i, end: j, line: 1 + bytes.Count(data[:i], []byte{'\n'})})
			}
		}
		i = j
	}
	return out
}

// pairAWS turns each key id that has a secret access key in the same data
// into one aws-access-key finding. Every (key id, candidate) pair is
// scored by context (the candidate's line says "secret", same line) and
// nearness in lines; pairs are taken best first, each candidate once. A key
// id left without a secret stays an aws-access-key-id finding.
//
// It also returns the spans of the paired secrets.
func pairAWS(data []byte, matches []Match) ([]Match, []window) {
	var ids []int
	for i, m := range matches {
		if m.RuleID == AWSKeyIDRule {
			ids = append(ids, i)
		}
	}
	if len(ids) == 0 {
		return matches, nil
	}
	cands := awsSecretCandidates(data)
	idLines := make([]int, len(ids))
	for k, i := range ids {
		idLines[k] = 1 + bytes.Count(data[:matches[i].Start], []byte{'\n'})
	}
	type pair struct{ id, cand, score int }
	var pairs []pair
	for k := range ids {
		for ci, c := range cands {
			d := c.line - idLines[k]
			if d < 0 {
				d = -d
			}
			score := -d
			if d == 0 {
				score += 50
			}
			if c.context {
				score += 30
			}
			pairs = append(pairs, pair{k, ci, score})
		}
	}
	sort.SliceStable(pairs, func(a, b int) bool { return pairs[a].score > pairs[b].score })
	secretOf := make([]int, len(ids))
	for k := range secretOf {
		secretOf[k] = -1
	}
	used := make([]bool, len(cands))
	for _, p := range pairs {
		if secretOf[p.id] < 0 && !used[p.cand] {
			secretOf[p.id], used[p.cand] = p.cand, true
		}
	}
	// An id whose candidates were all taken by better-placed ids still gets
	// its best one: the same secret with two ids is rarer than a miss.
	for _, p := range pairs {
		if secretOf[p.id] < 0 {
			secretOf[p.id] = p.cand
		}
	}
	var tokens []secretCandidate
	var claimed []window
	for k, i := range ids {
		m := &matches[i]
		m.KeyID = m.Secret
		if strings.HasPrefix(m.KeyID, "ASIA") {
			if tokens == nil {
				tokens = awsSessionTokens(data)
			}
			best, bestD := -1, 0
			for ti, t := range tokens {
				d := t.line - idLines[k]
				if d < 0 {
					d = -d
				}
				if best < 0 || d < bestD {
					best, bestD = ti, d
				}
			}
			if best >= 0 {
				m.SessionToken = tokens[best].value
				claimed = append(claimed, window{tokens[best].start, tokens[best].end})
			}
		}
		if secretOf[k] < 0 {
			continue
		}
		m.RuleID = AWSKeyRule
		m.Description = "AWS access key id with its secret access key"
		c := cands[secretOf[k]]
		m.Secret = c.value
		claimed = append(claimed, window{c.start, c.end})
	}
	return matches, claimed
}
