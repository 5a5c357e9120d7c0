package detectors

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestContext checks what rules read beside a secret for its verifier:
// an Azure storage account's name and endpoint suffix from the connection
// string, a Google service account's email and key id from its JSON key
// file; and nothing from elsewhere on another line or from text that only
// looks alike.
func TestContext(t *testing.T) {
	t.Parallel()
	azureKey := "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/2O76UMFxFkM/R5Kjp1vRt+1fjORS/6ilI8ihN5KXSc7Tvo=="
	pem := "-----BEGIN PRIVATE KEY-----\\n" + strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7", 3) + "\\n-----END PRIVATE KEY-----\\n"
	tests := []struct {
		name, path, data, rule string
		want                   map[string]string
	}{
		{"azure connection string", "app.config",
			`<add key="Storage" value="DefaultEndpointsProtocol=https;AccountName=acmeprod01;AccountKey=` + azureKey + `;EndpointSuffix=core.windows.net" />`,
			"azure-storage-account-key", map[string]string{"account": "acmeprod01", "endpoint_suffix": "core.windows.net"}},
		{"azure account on another line", "app.env",
			"AccountName=acmeprod01\nAccountKey=" + azureKey + "\n",
			"azure-storage-account-key", nil},
		{"azure account name not in Azure's form", "app.env",
			"AccountName=Acme_Prod;AccountKey=" + azureKey + "\n",
			"azure-storage-account-key", nil},
		{"service account key file", "sa.json",
			`{"type": "service_account", "project_id": "acme", "private_key_id": "0123456789abcdef0123456789abcdef01234567", "private_key": "` + pem +
				`", "client_email": "deployer@acme-prod.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token"}`,
			"private-key", map[string]string{"client_email": "deployer@acme-prod.iam.gserviceaccount.com", "private_key_id": "0123456789abcdef0123456789abcdef01234567"}},
		{"private key that is no service account's", "key.json",
			`{"private_key": "` + pem + `", "client_email": "deployer@acme-prod.iam.gserviceaccount.com"}`,
			"private-key", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *Match
			for _, m := range Default().Scan(tt.path, []byte(tt.data)) {
				if m.RuleID == tt.rule {
					got = &m
				}
			}
			if got == nil {
				t.Fatalf("no %s finding", tt.rule)
			}
			if diff := cmp.Diff(tt.want, got.Context); diff != "" {
				t.Errorf("context (-want +got):\n%s", diff)
			}
		})
	}
}
