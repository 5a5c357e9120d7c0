package finding

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The fingerprints below are pinned: ignore files, baselines and sweep
// state hold them, so a change of KDF, parameters or salt must be a new
// version of the scheme, never an accident.
func TestFingerprintIsPinned(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule, keyID, secret string
		want, legacy        string
	}{
		{"generic-secret", "", "s3cr3t-value-1", "generic-secret:c143b14142b160d4", "generic-secret:7a11e54b970725d9"},
		{"github-token", "", "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE", "github-token:6ceeea707e309c70", "github-token:c67ac6fe91a3a819"},
		{"generic-secret", "", "", "generic-secret:fa5325f369dab53c", "generic-secret:6e340b9cffb37a98"},
		// An AWS key id names one secret: the secret plays no part.
		{"aws-access-key", "AKIA" + "ZR3VQ7WXK2MDTE6B", "9dr/WqXyWX" + "9kM2Lp3QzR8vT0bN6cHjE4fUaGs1Q", "aws-access-key:7a69ea580c66bbed", "aws-access-key:b64a45a8c37eed03"},
	}
	for _, tt := range tests {
		t.Run(tt.rule+"/"+tt.secret, func(t *testing.T) {
			t.Parallel()
			if got := Fingerprint(tt.rule, tt.keyID, tt.secret); got != tt.want {
				t.Errorf("Fingerprint = %s, want %s", got, tt.want)
			}
			if got := LegacyFingerprint(tt.rule, tt.keyID, tt.secret); got != tt.legacy {
				t.Errorf("LegacyFingerprint = %s, want %s", got, tt.legacy)
			}
		})
	}
}

func TestFingerprintOfAWSKeyHoldsNoSecret(t *testing.T) {
	t.Parallel()
	const rule, id = "aws-access-key", "AKIA" + "ZR3VQ7WXK2MDTE6B"
	a := Fingerprint(rule, id, "9dr/WqXyWX"+"9kM2Lp3QzR8vT0bN6cHjE4fUaGs1Q")
	if b := Fingerprint(rule, id, "another-secret-paired-by-mistake"); a != b {
		t.Errorf("the same key id gives %s and %s: the secret leaks into the fingerprint", a, b)
	}
	h := sha256.Sum256([]byte("keysweep-fp-v2\x00" + id))
	if want := rule + ":" + hex.EncodeToString(h[:8]); a != want {
		t.Errorf("Fingerprint = %s, want %s", a, want)
	}
	if b := Fingerprint("aws-access-key-id", id, id); b == a || !strings.HasPrefix(b, "aws-access-key-id:") {
		t.Errorf("a key id alone gives %s, the pair %s", b, a)
	}
}

// The weakness the scheme replaces: the old fingerprint is a fast
// unsalted hash of the secret, so a wordlist finds the secret.
func TestFingerprintIsNotAFastHashOfTheSecret(t *testing.T) {
	t.Parallel()
	const rule, secret = "generic-secret", "hunter2-password"
	fp := Fingerprint(rule, "", secret)
	for _, pre := range []string{"", "\x00", "keysweep-fp-v2\x00", "keysweep-fp-v2\x00" + rule} {
		h := sha256.Sum256([]byte(pre + secret))
		if fp == rule+":"+hex.EncodeToString(h[:8]) {
			t.Errorf("Fingerprint is sha256(%q + secret)", pre)
		}
	}
	if fp == LegacyFingerprint(rule, "", secret) {
		t.Error("Fingerprint is the legacy fingerprint")
	}
}

func TestFingerprintIsStableAndDistinct(t *testing.T) {
	t.Parallel()
	a := Fingerprint("generic-secret", "", "s3cr3t-value-1")
	if a != Fingerprint("generic-secret", "", "s3cr3t-value-1") {
		t.Error("fingerprint is not stable")
	}
	for _, b := range []string{
		Fingerprint("generic-secret", "", "s3cr3t-value-2"),
		Fingerprint("github-token", "", "s3cr3t-value-1"),
		Fingerprint("generic-secret", "AKIA", "s3cr3t-value-1"),
	} {
		if a == b {
			t.Errorf("fingerprints collide: %s", a)
		}
	}
	if !strings.HasPrefix(a, "generic-secret:") {
		t.Errorf("fingerprint %q does not start with the rule id", a)
	}
}

func TestFingerprinterMatchesFingerprint(t *testing.T) {
	t.Parallel()
	var p Fingerprinter
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			// Each secret is asked for by several goroutines at once.
			secret := fmt.Sprintf("s3cr3t-%d", i%4)
			if got, want := p.Fingerprint("generic-secret", "", secret), Fingerprint("generic-secret", "", secret); got != want {
				t.Errorf("Fingerprinter gives %s for %s, want %s", got, secret, want)
			}
		})
	}
	wg.Wait()
	const id = "AKIA" + "ZR3VQ7WXK2MDTE6B"
	if got, want := p.Fingerprint("aws-access-key", id, "x"), Fingerprint("aws-access-key", id, "x"); got != want {
		t.Errorf("Fingerprinter gives %s for a key id, want %s", got, want)
	}
}

func TestFingerprinterIsBounded(t *testing.T) {
	t.Parallel()
	p := Fingerprinter{limit: 3}
	for i := range 10 {
		p.Fingerprint("generic-secret", "", fmt.Sprint("s", i))
		if n := len(p.recent) + len(p.older); n > 2*p.limit {
			t.Fatalf("after %d secrets the cache holds %d, more than %d", i+1, n, 2*p.limit)
		}
	}
	// The last secret is remembered: asking again is a lookup.
	if _, ok := p.lookup(p.key("generic-secret", "s9")); !ok {
		t.Error("the last secret was not remembered")
	}
	if _, ok := p.lookup(p.key("generic-secret", "s0")); ok {
		t.Error("the first secret is still remembered past the bound")
	}
}

func TestFillFingerprintsEachSecret(t *testing.T) {
	t.Parallel()
	fs := []Finding{
		{RuleID: "generic-secret", Secret: "s3cr3t-value-1"},
		{RuleID: "generic-secret", Secret: "s3cr3t-value-1", Path: "again"},
		{RuleID: "aws-access-key", KeyID: "AKIA" + "ZR3VQ7WXK2MDTE6B", Secret: "9dr/WqXyWX" + "9kM2Lp3QzR8vT0bN6cHjE4fUaGs1Q"},
		{RuleID: "generic-secret", Secret: "kept", Fingerprint: "generic-secret:0123456789abcdef"},
	}
	var p Fingerprinter
	if err := p.Fill(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs[:3] {
		if want := Fingerprint(f.RuleID, f.KeyID, f.Secret); f.Fingerprint != want {
			t.Errorf("finding %d: fingerprint %s, want %s", i, f.Fingerprint, want)
		}
	}
	if fs[3].Fingerprint != "generic-secret:0123456789abcdef" {
		t.Errorf("a fingerprint read from a report was replaced: %s", fs[3].Fingerprint)
	}
}

// BenchmarkFingerprint measures what a fingerprint costs the scan, and so
// what one guess costs an attacker holding a report.
func BenchmarkFingerprint(b *testing.B) {
	b.Run("kdf", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			Fingerprint("generic-secret", "", fmt.Sprint("guess-", i))
		}
	})
	b.Run("aws-key-id", func(b *testing.B) {
		for b.Loop() {
			Fingerprint("aws-access-key", "AKIA"+"ZR3VQ7WXK2MDTE6B", "ignored")
		}
	})
	b.Run("cached", func(b *testing.B) {
		var p Fingerprinter
		for b.Loop() {
			p.Fingerprint("generic-secret", "", "s3cr3t-value-1")
		}
	})
	b.Run("legacy", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			LegacyFingerprint("generic-secret", "", fmt.Sprint("guess-", i))
		}
	})
}

// TestWarmStopsWithItsContext: fingerprinting thousands of secrets costs
// seconds; a hook whose budget is spent stops at once.
func TestWarmStopsWithItsContext(t *testing.T) {
	t.Parallel()
	var fs []Finding
	for i := range 64 {
		fs = append(fs, Finding{RuleID: "generic-secret", Secret: fmt.Sprintf("s3cr3t-value-%d", i)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var p Fingerprinter
	if err := p.Warm(ctx, fs); !errors.Is(err, context.Canceled) {
		t.Fatalf("Warm = %v, want context.Canceled", err)
	}
	if n := len(p.recent) + len(p.older); n > runtime.NumCPU() {
		t.Errorf("%d secrets fingerprinted after the context was done", n)
	}
	if err := p.Warm(context.Background(), fs); err != nil {
		t.Fatal(err)
	}
	if n := len(p.recent); n != len(fs) {
		t.Errorf("%d of %d secrets cached", n, len(fs))
	}
}
