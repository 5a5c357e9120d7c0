package detectors

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type placedWant struct {
	Rule, Secret, KeyID, Token, Decoded string
	// At is the text of the data where the finding is placed.
	At string
}

func scanPlaced(path, data string) []placedWant {
	var got []placedWant
	for _, m := range Default().Scan(path, []byte(data)) {
		got = append(got, placedWant{m.RuleID, m.Secret, m.KeyID, m.SessionToken, m.Decoded, data[m.Start:m.End]})
	}
	return got
}

// k8sSecretYAML returns a Secret manifest with the data entries given as
// key, plain value pairs, each base64-encoded on its own line.
func k8sSecretYAML(kv ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  namespace: prod\ntype: Opaque\ndata:\n")
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString("  " + kv[i] + ": " + b64std(kv[i+1]) + "\n")
	}
	return b.String()
}

func TestKubernetesSecrets(t *testing.T) {
	t.Parallel()
	pw := filePassword
	short := "Zq9#kL2pXw" // ten characters: its base64 is shorter than a run findEncoded decodes
	dockerJSON := `{"auths":{"registry.corp.net":{"auth":"` + b64std("deploy:"+pw) + `"}}}`
	// kubectl get secret -o json: data comes before kind.
	jsonSecret, _ := json.MarshalIndent(map[string]any{
		"apiVersion": "v1",
		"data":       map[string]string{"AWS_ACCESS_KEY_ID": b64std(keyID), "AWS_REGION": b64std("eu-west-1"), "AWS_SECRET_ACCESS_KEY": b64std(secretKey)},
		"kind":       "Secret",
		"metadata":   map[string]string{"name": "aws"},
	}, "", "    ")
	list := "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  data:\n    AWS_ACCESS_KEY_ID: " + b64std(keyID) +
		"\n    AWS_SECRET_ACCESS_KEY: " + b64std(secretKey) + "\n  kind: Secret\n  metadata:\n    name: a\n" +
		"- apiVersion: v1\n  data:\n    id: " + b64std(keyID2) + "\n  kind: ConfigMap\n"
	tests := []struct {
		name, data string
		want       []placedWant
	}{
		{"aws id and secret pair across entries, placed from one to the other",
			k8sSecretYAML("AWS_ACCESS_KEY_ID", keyID, "AWS_REGION", "us-east-1", "AWS_SECRET_ACCESS_KEY", secretKey),
			[]placedWant{{AWSKeyRule, secretKey, keyID, "", "base64",
				b64std(keyID) + "\n  AWS_REGION: " + b64std("us-east-1") + "\n  AWS_SECRET_ACCESS_KEY: " + b64std(secretKey)}}},
		{"kubectl json: data before kind", string(jsonSecret),
			[]placedWant{{AWSKeyRule, secretKey, keyID, "", "base64",
				b64std(keyID) + "\",\n        \"AWS_REGION\": \"" + b64std("eu-west-1") + "\",\n        \"AWS_SECRET_ACCESS_KEY\": \"" + b64std(secretKey)}}},
		{"temporary key with its session token",
			k8sSecretYAML("AWS_ACCESS_KEY_ID", tempKeyID, "AWS_SECRET_ACCESS_KEY", secretKey, "AWS_SESSION_TOKEN", token),
			[]placedWant{{AWSKeyRule, secretKey, tempKeyID, token, "base64",
				b64std(tempKeyID) + "\n  AWS_SECRET_ACCESS_KEY: " + b64std(secretKey) + "\n  AWS_SESSION_TOKEN: " + b64std(token)}}},
		{"a list of secrets; a ConfigMap is not one", list,
			[]placedWant{
				{AWSKeyRule, secretKey, keyID, "", "base64", b64std(keyID) + "\n    AWS_SECRET_ACCESS_KEY: " + b64std(secretKey)},
				{AWSKeyIDRule, keyID2, keyID2, "", "base64", b64std(keyID2)},
			}},
		{"a short password, decoded with its key", k8sSecretYAML("username", "app", "DB_PASSWORD", short),
			[]placedWant{{GenericRule, b64std(short), "", "", "", b64std(short)}}},
		{"dockerconfigjson", "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: " + b64std(dockerJSON) + "\n",
			[]placedWant{{"docker-registry-auth", b64std("deploy:" + pw), "", "", "base64", b64std(dockerJSON)}}},
		{"stringData is scanned as it is", "apiVersion: v1\nkind: Secret\nstringData:\n  AWS_ACCESS_KEY_ID: " + keyID + "\n  AWS_SECRET_ACCESS_KEY: " + secretKey + "\n",
			[]placedWant{{AWSKeyRule, secretKey, keyID, "", "", keyID}}},
		{"a block scalar", "kind: Secret\ndata:\n  token: |\n    " + b64std("GITHUB_TOKEN="+ghToken) + "\n  other: " + b64std("x") + "\n",
			[]placedWant{{"github-token", ghToken, "", "", "base64", b64std("GITHUB_TOKEN=" + ghToken)}}},
		{"secret after a template directive and a second document", "---\nkind: ConfigMap\ndata:\n  a: b\n---\n{{- if .Values.enabled }}\nkind: Secret\ndata:\n  password: {{ .Values.password | b64enc }}\n  ID: " + b64std(keyID) + "\n{{- end }}\n",
			[]placedWant{{AWSKeyIDRule, keyID, keyID, "", "base64", b64std(keyID)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, scanPlaced("k8s/secret.yaml", tt.data)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestKubernetesEntryRuns: each entry is decoded, short ones too, and
// scanned as key="value", at its value; an AWS key id and its secret are
// one run.
func TestKubernetesEntryRuns(t *testing.T) {
	t.Parallel()
	data := k8sSecretYAML("AWS_ACCESS_KEY_ID", keyID, "pin", "4921", "AWS_SECRET_ACCESS_KEY", secretKey, "note", "two\nlines", "bin", "\x00\x01\x02")
	type run struct{ At, How, Text string }
	var got []run
	var st scanState
	for _, r := range structuredRuns("s.yaml", []byte(data), &st) {
		got = append(got, run{data[r.start:r.end], r.how, string(r.text)})
	}
	want := []run{
		{b64std(keyID) + "\n  pin: " + b64std("4921") + "\n  AWS_SECRET_ACCESS_KEY: " + b64std(secretKey), "base64",
			`AWS_ACCESS_KEY_ID="` + keyID + "\"\n" + `AWS_SECRET_ACCESS_KEY="` + secretKey + "\"\n"},
		{b64std("4921"), "base64", "pin=\"4921\"\n"},
		{b64std("two\nlines"), "base64", "note:\ntwo\nlines\n"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Not Secrets: a sealed secret's data is encrypted, a ConfigMap's
	// plain.
	for _, kind := range []string{"SealedSecret", "ConfigMap", "Secrets"} {
		if runs := structuredRuns("s.yaml", []byte(strings.Replace(data, "kind: Secret", "kind: "+kind, 1)), &st); len(runs) != 0 {
			t.Errorf("kind %s: %d runs, want none", kind, len(runs))
		}
	}
}

// tfstateV4 is a state of Terraform 1.x: two access keys whose ids and
// secrets are attributes far apart, a random password, a TLS key and
// outputs.
func tfstateV4(pw, pw2 string) string {
	key := func(name, id, secret string) string {
		return `{
      "mode": "managed",
      "type": "aws_iam_access_key",
      "name": "` + name + `",
      "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "create_date": "2024-03-01T10:00:00Z",
            "encrypted_secret": null,
            "encrypted_ses_smtp_password_v4": null,
            "id": "` + id + `",
            "key_fingerprint": null,
            "pgp_key": null,
            "secret": "` + secret + `",
            "ses_smtp_password_v4": "` + pw2 + `",
            "status": "Active",
            "user": "` + name + `"
          },
          "sensitive_attributes": [],
          "private": "bnVsbA==",
          "dependencies": [
            "aws_iam_user.` + name + `"
          ]
        }
      ]
    }`
	}
	pem := strings.ReplaceAll(strings.TrimSuffix(pemKey, "\n"), "\n", `\n`)
	return `{
  "version": 4,
  "terraform_version": "1.7.5",
  "serial": 12,
  "lineage": "3f1b6e2a-6c1d-4a8e-9d0b-5b7e0f2c1a9d",
  "outputs": {
    "db_password": {
      "value": "` + pw + `",
      "type": "string",
      "sensitive": true
    },
    "db_endpoint": {
      "value": "db.c9akciq32.eu-west-1.rds.amazonaws.com",
      "type": "string",
      "sensitive": true
    },
    "api_token": {
      "value": "` + pw + `x",
      "type": "string"
    }
  },
  "resources": [
    ` + key("ci", keyID, secretKey) + `,
    ` + key("deploy", keyID2, secret2) + `,
    {
      "mode": "managed",
      "type": "tls_private_key",
      "name": "ssh",
      "provider": "provider[\"registry.terraform.io/hashicorp/tls\"]",
      "instances": [
        {
          "schema_version": 1,
          "attributes": {
            "algorithm": "RSA",
            "private_key_pem": "` + pem + `",
            "rsa_bits": 2048
          },
          "sensitive_attributes": []
        }
      ]
    }
  ],
  "check_results": null
}
`
}

func TestTerraformState(t *testing.T) {
	t.Parallel()
	pw := filePassword
	smtp := "B" + fake("smtp", `A-Za-z0-9+/`, 43)
	pem := strings.ReplaceAll(strings.TrimSuffix(pemKey, "\n"), "\n", `\n`)
	v3 := `{
    "version": 3,
    "terraform_version": "0.11.14",
    "serial": 7,
    "lineage": "x",
    "modules": [
        {
            "path": ["root"],
            "outputs": {},
            "resources": {
                "aws_iam_access_key.users.1": {
                    "type": "aws_iam_access_key",
                    "depends_on": ["aws_iam_user.users"],
                    "primary": {
                        "id": "` + keyID + `",
                        "attributes": {
                            "id": "` + keyID + `",
                            "secret": "` + secretKey + `",
                            "ses_smtp_password": "` + smtp + `",
                            "status": "Active",
                            "user": "deploy"
                        }
                    }
                }
            }
        }
    ]
}
`
	tests := []struct {
		name, data string
		want       []placedWant
	}{
		{"format 4", tfstateV4(pw, smtp), []placedWant{
			{tfstateRule, pw, "", "", "json", pw},
			{AWSKeyRule, secretKey, keyID, "", "", keyID},
			{tfstateRule, smtp, "", "", "json", smtp},
			{AWSKeyRule, secret2, keyID2, "", "", keyID2},
			{tfstateRule, smtp, "", "", "json", smtp},
			{"private-key", pem, "", "", "", pem},
		}},
		{"format 3, the key id twice", v3, []placedWant{
			{AWSKeyRule, secretKey, keyID, "", "", keyID},
			{AWSKeyRule, secretKey, keyID, "", "", keyID},
			{tfstateRule, smtp, "", "", "json", smtp},
		}},
		{"an escaped password is read as the state holds it", tfstateDoc("random_password", "result", `Qx7\u0026v9Lm\u003cR2pW`),
			[]placedWant{{tfstateRule, "Qx7&v9Lm<R2pW", "", "", "json", `Qx7\u0026v9Lm\u003cR2pW`}}},
		{"not a state", `{"type": "random_password", "instances": [{"attributes": {"result": "` + pw + `"}}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, scanPlaced("terraform.tfstate", tt.data)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWithStructured(t *testing.T) {
	t.Parallel()
	runs := []encoded{{start: 0, end: 10}, {start: 20, end: 30}, {start: 40, end: 50}}
	structured := []encoded{{start: 25, end: 45, how: "base64"}}
	got := withStructured(runs, structured)
	want := []encoded{{start: 0, end: 10}, {start: 25, end: 45, how: "base64"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(encoded{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := withStructured(runs, nil); len(got) != 3 {
		t.Errorf("no structured runs: %d runs, want 3", len(got))
	}
}

// TestWalkJSONStopsAtWhatIsNotJSON: the reader stops quietly at broken
// or unbalanced JSON and reads past nesting deeper than it follows.
func TestWalkJSONStopsAtWhatIsNotJSON(t *testing.T) {
	t.Parallel()
	for _, data := range []string{
		`{"kind": "Secret", "data": {"a": "b"`,
		`{"kind": "Secret", "data": {"a": "b"]}`,
		`{"kind": "Secret", "data": {"a": "unterminated}}`,
		strings.Repeat(`{"a":[`, 200) + strings.Repeat(`]}`, 200),
		`]]]}}}`,
		"{\"a\": \"line\nbreak\"}",
	} {
		var st scanState
		v := &k8sJSON{}
		walkJSON([]byte(data), v, &st)
		if len(v.secrets) != 0 {
			t.Errorf("%.40q: %d secrets, want none", data, len(v.secrets))
		}
	}
}

// FuzzStructuredRuns: the runs of any blob lie within it, in order of
// their bounds, and hold text.
func FuzzStructuredRuns(f *testing.F) {
	f.Add(k8sSecretYAML("AWS_ACCESS_KEY_ID", keyID, "AWS_SECRET_ACCESS_KEY", secretKey, "note", "a\nb"))
	f.Add(`{"kind": "Secret", "data": {"a": "` + b64std("GITHUB_TOKEN="+ghToken) + `"}}`)
	f.Add(tfstateV4(filePassword, "B"+fake("smtp", `A-Za-z0-9+/`, 43)))
	f.Add("kind: Secret\ndata:\n  k: |\n    " + b64std("x") + "\n  - a\n- kind: Secret\n  data:\n    j: " + b64std("y") + "\n")
	f.Fuzz(func(t *testing.T, data string) {
		var st scanState
		for _, r := range structuredRuns("f", []byte(data), &st) {
			if r.start < 0 || r.end > len(data) || r.start > r.end || len(r.text) == 0 {
				t.Fatalf("run [%d,%d) of %d bytes with %d bytes of text", r.start, r.end, len(data), len(r.text))
			}
		}
	})
}
