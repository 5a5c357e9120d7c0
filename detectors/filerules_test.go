package detectors

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func b64std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// filePassword is a password for the samples of the file rules, made at
// run time.
var filePassword = fake("file-pw", `A-Za-z0-9`, 14) + "#" + fake("file-pw2", `A-Za-z0-9`, 5)

// tfstateDoc returns a Terraform state (format 4) holding one resource of
// type typ whose attribute attr is value, among others.
func tfstateDoc(typ, attr, value string) string {
	return `{
  "version": 4,
  "terraform_version": "1.7.5",
  "serial": 4,
  "lineage": "3f1b6e2a-6c1d-4a8e-9d0b-5b7e0f2c1a9d",
  "outputs": {},
  "resources": [
    {
      "mode": "managed",
      "type": "` + typ + `",
      "name": "db",
      "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
      "instances": [
        {
          "schema_version": 3,
          "attributes": {
            "id": "none",
            "keepers": null,
            "length": 20,
            "` + attr + `": "` + value + `",
            "special": true
          },
          "sensitive_attributes": []
        }
      ]
    }
  ]
}
`
}

// fileSamples are the true and false positives of the file rules, for
// TestCatalogSamples. Each is scanned as config/app.env: the rules know
// their files by content.
func fileSamples() []sample {
	const alnum, hex = `A-Za-z0-9`, `a-f0-9`
	pw := filePassword
	auth := b64std("deploy:" + pw)
	idToken := fake("file-idtoken", `A-Za-z0-9_\-`, 48)
	npmToken := fake("npm1", hex, 8) + "-" + fake("npm2", hex, 4) + "-4" + fake("npm3", hex, 3) + "-a" + fake("npm4", hex, 3) + "-" + fake("npm5", hex, 12)
	cpassword := fake("gpp", `A-Za-z0-9+/`, 43) // 32 bytes, unpadded as Windows writes it
	sgp := "sgp_" + fake("sgp1", hex, 16) + "_" + fake("sgp2", hex, 40)
	return []sample{
		{"docker-registry-auth", `{"auths": {"registry.corp.net": {"auth": "` + auth + `"}}}`, auth},
		{"docker-registry-auth", `DOCKER_AUTH_CONFIG: '{"auths":{"registry.gitlab.com":{"auth":"` + auth + `"}}}'` + "\n", auth},
		{"docker-registry-auth", `{"auths": {"registry.corp.net": {"auth": "` + b64std("deploy:changeme") + `"}}}`, ""},
		{"docker-registry-auth", `{"auths": {"corp.azurecr.io": {"auth": "` + b64std("00000000-0000-0000-0000-000000000000:") + `", "identitytoken": "<token>"}}}`, ""},
		{"docker-registry-auth", `{"auths": {"localhost:5000": {"auth": "` + b64std("test:test") + `"}}}`, ""},
		{"docker-registry-auth", `{"auth": "` + fake("not-b64-text", alnum, 32) + `"}`, ""},
		{"docker-registry-token", `{"auths": {"corp.azurecr.io": {"auth": "` + b64std("00000000-0000-0000-0000-000000000000:") + `", "identitytoken": "` + idToken + `"}}}`, idToken},
		{"docker-registry-token", `{"auths": {"corp.azurecr.io": {"identitytoken": "<identity-token>"}}}`, ""},
		{"netrc-password", "machine api.heroku.com\n  login me@corp.net\n  password " + pw + "\n", pw},
		{"netrc-password", `RUN echo "machine github.com login ${GH_USER} password ${GH_TOKEN}" > $HOME/.netrc` + "\n", ""},
		{"netrc-password", "machine example.com login user password " + pw + "\n", ""},
		{"netrc-password", "The machine name password must be at least 8 characters.\n", ""},
		{"maven-settings-password", "<servers>\n  <server>\n    <id>nexus</id>\n    <username>deploy</username>\n    <password>" + pw + "</password>\n  </server>\n</servers>\n", pw},
		{"maven-settings-password", "<server><id>nexus</id><password>{COQLCE6DU6GtcS5P=}</password></server>\n", ""},
		{"maven-settings-password", "<server><id>nexus</id><password>${env.NEXUS_PASSWORD}</password></server>\n", ""},
		{"maven-settings-password", "<datasource><password>" + pw + "</password></datasource>\n", ""},
		{"npmrc-auth", "//registry.npmjs.org/:_authToken=" + npmToken + "\n", npmToken},
		{"npmrc-auth", "//npm.corp.net/:_auth=" + auth + "\nalways-auth=true\n", auth},
		{"npmrc-auth", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", ""},
		{"npmrc-auth", "this._authToken = response.data.accessToken2;\n", ""},
		{"npmrc-auth", "//npm.corp.net/:_password=" + b64std("password") + "\n", ""},
		{"pypirc-password", "[distutils]\nindex-servers =\n    internal\n\n[internal]\nrepository = https://pypi.corp.net/\nusername = deploy\npassword = " + pw + "\n", pw},
		{"pypirc-password", "[pypi]\nusername = __token__\npassword = <your-pypi-token>\n", ""},
		{"pypirc-password", "[database]\nhost = db.corp.net\npassword = " + pw + "\n", ""},
		{tfstateRule, tfstateDoc("random_password", "result", pw), pw},
		{tfstateRule, tfstateDoc("random_string", "result", pw), ""},
		{tfstateRule, tfstateDoc("random_password", "result", "changeme-later"), ""},
		{"gpp-cpassword", `<Properties action="U" newName="" fullName="" description="" cpassword="` + cpassword + `" changeLogon="0" noChange="1" neverExpires="1" acctDisabled="0" userName="Administrator (built-in)"/>`, cpassword},
		{"gpp-cpassword", `<Properties action="U" cpassword="` + gppExamplePrefix + fake("gpp-doc", `A-Za-z0-9+/`, 23) + `" userName="Administrator"/>`, ""},
		{"gpp-cpassword", `<Properties action="U" cpassword="` + fake("gpp-short", `A-Za-z0-9+/`, 30) + `" userName="Administrator"/>`, ""},
		{"sourcegraph-token", "SRC_ACCESS_TOKEN=" + sgp + "\n", sgp},
		{"sourcegraph-token", "SRC_ACCESS_TOKEN=sgp_" + strings.Repeat("0", 40) + "\n", ""},
	}
}

type fileWant struct {
	Rule, Secret, Decoded string
}

func scanFile(path, data string) []fileWant {
	var got []fileWant
	for _, m := range Default().Scan(path, []byte(data)) {
		got = append(got, fileWant{m.RuleID, m.Secret, m.Decoded})
	}
	return got
}

// TestFileRules: the shapes each file is written in, and the values
// another rule reports, which the file rules leave to it.
func TestFileRules(t *testing.T) {
	t.Parallel()
	pw := filePassword
	pw2 := fake("file-pw3", `A-Za-z0-9`, 18)
	auth := b64std("deploy:" + pw)
	escaped := strings.ReplaceAll(`{"auths":{"registry.gitlab.com":{"auth":"`+auth+`"}}}`, `"`, `\"`)
	tests := []struct {
		name, path, data string
		want             []fileWant
	}{
		{"docker config.json", "home/.docker/config.json",
			"{\n  \"auths\": {\n    \"https://index.docker.io/v1/\": {\n      \"auth\": \"" + auth + "\"\n    }\n  },\n  \"credsStore\": \"desktop\"\n}\n",
			[]fileWant{{"docker-registry-auth", auth, ""}}},
		{"docker config escaped in a JSON string", "ci.json", `{"variables": {"DOCKER_AUTH_CONFIG": "` + escaped + `"}}`,
			[]fileWant{{"docker-registry-auth", auth, ""}}},
		{"docker auth whose password is a token", "config.json", `{"auths": {"ghcr.io": {"auth": "` + b64std("bot:"+ghToken) + `"}}}`,
			[]fileWant{{"github-token", ghToken, "base64"}}},
		{"docker auth of a service-account key is the key's", "config.json",
			`{"auths": {"gcr.io": {"auth": "` + b64std("_json_key:"+`{"type": "service_account", "private_key": "`+strings.ReplaceAll(strings.TrimSuffix(pemKey, "\n"), "\n", `\n`)+`"}`) + `"}}}`,
			[]fileWant{{"private-key", strings.ReplaceAll(strings.TrimSuffix(pemKey, "\n"), "\n", `\n`), "base64"}}},
		{"netrc, one line per machine", ".netrc", "machine github.com login bot password " + pw + "\nmachine gitlab.corp.net login ci password " + pw2 + "\n",
			[]fileWant{{"netrc-password", pw, ""}, {"netrc-password", pw2, ""}}},
		{"netrc written by a Dockerfile", "Dockerfile", `RUN echo "machine git.corp.net login deploy password ` + pw + `" > /root/.netrc`,
			[]fileWant{{"netrc-password", pw, ""}}},
		{"netrc login with machine in it", ".netrc", "machine git.corp.net\n  login ci-machine-user\n  password " + pw2 + "\n",
			[]fileWant{{"netrc-password", pw2, ""}}},
		{"netrc password that is a token", ".netrc", "machine github.com\nlogin bot\npassword " + ghToken + "\n",
			[]fileWant{{"github-token", ghToken, ""}}},
		{"netrc password equal to the login", ".netrc", "machine ftp.corp.net login " + pw + " password " + pw + "\n", nil},
		{"maven proxy password", "settings.xml", "<proxies><proxy><id>corp</id><host>proxy.corp.net</host><password>" + pw + "</password></proxy></proxies>",
			[]fileWant{{"maven-settings-password", pw, ""}}},
		{"maven server after another", "settings.xml",
			"<server><id>a</id><password>{COQLCE6DU6GtcS5P=}</password></server>\n<server><id>b</id><password>" + pw2 + "</password></server>\n",
			[]fileWant{{"maven-settings-password", pw2, ""}}},
		{"npmrc password is base64 of the password", ".npmrc", "//npm.corp.net/:username=deploy\n//npm.corp.net/:_password=" + b64std(pw) + "\n",
			[]fileWant{{"npmrc-auth", b64std(pw), ""}}},
		{"npmrc granular token is the npm rule's", ".npmrc", "//registry.npmjs.org/:_authToken=npm_" + fake("npmtok", `A-Za-z0-9`, 36) + "\n",
			[]fileWant{{"npm-token", "npm_" + fake("npmtok", `A-Za-z0-9`, 36), ""}}},
		{"yarnrc identity", ".yarnrc.yml", "npmRegistries:\n  \"https://npm.corp.net\":\n    npmAuthIdent: \"deploy:" + pw2 + "\"\n",
			[]fileWant{{"npmrc-auth", "deploy:" + pw2, ""}}},
		{"pypirc by its name", ".pypirc", "[internal]\nusername = deploy\npassword = " + pw + "\n",
			[]fileWant{{"pypirc-password", pw, ""}}},
		{"pypi token in a pypirc is the pypi rule's", ".pypirc", "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc" + fake("pypi", `A-Za-z0-9_\-`, 60) + "\n",
			[]fileWant{{"pypi-token", "pypi-AgEIcHlwaS5vcmc" + fake("pypi", `A-Za-z0-9_\-`, 60), ""}}},
		{"git-credentials are URL passwords", ".git-credentials", "https://deploy:" + pw2 + "@git.corp.net\n",
			[]fileWant{{"uri-credentials", pw2, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, scanFile(tt.path, tt.data)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlausiblePassword(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pw, user string
		want     bool
	}{
		{filePassword, "", true},
		{"Zq9kL2pX", "", true},
		{"1b6f5da2-cec2-4554-a04e-4fb440034d66", "", true},
		{"hunter2", "", false},
		{"changeme", "", false},
		{"P@ssw0rd123", "", false},
		{"${PASSWORD}", "", false},
		{"$NETRC_PASSWORD", "", false},
		{"%DB_PASSWORD%", "", false},
		{"YOUR_TOKEN", "", false},
		{"<password>", "", false},
		{"xxxxxxxxxxxx", "", false},
		{"abc", "", false},
		{"deploy", "deploy", false},
		{"Deploy2024", "", false},
		{"two words", "", false},
	} {
		if got := plausiblePassword(tt.pw, tt.user); got != tt.want {
			t.Errorf("plausiblePassword(%q, %q) = %v, want %v", tt.pw, tt.user, got, tt.want)
		}
	}
}
