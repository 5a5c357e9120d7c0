package main

import (
	"context"
	"strings"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/report"
	"github.com/keysweep/keysweep/verify"
)

// A report is no proof that a key leaked: key ids are not secret, so
// anyone can write a report naming one of the user's keys as "verified",
// and acting on it would switch off a production key. What proves the
// leak is the secret itself: `keysweep remediate` calls
// sts:GetCallerIdentity again, signed with the pair the report holds
// (written with --no-redact), and acts only on that answer. The report's
// verification is never read.

// maxPairsPerKey bounds the secrets tried for one key id, so that a
// report cannot make keysweep sign thousands of calls with one key id.
const maxPairsPerKey = 8

// reverification is what a report gives to verify again: for each key id
// of an own account (or of a key id that carries no account), in the
// order of the report, the pairs found with it, or why there is none.
type reverification struct {
	ids   []string
	pairs map[string][]verify.Key
	// lacking holds a key as the report has it (secret redacted or
	// missing), for the key ids with no usable pair.
	lacking  map[string]verify.Key
	redacted map[string]bool
}

// planReverification reads the pairs of findings for the key ids that may
// be acted on. Keys of other accounts are not verified: they are never
// touched, so there is no call to make with them.
func planReverification(findings []report.Finding, own map[string]bool) *reverification {
	p := &reverification{pairs: map[string][]verify.Key{}, lacking: map[string]verify.Key{}, redacted: map[string]bool{}}
	seen := map[string]bool{}
	for _, f := range findings {
		if f.KeyID == "" {
			continue
		}
		if account, ok := verify.AccountID(f.KeyID); ok && !own[account] {
			continue
		}
		if !seen[f.KeyID] {
			seen[f.KeyID] = true
			p.ids = append(p.ids, f.KeyID)
		}
		k := verify.Key{ID: f.KeyID}
		if f.RuleID == detectors.AWSKeyRule {
			k.Secret, k.SessionToken = f.Secret, f.SessionToken
		}
		switch {
		case usable(k):
			if ks := p.pairs[k.ID]; len(ks) < maxPairsPerKey && !contains(ks, k) {
				p.pairs[k.ID] = append(ks, k)
			}
		case k.Secret != "" && !verify.IsSecretAccessKey(k.Secret), k.SessionToken != "" && !verify.IsSessionToken(k.SessionToken):
			p.redacted[k.ID] = true
			p.lacking[k.ID] = k
		default:
			if _, ok := p.lacking[k.ID]; !ok {
				p.lacking[k.ID] = k
			}
		}
	}
	return p
}

// usable reports whether k can be sent to STS: a secret access key and,
// for temporary credentials, a session token, none of them redacted.
func usable(k verify.Key) bool {
	if !verify.IsSecretAccessKey(k.Secret) {
		return false
	}
	if strings.HasPrefix(k.ID, "ASIA") {
		return verify.IsSessionToken(k.SessionToken)
	}
	return k.SessionToken == "" || verify.IsSessionToken(k.SessionToken)
}

func contains(ks []verify.Key, k verify.Key) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// verify asks STS about every usable pair and returns, for each key id
// planned, the answer that proves the most; for a key id with no usable
// pair, the verifier's word on why it sent nothing.
func (p *reverification) verify(ctx context.Context, v *verify.Verifier, workers int) map[string]*verify.Result {
	var keys []verify.Key
	for _, id := range p.ids {
		keys = append(keys, p.pairs[id]...)
	}
	results := v.VerifyAll(ctx, keys, workers)
	best := map[string]*verify.Result{}
	for i, k := range keys {
		if rank(&results[i]) > rank(best[k.ID]) {
			best[k.ID] = &results[i]
		}
	}
	for _, id := range p.ids {
		if _, ok := best[id]; !ok {
			r := v.Verify(ctx, p.lacking[id])
			best[id] = &r
		}
	}
	return best
}

// unverifiable returns why keyID cannot be verified again and what to do,
// or "" when it can.
func (p *reverification) unverifiable(keyID string) string {
	if _, ok := p.lacking[keyID]; !ok || len(p.pairs[keyID]) > 0 {
		return ""
	}
	if p.redacted[keyID] {
		return "not verified again, so not touched: the report's secret is redacted; write the report with --no-redact " +
			"(and keep it private), or scan again with `keysweep git --verify --deactivate`"
	}
	return "not verified again, so not touched: the report holds no secret for this key id (a key id alone proves no leak); " +
		"scan again with `keysweep git --verify --deactivate` to act where the secret is found"
}

// redactAgain hides a secret read from an unredacted report before the
// report is written again; a value redacted already is left as it is.
func redactAgain(s string) string {
	if s == "" || strings.HasSuffix(s, "*****") {
		return s
	}
	return report.Redact(s)
}
