package detectors

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Fake credentials, assembled at run time so that this file itself holds
// no string a scanner (ours included) would report.
var (
	keyID     = "AKIA" + "QYLPMN5HHHFPZAM2"
	keyID2    = "AKIA" + "ZR3VQ7WXK2MDTE6C"
	tempKeyID = "ASIA" + "Y34FZKBOKMUTVV7A"
	secretKey = "9dr/Wq+XyWX" + "9kM2Lp3QzR8vT0bN6cHjE4fUaGs1Q"
	secret2   = "Hh3J7kLm9" + "NpQr2StUv4WxYz6AbCdEf8GhIj0Kl5P"
	token     = "IQoJb3JpZ2lu" + strings.Repeat("X2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ", 4)
	ghToken   = "ghp_" + "R8kLm2Xq9TzW4vB7nC1pD6sF3gH5jK0aZ1yE"
	ghFine    = "github_pat_" + "11ABCDEFG0aBcDeFgHiJkL_" + "mN0pQrStUvWxYz1234567890aBcDeFgHiJkLmNoPqRsTuVwXyZ123456789"
	slackBot  = "xoxb-" + "263594206564-2343594206574-FGqddMF8t9ZZJvQ3Yh6mPxE7"
	slackHook = "https://hooks.slack.com/services/" + "T024BE7LD/B09PQ4X9J/k3Hw8RtqZ1YpN7vD2sL5mXc4"
	stripe    = "sk_live_" + "51HxKbGF2eZvKYlo2C0aBcDeFgH1jK2lM3nO4pQ"
	googleKey = "AIza" + "SyD8xK2mN4pQ7rS1tU3vW5xY9zA0bC6dE8f"
	pemKey    = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MnrfNaXlF7pKNtH3\n" +
		"vQZ8Kx1Yw2Lb7Tq9Pc4Rm6Ns8Jd3Fh5Gk2Vz0Ua1Xe7Wt9Qy4Sr6Op3Ml8Nk5Ji2Hg\n-----END RSA " + "PRIVATE KEY-----\n"
)

type want struct {
	Rule   string
	Secret string
	KeyID  string
	Token  string
}

func scan(t *testing.T, path, data string) []want {
	t.Helper()
	var got []want
	for _, m := range Default().Scan(path, []byte(data)) {
		if data[m.Start:m.End] != m.Secret && m.KeyID == "" {
			t.Errorf("match %s: data[%d:%d] = %q, want the secret", m.RuleID, m.Start, m.End, data[m.Start:m.End])
		}
		got = append(got, want{Rule: m.RuleID, Secret: m.Secret, KeyID: m.KeyID, Token: m.SessionToken})
	}
	return got
}

func TestTruePositives(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		data string
		want []want
	}{
		{"aws pair in env file", ".env",
			"AWS_ACCESS_KEY_ID=" + keyID + "\nAWS_SECRET_ACCESS_KEY=" + secretKey + "\n",
			[]want{{Rule: AWSKeyRule, Secret: secretKey, KeyID: keyID}}},
		{"aws pair far apart", "config.py",
			"KEY = '" + keyID + "'\n" + strings.Repeat("x = 1\n", 500) + "secret = '" + secretKey + "'\n",
			[]want{{Rule: AWSKeyRule, Secret: secretKey, KeyID: keyID}}},
		{"aws pair on one line in json", "creds.json",
			`{"AccessKeyId":"` + keyID + `","SecretAccessKey":"` + secretKey + `"}`,
			[]want{{Rule: AWSKeyRule, Secret: secretKey, KeyID: keyID}}},
		{"two pairs ranked by context", "credentials",
			"[a]\naws_access_key_id = " + keyID + "\naws_secret_access_key = " + secretKey +
				"\n[b]\naws_access_key_id = " + keyID2 + "\naws_secret_access_key = " + secret2 + "\n",
			[]want{{Rule: AWSKeyRule, Secret: secretKey, KeyID: keyID}, {Rule: AWSKeyRule, Secret: secret2, KeyID: keyID2}}},
		{"key id alone", "main.go", `id := "` + keyID + `"`,
			[]want{{Rule: AWSKeyIDRule, Secret: keyID, KeyID: keyID}}},
		{"key id in a presigned url", "notes.md", "https://b.s3.amazonaws.com/f?X-Amz-Credential=" + keyID + "/20240101/us-east-1/s3/aws4_request",
			[]want{{Rule: AWSKeyIDRule, Secret: keyID, KeyID: keyID}}},
		{"temporary key with session token", "env.sh",
			"export AWS_ACCESS_KEY_ID=" + tempKeyID + "\nexport AWS_SECRET_ACCESS_KEY=" + secretKey + "\nexport AWS_SESSION_TOKEN=" + token + "\n",
			[]want{{Rule: AWSKeyRule, Secret: secretKey, KeyID: tempKeyID, Token: token}}},
		{"pem private key", "id_rsa", pemKey, []want{{Rule: "private-key", Secret: strings.TrimSuffix(pemKey, "\n")}}},
		{"pem private key escaped in json", "sa.json",
			`{"private_key": "` + strings.ReplaceAll(strings.TrimSuffix(pemKey, "\n"), "\n", `\n`) + `"}`,
			[]want{{Rule: "private-key", Secret: strings.ReplaceAll(strings.TrimSuffix(pemKey, "\n"), "\n", `\n`)}}},
		{"github token", "ci.yml", "token: " + ghToken, []want{{Rule: "github-token", Secret: ghToken}}},
		{"github fine-grained token", "x.sh", "GH=" + ghFine, []want{{Rule: "github-fine-grained-token", Secret: ghFine}}},
		{"slack bot token", "bot.js", `const t = "` + slackBot + `";`, []want{{Rule: "slack-token", Secret: slackBot}}},
		{"slack webhook", "notify.sh", "curl -X POST " + slackHook, []want{{Rule: "slack-webhook", Secret: slackHook}}},
		{"stripe live key", "pay.rb", "Stripe.api_key = '" + stripe + "'", []want{{Rule: "stripe-live-key", Secret: stripe}}},
		{"google api key", "maps.html", `<script src="https://maps.googleapis.com/maps/api/js?key=` + googleKey + `"></script>`,
			[]want{{Rule: "google-api-key", Secret: googleKey}}},
		{"generic password in yaml", "values.yaml", "db:\n  password: Xk9#mP2vL7qR4wZ\n",
			[]want{{Rule: "generic-secret", Secret: "Xk9#mP2vL7qR4wZ"}}},
		{"generic token in go", "client.go", `apiToken := "f8Kq2LmZ7xR4vN9pW3sT6yB1cH5jD0gA"`,
			[]want{{Rule: "generic-secret", Secret: "f8Kq2LmZ7xR4vN9pW3sT6yB1cH5jD0gA"}}},
		{"generic hex secret in env", ".env", "CLIENT_SECRET=8f14e45fceea167a5a36dedd4bea2543b7c1e2d9a4f6\n",
			[]want{{Rule: "generic-secret", Secret: "8f14e45fceea167a5a36dedd4bea2543b7c1e2d9a4f6"}}},
		{"generic json secret", "config.json", `{"client_secret": "Zq8!rT4#vN2@kL6$"}`,
			[]want{{Rule: "generic-secret", Secret: "Zq8!rT4#vN2@kL6$"}}},
		{"generic token in a url query", "README.md", "https://ci.example.org/x.svg?token=squRCxmMZdFNSQ9qAtbQ&branch=main",
			[]want{{Rule: "generic-secret", Secret: "squRCxmMZdFNSQ9qAtbQ"}}},
		{"generic base64 of random bytes", "secret.yaml", "  password: 8xJ3+qL0vZ7w2mN5pR9tYg==\n",
			[]want{{Rule: "generic-secret", Secret: "8xJ3+qL0vZ7w2mN5pR9tYg=="}}},
		{"generic 40-hex under a token name", ".env", "GITHUB_TOKEN=4f9a1c2e8b7d6a5f3e2d1c0b9a8f7e6d5c4b3a29\n",
			[]want{{Rule: "generic-secret", Secret: "4f9a1c2e8b7d6a5f3e2d1c0b9a8f7e6d5c4b3a29"}}},
		{"crlf line ends", "win.env", "A=1\r\nAWS_ACCESS_KEY_ID=" + keyID + "\r\nAWS_SECRET_ACCESS_KEY=" + secretKey + "\r\n",
			[]want{{Rule: AWSKeyRule, Secret: secretKey, KeyID: keyID}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, scan(t, tt.path, tt.data)); diff != "" {
				t.Errorf("Scan() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFalsePositives(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		data string
	}{
		{"aws documented example pair", "README.md",
			"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"},
		{"aws example family", "docs.md", "ASIAIOSFODNN7EXAMPLE AKIAI44QH8DHBEXAMPLE"},
		{"iam unique ids are not keys", "policy.json", `"AIDA` + `QYLPMN5HHHFPZAM2" "AROA` + `QYLPMN5HHHFPZAM2"`},
		{"key id inside a base64 blob", "img.txt",
			"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+AKIAQYLPMN5HHHFPZAM2/wAAQUBAScY42YAAAAASUVORK5CYII="},
		{"git commit ids and sha1 sums", "CHANGELOG",
			"commit 3f786850e387550fdab836ed7e6dc881de23001b\nsha1: da39a3ee5e6b4b0d3255bfef95601890afd80709\n"},
		{"uuid assigned to token", "conf.yaml", "token: 123e4567-e89b-12d3-a456-426614174000\n"},
		{"go.sum hashes", "go.sum", "github.com/x/token v1.0.0 h1:Xk9mP2vL7qR4wZ8f14e45fceea167a5a36dedd4be=\n"},
		{"lock file integrity", "package-lock.json", `"integrity": "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="`},
		{"placeholders", "README.md", "password: changeme\nsecret: <your-secret-here>\napi_key: xxxxxxxxxxxxxxxxxxxx\ntoken: ${GITHUB_TOKEN}\npassword: {{ .Values.password }}\n"},
		{"references and calls", "app.py", "password = os.environ['DB_PASSWORD']\ntoken = get_token()\nsecret = settings.SECRET_KEY\napi_key: string\n"},
		{"comparison", "test.js", `if (token == "abcdef1234567890XYZ") {}`},
		{"low entropy value", ".env", "PASSWORD=aaaaaaaaaaaaaaaaaaaa1\n"},
		{"secret name, not value", "deploy.yaml", "secretName: tls-cert-2024\ntokenPath: /var/run/secrets/token\n"},
		{"placeholder github token", "docs.md", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
		{"pem placeholder", "docs.md", "-----BEGIN RSA " + "PRIVATE KEY-----\n...\n-----END RSA " + "PRIVATE KEY-----"},
		{"public key", "id_rsa.pub", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MnrfNaXlF7pKNtH3\n-----END PUBLIC KEY-----"},
		{"40 char base64 with no key id", "blob.txt", "value: " + secretKey},
		{"asia in a time zone", "tz.go", `loc := "Asia/Tokyo"`},
		{"base64 of plain words", "secret.yaml", "data:\n  password: cGFzc3dvcmQK\n  token: c3VwZXJzZWNyZXQ=\n  key: eW91ciBiYXNlIGFyZSBiZWxvbmcgdG8gdXM=\n"},
		{"identifiers and names", "main.go", "secretKey := s3ConfigSecretKey\ntoken: k8s-user-info\nsecret: k8s-sys-client\npassword: wordpress.local-tls\n"},
		{"template reference", "deploy.yaml", "imagePullSecrets: .Values.global.imagePullSecrets\n"},
		{"sha-1 of a value in a plan", "plan.txt", `private_key_pem: "088d7282d5fd07c60edbb06a0391bbfef9ed0752"`},
		{"numbers, arns, hashes, identifiers", "z.go", "EPASSWD = -0x3f879678\nrole_secret: arn:aws:iam::123456789012:role/x\npassword: md5c98cbfeb6a347a47eb8e96cfb4c4b890\ntoken = TestAccKey_Get\n"},
		{"pgp public key", "k.go", "pgp_key: mQENBFXbjPUBCADjNjCUQwfxKL+RR2GA6pv/1K+zJZ8UWIF9S0lk7cVIEfJiprzzwiMwBS\n"},
		{"escaped document in a string", "x_test.go", `secret := "apiVersion: v1\nkind: Secret"`},
		// Seen in hashicorp/terraform's history.
		{"keyboard-run placeholder", "remote-config.md", `-backend-config="access_token=1234567890abcdefgh1234567890"`},
		{"placeholder url credentials", "sources.md", `source = "git::https://MACHINE-USER:MACHINE-PASS@github.com/org/privatemodules//modules/foo"`},
		{"worded url credentials", "api.go", "// for example, https://login-user-name:personal-access-token@github.com/repo-owner-name/repo-name.git"},
		{"example passwords", "docs.md", "password = \"MyP@ssw0rd\"\nexport PASSWORD=\"P4ssw0rd1!\"\n"},
		{"pagination token", "storage.replay", `{"kind": "storage#objects", "nextPageToken": "ChBvYmovd2l0aC9zbGFzaGVz"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := scan(t, tt.path, tt.data); len(got) != 0 {
				t.Errorf("Scan() = %+v, want no findings", got)
			}
		})
	}
}

func TestPositionsInLongLine(t *testing.T) {
	t.Parallel()
	prefix := strings.Repeat("var a=1;", 2500) // a 20 KB minified line
	data := prefix + `k="` + keyID + `";` + strings.Repeat("b=2;", 100)
	ms := Default().Scan("app.min.js", []byte(data))
	if len(ms) != 1 {
		t.Fatalf("got %d matches, want 1", len(ms))
	}
	if got, want := ms[0].Start, len(prefix)+3; got != want {
		t.Errorf("Start = %d, want %d", got, want)
	}
}

func FuzzScan(f *testing.F) {
	f.Add("AWS_ACCESS_KEY_ID=" + keyID + "\nAWS_SECRET_ACCESS_KEY=" + secretKey)
	f.Add("password: Xk9#mP2vL7qR4wZ")
	f.Add(pemKey)
	e := Default()
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range e.Scan("f", []byte(s)) {
			if m.Start < 0 || m.End > len(s) || m.Start > m.End {
				t.Fatalf("match %s out of range: [%d,%d) of %d", m.RuleID, m.Start, m.End, len(s))
			}
		}
	})
}

// FuzzPairAWS checks the AWS pairing on arbitrary text around a key id:
// every pair it makes holds a plausible secret found in the data, at the
// key id's place, and a key id is never paired twice.
func FuzzPairAWS(f *testing.F) {
	f.Add("AWS_ACCESS_KEY_ID=" + keyID + "\nAWS_SECRET_ACCESS_KEY=" + secretKey + "\n")
	f.Add("id: " + keyID + "\nid2: " + keyID2 + "\nsecret: " + secret2 + "\ntoken: " + token + "\n")
	f.Add(tempKeyID + " " + secretKey + " " + token)
	e := Default() // built once: building it costs more than a scan
	f.Fuzz(func(t *testing.T, data string) {
		seen := map[string]bool{}
		for _, m := range e.Scan("f", []byte(data)) {
			if m.RuleID != AWSKeyRule {
				continue
			}
			if seen[m.KeyID] {
				t.Fatalf("key id %s paired twice", m.KeyID)
			}
			seen[m.KeyID] = true
			if m.Decoded == "" {
				if data[m.Start:m.End] != m.KeyID {
					t.Fatalf("pair reported at %q, not at its key id %s", data[m.Start:m.End], m.KeyID)
				}
				if !strings.Contains(data, m.Secret) || !plausibleAWSSecret(m.Secret) {
					t.Fatalf("paired secret %q is not a plausible secret from the data", m.Secret)
				}
			}
		}
	})
}
