package detectors

import (
	"bytes"
	"strings"
)

// A Terraform state (terraform.tfstate, JSON) holds every attribute of
// every resource in the clear, sensitive or not. Most secrets in it are
// found as in any file: an AWS key id pairs with the "secret" attribute
// of its aws_iam_access_key, a "password" attribute is a value assigned
// to a password, a private_key_pem is a PEM block. What the ordinary
// rules cannot see is a secret under a name that does not say so: the
// "result" of a random_password, the "value" of an Azure AD application
// password, the "plaintext_value" of a GitHub Actions secret, a
// sensitive output. The resource type says it, so tfstateRuns reads the
// state and hands each such value to the terraform-state-secret rule.

// tfstateSecrets are the attributes that hold a secret, by resource
// type, chosen for precision: each is a credential whenever it is set.
// A nested attribute is named by its own key (the password of an
// aws_mq_broker's user block).
var tfstateSecrets = map[string][]string{
	"random_password":                           {"result"},
	"aws_iam_access_key":                        {"ses_smtp_password_v4", "ses_smtp_password"},
	"aws_iam_user_login_profile":                {"password"},
	"aws_iam_service_specific_credential":       {"service_password"},
	"aws_db_instance":                           {"password"},
	"aws_rds_cluster":                           {"master_password"},
	"aws_docdb_cluster":                         {"master_password"},
	"aws_redshift_cluster":                      {"master_password"},
	"aws_elasticache_replication_group":         {"auth_token"},
	"aws_mq_broker":                             {"password"},
	"aws_opensearch_domain":                     {"master_user_password"},
	"aws_elasticsearch_domain":                  {"master_user_password"},
	"azurerm_mssql_server":                      {"administrator_login_password"},
	"azurerm_sql_server":                        {"administrator_login_password"},
	"azurerm_postgresql_server":                 {"administrator_login_password"},
	"azurerm_postgresql_flexible_server":        {"administrator_password"},
	"azurerm_mysql_server":                      {"administrator_login_password"},
	"azurerm_mysql_flexible_server":             {"administrator_password"},
	"azurerm_linux_virtual_machine":             {"admin_password"},
	"azurerm_windows_virtual_machine":           {"admin_password"},
	"azurerm_virtual_machine":                   {"admin_password"},
	"azurerm_linux_virtual_machine_scale_set":   {"admin_password"},
	"azurerm_windows_virtual_machine_scale_set": {"admin_password"},
	"azuread_application_password":              {"value"},
	"azuread_service_principal_password":        {"value"},
	"google_sql_user":                           {"password"},
	"github_actions_secret":                     {"plaintext_value"},
	"github_actions_environment_secret":         {"plaintext_value"},
	"github_actions_organization_secret":        {"plaintext_value"},
	"github_dependabot_secret":                  {"plaintext_value"},
	"github_dependabot_organization_secret":     {"plaintext_value"},
	"github_codespaces_secret":                  {"plaintext_value"},
	"vault_approle_auth_backend_role_secret_id": {"secret_id"},
	"mongodbatlas_database_user":                {"password"},
	"digitalocean_database_cluster":             {"password"},
}

// tfValue is a string of a state that may be a secret: an attribute
// (its key, under the resource that will say its type) or the value of
// an output (named by the output).
type tfValue struct {
	name       string
	output     bool
	start, end int // the string, quotes included
}

// isTFState reports whether data is a Terraform state: a JSON object
// whose first members (Terraform writes them first) name the version of
// Terraform that wrote it.
func isTFState(data []byte) bool {
	head := bytes.TrimLeft(data[:min(len(data), 1024)], " \t\r\n")
	return len(head) > 0 && head[0] == '{' && bytes.Contains(head, []byte(`"terraform_version"`))
}

// tfstateRuns returns a run for each secret of a Terraform state (format
// 4, and the modules of format 3): its text is a line the
// terraform-state-secret rule reads, `terraform-state-secret
// <type>.<attribute> = <value>`, and it says "json", the encoding the
// value is read out of. Values of several lines are left to the rules
// that read them where they are (a PEM block, a kubeconfig).
func tfstateRuns(data []byte, st *scanState) []encoded {
	v := &tfstateReader{st: st}
	walkJSON(data, v, st)
	return v.runs
}

type tfstateReader struct {
	runs []encoded
	st   *scanState
}

// tfAttrDepth bounds how deep under "attributes" a value is looked at:
// a nested block and the object in it, say.
const tfAttrDepth = 6

func (t *tfstateReader) value(data []byte, stack []*jsonFrame, str bool, start, end int) {
	st := t.st
	n := len(stack)
	top := stack[n-1]
	if top.object {
		switch top.key {
		case "type":
			if str {
				top.typ, _ = jsonString(data[start:end])
			}
		case "sensitive":
			top.sensitive = !str && string(data[start:end]) == "true"
		case "value":
			if str && n >= 2 && stack[n-2].name == "outputs" {
				top.values = append(top.values, tfValue{name: top.name, output: true, start: start, end: end})
			}
		}
	}
	if !str {
		return
	}
	// An attribute: under "attributes" (or the "attributes_flat" of a
	// state upgraded from format 3), under a resource's "instances" (or,
	// in format 3, its "primary").
	// Both are a few levels up: the search goes no further, so that a
	// value costs a bounded number of steps however deep it is.
	a := -1
	for i := n - 1; i >= 1 && i >= n-tfAttrDepth; i-- {
		st.steps++
		if stack[i].name == "attributes" || stack[i].name == "attributes_flat" {
			a = i
			break
		}
	}
	if a < 0 {
		return
	}
	for r := a - 1; r >= 0 && r >= a-4; r-- {
		st.steps++
		if f := stack[r]; f.object && (f.key == "instances" || f.key == "primary") {
			name := top.key
			if !top.object {
				name = top.name
			}
			f.values = append(f.values, tfValue{name: name, start: start, end: end})
			return
		}
	}
}

func (t *tfstateReader) closed(data []byte, stack []*jsonFrame) {
	f := stack[len(stack)-1]
	if len(f.values) == 0 {
		return
	}
	for _, v := range f.values {
		label := ""
		switch {
		case v.output:
			if !f.sensitive || !secretName(v.name) {
				continue
			}
			label = "output." + v.name
		case isTFSecret(f.typ, v.name):
			label = f.typ + "." + v.name
		default:
			continue
		}
		s, ok := jsonString(data[v.start:v.end])
		if !ok || s == "" || strings.ContainsAny(s, "\r\n") {
			continue
		}
		text := make([]byte, 0, len(tfstateRule)+len(label)+len(s)+5)
		text = append(text, tfstateRule+" "...)
		text = append(text, sanitizeLabel(label)...)
		text = append(text, " = "...)
		text = append(text, s...)
		text = append(text, '\n')
		t.runs = append(t.runs, encoded{start: v.start + 1, end: v.end - 1, how: "json", text: text})
	}
}

// isTFSecret reports whether attribute name of a resource of type typ
// holds a secret.
func isTFSecret(typ, name string) bool {
	for _, a := range tfstateSecrets[typ] {
		if a == name {
			return true
		}
	}
	return false
}

// secretName reports whether an output's name says it is a secret: a
// sensitive output is often only derived from one (an endpoint, a
// whole object), and its name tells them apart.
func secretName(name string) bool {
	l := strings.ToLower(name)
	for _, s := range nameSuffixes {
		if strings.HasSuffix(l, s) {
			return false
		}
	}
	for _, s := range nameStopwords {
		if strings.Contains(l, s) {
			return false
		}
	}
	for _, w := range []string{"pass", "pwd", "secret", "token", "key", "credential", "auth"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// sanitizeLabel keeps a label to the characters the rule reads.
func sanitizeLabel(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if !isNameByte(c) {
			b[i] = '_'
		}
	}
	return b
}
