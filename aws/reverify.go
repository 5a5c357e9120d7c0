package aws

import (
	"context"
	"strings"

	"github.com/keysweep/keysweep/detectors"
	"github.com/keysweep/keysweep/finding"
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
	pairs map[string][]Key
	// lacking holds a key as the report has it (secret redacted or
	// missing), for the key ids with no usable pair.
	lacking  map[string]Key
	redacted map[string]bool
}

// planReverification reads the pairs of findings for the key ids that may
// be acted on. Keys of other accounts are not verified: they are never
// touched, so there is no call to make with them.
func planReverification(findings []finding.Finding, own map[string]bool) *reverification {
	p := &reverification{pairs: map[string][]Key{}, lacking: map[string]Key{}, redacted: map[string]bool{}}
	seen := map[string]bool{}
	for _, f := range findings {
		if f.KeyID == "" {
			continue
		}
		if account, ok := detectors.AccountID(f.KeyID); ok && !own[account] {
			continue
		}
		if !seen[f.KeyID] {
			seen[f.KeyID] = true
			p.ids = append(p.ids, f.KeyID)
		}
		k := Key{ID: f.KeyID}
		if f.RuleID == detectors.AWSKeyRule {
			k.Secret, k.SessionToken = f.Secret, f.SessionToken
		}
		switch {
		case usable(k):
			if ks := p.pairs[k.ID]; len(ks) < maxPairsPerKey && !contains(ks, k) {
				p.pairs[k.ID] = append(ks, k)
			}
		case k.Secret != "" && !IsSecretAccessKey(k.Secret), k.SessionToken != "" && !IsSessionToken(k.SessionToken):
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
func usable(k Key) bool {
	if !IsSecretAccessKey(k.Secret) {
		return false
	}
	if strings.HasPrefix(k.ID, "ASIA") {
		return IsSessionToken(k.SessionToken)
	}
	return k.SessionToken == "" || IsSessionToken(k.SessionToken)
}

func contains(ks []Key, k Key) bool {
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
func (p *reverification) verify(ctx context.Context, v *Verifier, workers int) map[string]*Result {
	var keys []Key
	for _, id := range p.ids {
		keys = append(keys, p.pairs[id]...)
	}
	results := v.VerifyAll(ctx, keys, workers)
	best := map[string]*Result{}
	for i, k := range keys {
		if b := best[k.ID]; b == nil || results[i].Verification().Rank() > b.Verification().Rank() {
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

// Reverify acts on the AWS keys a report lists, proving each leak again
// first: for each key id of an own account (or that carries no account),
// sts:GetCallerIdentity signed with the pairs the report holds, and
// remediation on that answer only. fs is updated in place with this run's
// verification and remediation; a key of another account is neither sent
// nor touched, and loses the verification the report claimed. warn is told
// once about each key that cannot be verified again, and why. It returns
// how many of those could not be because the report's secret is redacted.
// A session opened without own accounts does nothing: there is no one to act for.
func (s *Session) Reverify(ctx context.Context, fs []finding.Finding, warn func(keyID, why string)) (redacted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remediator == nil {
		return 0
	}
	plan := planReverification(fs, s.own)
	// No IAM call is made before the leak is proven again, not even the
	// read of the key's last use that a scan makes first: a forged report
	// makes keysweep call nothing but STS, signed with what it holds. The
	// last use then read is this verification, unless IAM is late.
	results := plan.verify(ctx, s.verifier, s.workers)
	for id, r := range results {
		if r.Status == finding.StatusVerified {
			s.verified(id, s.now())
		}
	}
	// Where and since when a key leaked is the report's word: it only
	// shortens a grace period, for a key whose leak is proven again.
	leaks := leaksOf(fs)
	told := map[string]bool{}
	for i, f := range fs {
		if f.KeyID == "" {
			continue
		}
		var rem finding.Remediation
		var inc Incident
		if why := plan.unverifiable(f.KeyID); why != "" {
			if !told[f.KeyID] {
				told[f.KeyID] = true
				warn(f.KeyID, why)
				if plan.redacted[f.KeyID] {
					redacted++
				}
			}
			rem = s.remediator.Skip(f.KeyID, why)
		} else {
			resp := s.remediator.Respond(ctx, f.KeyID, results[f.KeyID], leaks[f.KeyID])
			rem, inc = resp.Remediation, resp.Incident
		}
		fs[i].Verification, fs[i].Remediation = results[f.KeyID].Verification(), &rem
		fs[i].Usage, fs[i].UsedAfterExposure, fs[i].CloudTrail, fs[i].BlastRadius = inc.Usage, inc.UsedAfterExposure, inc.CloudTrail, inc.BlastRadius
		s.note(f.KeyID, fs[i].Verification)
		s.remediation[f.KeyID] = rem
	}
	return redacted
}
