package finding

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"sync"

	"golang.org/x/crypto/argon2"
)

// The fingerprint scheme, version 2. Changing any of these changes every
// fingerprint in every ignore file, baseline and sweep state: that is a
// new version of the scheme, with the old one kept for reading.
const (
	fingerprintSalt = "keysweep-fp-v2\x00"
	// One pass over 8 MiB in one lane: BenchmarkFingerprint/kdf measures
	// 4.2 ms a call on one core of a 2-core AMD EPYC VM (5 to 7 ms while
	// the other core is busy), against 70 ns for the legacy SHA-256. A
	// push hook fingerprints 300 distinct secrets in 1.3 to 2 s of its
	// 4 s, once each if it shares a Fingerprinter; 16 MiB would double
	// that. An attacker pays the same time and memory for every guess.
	argonTime    = 1
	argonMemory  = 8 << 10 // KiB
	argonThreads = 1
	// fingerprintBytes is how much of the hash a fingerprint shows: 64
	// bits, 16 hex digits, as consumers of reports parse it.
	fingerprintBytes = 8
)

// Fingerprint identifies a secret found by a rule, as the rule id, a
// colon and 16 hex digits. It depends neither on commit, path or line nor
// on the machine, so an ignore survives rebases and moved lines, and a
// baseline made in CI works on a laptop.
//
// Threat model. A fingerprint is public: it is in every report format,
// in SARIF uploaded to code scanning, in the push hook's refusal that
// every pusher sees, in the audit log, in sweep state and in
// .keysweepignore files committed next to the code. Whoever reads one
// must not learn the secret from it.
//
//   - An AWS finding with a key id is fingerprinted from the key id
//     alone (SHA-256 with a versioned prefix). A key id names exactly one
//     secret access key and every report shows it in clear, so this
//     fingerprint tells nothing about the secret: not even a correct
//     guess of the secret can be checked against it.
//   - Any other secret goes through argon2id (RFC 9106) with one pass
//     over 8 MiB in one lane, salted with a fixed, public, versioned
//     string and the rule id, so that the same secret gives the same
//     fingerprint on every machine. One guess costs about 4 ms of a CPU
//     core and 8 MiB of memory, where the unsalted SHA-256 this replaces
//     (LegacyFingerprint) cost about 70 ns: some 60,000 times the work,
//     and the memory per guess limits how many guesses a GPU runs at once.
//
// What a reader of a fingerprint can still do is tell that two findings,
// in any two reports, hold the same secret (which is what it is for), and
// check guesses, one argon2id call each. A random token (a GitHub, Slack or Stripe token, a
// 40-character AWS secret, a private key) stays out of reach. A weak
// secret chosen by a person and caught by a generic rule does not: a list
// of 10,000 common passwords takes about 40 s of one core, a million
// about an hour, and the leading characters that a redacted secret of
// 12 characters or more shows (two, or four from 20) narrow the list. The salt is public and the same in every
// repository, so a table built for one rule serves for every report of
// that rule. The KDF buys time, not secrecy: a password that reached a
// repository is leaked and must be changed whatever its fingerprint.
// Fingerprints written before version 2 are as weak as they were:
// reports, audit logs and ignore files holding them deserve the care due
// to a password hash, and ignore files are best moved to the new
// fingerprints.
//
// Each call for a secret without a key id costs the full KDF; a caller
// that may see the same secret more than once uses a Fingerprinter.
func Fingerprint(ruleID, keyID, secret string) string {
	if keyID != "" {
		return keyIDFingerprint(ruleID, keyID)
	}
	return ruleID + ":" + hex.EncodeToString(argon2.IDKey([]byte(secret), []byte(fingerprintSalt+ruleID),
		argonTime, argonMemory, argonThreads, fingerprintBytes))
}

func keyIDFingerprint(ruleID, keyID string) string {
	h := sha256.Sum256([]byte(fingerprintSalt + keyID))
	return ruleID + ":" + hex.EncodeToString(h[:fingerprintBytes])
}

// LegacyFingerprint is the fingerprint keysweep wrote before version 2:
// an unsalted SHA-256 of the key id and the secret, which a wordlist
// reverses at millions of guesses a second. Reports never show it; ignore
// files and baselines that hold it keep matching the same secrets.
func LegacyFingerprint(ruleID, keyID, secret string) string {
	h := sha256.Sum256([]byte(keyID + "\x00" + secret))
	return ruleID + ":" + hex.EncodeToString(h[:8])
}

// defaultCacheLimit bounds a Fingerprinter's memory: two generations of
// this many entries, about 100 bytes each.
const defaultCacheLimit = 4096

// Fingerprinter computes fingerprints and remembers recent ones, so that
// a secret found in many commits, and fingerprinted to filter, to report
// and to audit, costs one KDF call. The zero value is ready to use, and
// it is safe for concurrent use.
type Fingerprinter struct {
	mu sync.Mutex
	// recent and older are two generations of a bounded cache: when
	// recent is full it becomes older and the older one is dropped; a hit
	// in older moves to recent. Secrets are kept hashed, not in clear.
	recent, older map[fingerprintKey]string
	// limit is the size of a generation; zero means defaultCacheLimit.
	limit int
}

type fingerprintKey struct {
	rule   string
	secret [sha256.Size]byte
}

// Fingerprint returns Fingerprint(ruleID, keyID, secret), computed once
// for each secret while it stays among the recent ones.
func (p *Fingerprinter) Fingerprint(ruleID, keyID, secret string) string {
	if keyID != "" {
		return keyIDFingerprint(ruleID, keyID)
	}
	k := p.key(ruleID, secret)
	if fp, ok := p.lookup(k); ok {
		return fp
	}
	// Two goroutines that miss at once both compute; the result is the
	// same, and the lock is never held over a KDF call.
	fp := Fingerprint(ruleID, "", secret)
	p.mu.Lock()
	p.store(k, fp)
	p.mu.Unlock()
	return fp
}

// Fill sets the fingerprint of every finding of fs that has none. The
// distinct secrets are fingerprinted first, on every core: a scan with
// hundreds of generic secrets would otherwise spend seconds in the KDF,
// one after another. It stops early, with ctx's error, when ctx is done;
// the findings not reached keep no fingerprint.
func (p *Fingerprinter) Fill(ctx context.Context, fs []Finding) error {
	err := p.Warm(ctx, fs)
	for i := range fs {
		f := &fs[i]
		if f.Fingerprint != "" {
			continue
		}
		if err != nil && f.KeyID == "" {
			if _, ok := p.lookup(p.key(f.RuleID, f.Secret)); !ok {
				continue
			}
		}
		f.Fingerprint = p.Fingerprint(f.RuleID, f.KeyID, f.Secret)
	}
	return err
}

// Warm fingerprints the distinct secrets of fs that p does not know yet,
// on every core, so that the calls that follow find them cached. It stops
// early, with ctx's error, when ctx is done: thousands of secrets cost
// seconds, more than a push hook's budget.
func (p *Fingerprinter) Warm(ctx context.Context, fs []Finding) error {
	type job struct{ rule, secret string }
	seen := make(map[fingerprintKey]bool)
	var jobs []job
	for _, f := range fs {
		if f.KeyID != "" || f.Fingerprint != "" {
			continue // no KDF, or done already
		}
		k := p.key(f.RuleID, f.Secret)
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, ok := p.lookup(k); !ok {
			jobs = append(jobs, job{f.RuleID, f.Secret})
		}
	}
	if len(jobs) == 0 {
		return ctx.Err()
	}
	var wg sync.WaitGroup
	next := make(chan job)
	for range min(runtime.NumCPU(), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				p.Fingerprint(j.rule, "", j.secret)
			}
		}()
	}
	defer wg.Wait()
	defer close(next)
	for _, j := range jobs {
		select {
		case next <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}

func (p *Fingerprinter) key(ruleID, secret string) fingerprintKey {
	return fingerprintKey{rule: ruleID, secret: sha256.Sum256([]byte(secret))}
}

func (p *Fingerprinter) lookup(k fingerprintKey) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fp, ok := p.recent[k]; ok {
		return fp, true
	}
	fp, ok := p.older[k]
	if ok {
		p.store(k, fp)
	}
	return fp, ok
}

// store adds an entry to the recent generation; p.mu is held.
func (p *Fingerprinter) store(k fingerprintKey, fp string) {
	limit := p.limit
	if limit <= 0 {
		limit = defaultCacheLimit
	}
	if len(p.recent) >= limit {
		p.older, p.recent = p.recent, nil
	}
	if p.recent == nil {
		p.recent = make(map[fingerprintKey]string)
	}
	p.recent[k] = fp
}
