package detectors

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// fileAdversarialInputs are adversarial blobs in the shapes of the files
// that structuredRuns reads and the file rules match: each of about
// size bytes (see AdversarialInputs).
func fileAdversarialInputs(size int) []AdversarialInput {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	var out []AdversarialInput
	add := func(name, path string, data func() []byte) {
		out = append(out, AdversarialInput{Name: name, Path: path, Data: data})
	}

	// One Secret whose entries are AWS key ids and secrets in turn, and
	// passwords: every entry decoded, the ids paired across entries.
	add("k8s-secret", "secret.yaml", func() []byte {
		rng := adversarialRand("k8s-secret")
		head := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: many\ndata:\n"
		return append([]byte(head), fill(size-len(head), func(i int) string {
			switch i % 3 {
			case 0:
				return fmt.Sprintf("  AWS_ACCESS_KEY_ID_%d: %s\n", i, b64(advKeyID(rng)))
			case 1:
				return fmt.Sprintf("  AWS_SECRET_ACCESS_KEY_%d: %s\n", i, b64(advSecret(rng)))
			}
			return fmt.Sprintf("  password_%d: %s\n", i, b64(randFrom(rng, advAlnum, 12)))
		})...)
	})

	// kubectl get secrets -o json: a List of small Secrets.
	add("k8s-json", "secrets.json", func() []byte {
		rng := adversarialRand("k8s-json")
		var b strings.Builder
		b.WriteString(`{"apiVersion": "v1", "kind": "List", "items": [`)
		for i := 0; b.Len() < size; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"apiVersion": "v1", "data": {"AWS_ACCESS_KEY_ID": "%s", "AWS_SECRET_ACCESS_KEY": "%s", "token": "%s"}, "kind": "Secret", "metadata": {"name": "s%d"}}`,
				b64(advKeyID(rng)), b64(advSecret(rng)), b64(randFrom(rng, advAlnum, 30)), i)
		}
		b.WriteString("]}")
		return []byte(b.String())
	})

	// A manifest whose lines step in and out of indentation: each line
	// opens a mapping and the next closes it.
	add("k8s-indent", "deep.yaml", func() []byte {
		head := "kind: Secret\n"
		return append([]byte(head), fill(size-len(head), func(i int) string {
			return strings.Repeat("  ", i%40) + "k: v\n"
		})...)
	})

	// A Terraform state of many resources whose attributes are secrets.
	add("tfstate", "terraform.tfstate", func() []byte {
		rng := adversarialRand("tfstate")
		var b strings.Builder
		b.WriteString(`{"version": 4, "terraform_version": "1.7.5", "serial": 1, "lineage": "x", "outputs": {}, "resources": [`)
		for i := 0; b.Len() < size; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			if i%2 == 0 {
				fmt.Fprintf(&b, `{"mode": "managed", "type": "random_password", "name": "p%d", "instances": [{"attributes": {"length": 20, "result": "%s"}}]}`, i, randFrom(rng, advAlnum, 20))
			} else {
				fmt.Fprintf(&b, `{"mode": "managed", "type": "aws_iam_access_key", "name": "k%d", "instances": [{"attributes": {"id": "%s", "secret": "%s", "ses_smtp_password_v4": "%s"}}]}`,
					i, advKeyID(rng), advSecret(rng), randFrom(rng, advBase64, 44))
			}
		}
		b.WriteString("]}")
		return []byte(b.String())
	})

	// Attributes nested as deep as the reader follows, with a string at
	// every level: each is looked up the stack.
	add("tfstate-deep", "terraform.tfstate", func() []byte {
		var b strings.Builder
		b.WriteString(`{"version": 4, "terraform_version": "1.7.5", "resources": [{"type": "random_password", "instances": [{"attributes": {"result": `)
		depth := 0
		for b.Len() < size {
			if depth < maxJSONDepth+8 {
				b.WriteString(`{"a": "x", "result": "y", "b": `)
				depth++
				continue
			}
			b.WriteString(`"z"`)
			b.WriteString(strings.Repeat("}", depth))
			b.WriteString(`, "result": `)
			depth = 0
		}
		b.WriteString(`"end"}}]}]}`)
		return []byte(b.String())
	})

	// .netrc entries, and machines with a chain of logins and no password.
	add("netrc", ".netrc", func() []byte {
		rng := adversarialRand("netrc")
		return fill(size, func(i int) string {
			if i%2 == 0 {
				return fmt.Sprintf("machine h%d.corp.net login u password %s\n", i, randFrom(rng, advAlnum, 16))
			}
			return "machine a.b" + strings.Repeat(" login x", 20) + "\n"
		})
	})

	// Maven passwords outside any server: each looks back for one.
	add("maven", "settings.xml", func() []byte {
		rng := adversarialRand("maven")
		return fill(size, func(int) string { return "<password>" + randFrom(rng, advAlnum, 12) + "</password>" })
	})

	// INI passwords, one a line, with no section: each looks back for one.
	add("pypirc", ".pypirc", func() []byte {
		rng := adversarialRand("pypirc")
		return fill(size, func(int) string { return "password = " + randFrom(rng, advAlnum, 12) + "\n" })
	})

	// Docker auths, each decoded.
	add("docker-auth", "config.json", func() []byte {
		rng := adversarialRand("docker-auth")
		return fill(size, func(int) string {
			return `"auth": "` + b64("u:"+randFrom(rng, advAlnum, 16)) + `", `
		})
	})
	return out
}
