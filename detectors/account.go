package detectors

// The AWS account a key id carries, decoded offline, and the canary-token
// accounts whose keys must never be sent to AWS: pure, like the rest of the
// package, so that scanning needs no AWS code.

import (
	"encoding/base32"
	"encoding/binary"
	"fmt"
)

// AccountID decodes the 12-digit AWS account id that a key id carries.
// The 16 characters after the 4-character prefix are base32; bits 1 to 40
// of their first 6 bytes are the account. Keys issued before the scheme
// (their fifth character is I or J) carry no account: ok is false.
func AccountID(keyID string) (account string, ok bool) {
	if len(keyID) != 20 {
		return "", false
	}
	if c := keyID[4]; c == 'I' || c == 'J' {
		return "", false
	}
	raw, err := base32.StdEncoding.DecodeString(keyID[4:])
	if err != nil || len(raw) < 6 {
		return "", false
	}
	var b [8]byte
	copy(b[2:], raw[:6])
	n := (binary.BigEndian.Uint64(b[:]) & 0x7FFFFFFFFF80) >> 7
	return fmt.Sprintf("%012d", n), true
}

// canaryAccounts are AWS accounts that issue canary tokens: keys planted
// to raise an alarm when someone uses them. Calling AWS with one (even
// sts:GetCallerIdentity) sets the alarm off, so they are flagged and never
// sent. Thinkst's canarytokens.org accounts first, then accounts of
// look-alike services, as published by secret-scanning projects.
var canaryAccounts = map[string]bool{
	"052310077262": true, "171436882533": true, "266735846894": true, "534261010715": true,
	"595918472158": true, "717712589309": true, "730335385048": true, "819147034852": true,
	"893192397702": true, "992382622183": true,

	"044858866125": true, "251535659677": true, "344043088457": true, "351906852752": true,
	"390477818340": true, "426127672474": true, "427150556519": true, "439872796651": true,
	"445142720921": true, "465867158099": true, "637958123769": true, "693412236332": true,
	"732624840810": true, "735421457923": true, "959235150393": true, "982842642351": true,
}

// IsCanary reports whether account issues canary tokens.
func IsCanary(account string) bool { return canaryAccounts[account] }
