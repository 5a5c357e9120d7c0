package detectors

import "testing"

func TestAccountID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		keyID   string
		account string
		ok      bool
	}{
		// Published examples of key ids and their accounts.
		{"ASIAY34FZKBOKMUTVV7A", "609629065308", true},
		{"AKIASP2TPHJSQH3FJRUX", "171436882533", true}, // a canarytokens.org key
		// Old-style keys (fifth character I or J) carry no account.
		{"AKIAIOSFODNN7EXAMPLE", "", false},
		{"AKIAJQABLZS4A3QDU576", "", false},
		{"AKIA", "", false},
		{"AKIA0000000000000000", "", false}, // 0 is not base32
	}
	for _, tt := range tests {
		t.Run(tt.keyID, func(t *testing.T) {
			t.Parallel()
			got, ok := AccountID(tt.keyID)
			if got != tt.account || ok != tt.ok {
				t.Errorf("AccountID(%q) = %q, %v; want %q, %v", tt.keyID, got, ok, tt.account, tt.ok)
			}
		})
	}
}

func TestIsCanary(t *testing.T) {
	t.Parallel()
	account, _ := AccountID("AKIASP2TPHJSQH3FJRUX")
	if !IsCanary(account) {
		t.Errorf("account %s of a canarytokens.org key is not flagged", account)
	}
	if IsCanary("609629065308") {
		t.Error("an ordinary account is flagged as canary")
	}
}
