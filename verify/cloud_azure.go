package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/keysweep/keysweep/finding"
)

// azureBase stands for the accounts' hosts (ACCOUNT.blob.SUFFIX): a
// request goes to its account's host, or to an override with the account
// as the first segment of the path, as Azurite takes it.
const azureBase = "https://blob.core.windows.net"

// azureVersion is the Blob service version the requests ask for.
const azureVersion = "2021-08-06"

// azureList lists at most one container: a read.
const azureList = "?comp=list&maxresults=1"

var (
	azureAccountName = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	azureSuffixes    = map[string]bool{"core.windows.net": true, "core.chinacloudapi.cn": true, "core.usgovcloudapi.net": true}
)

// azure lists the containers of the account the key's connection string
// names, authorised with Shared Key: the key signs the request and is
// never sent. The host holds the account's name, which the rule checks
// ([a-z0-9]{3,24}), under one of Azure's own suffixes.
func azure() *Provider {
	var calls []string
	for _, s := range []string{"core.windows.net", "core.chinacloudapi.cn", "core.usgovcloudapi.net"} {
		calls = append(calls, "GET https://ACCOUNT.blob."+s+"/"+azureList)
	}
	return &Provider{
		Name: "azure",
		Base: azureBase,
		Verifiers: []Verifier{{
			Rules: []string{"azure-storage-account-key"},
			Calls: calls,
			Applies: func(f finding.Finding) bool {
				return azureAccountName.MatchString(f.Context["account"])
			},
			Check: azureCheck,
		}},
		Unverified: map[string]string{
			"azure-ad-client-secret": "a client secret is checked only with its tenant and application (client) id, which the rule does not find",
		},
	}
}

func azureCheck(ctx context.Context, c *Caller, f finding.Finding) Result {
	account := f.Context["account"]
	if !azureAccountName.MatchString(account) {
		return Unknown("no valid storage account name beside the key")
	}
	suffix := f.Context["endpoint_suffix"]
	if suffix == "" {
		suffix = "core.windows.net"
	}
	if !azureSuffixes[suffix] {
		return Unknown("endpoint suffix %q is not one of Azure's", Clean(suffix, 60))
	}
	key, err := base64.StdEncoding.DecodeString(f.Secret)
	if err != nil || len(key) == 0 {
		return Unknown("the key is not base64")
	}
	base := &url.URL{Scheme: "https", Host: account + ".blob." + suffix}
	path := "/"
	if c.Overridden() {
		base = c.Base()
		path = "/" + account + "/"
	}
	// The account's own caller: the same client and limits, another host.
	ac := c.At(base)

	date := time.Now().UTC().Format(http.TimeFormat)
	fullPath := strings.TrimSuffix(base.Path, "/") + path
	resp, err := ac.Do(ctx, Request{
		Method: http.MethodGet, Path: path + azureList,
		Header: http.Header{
			"X-Ms-Date":     {date},
			"X-Ms-Version":  {azureVersion},
			"Authorization": {"SharedKey " + account + ":" + azureSign(key, account, fullPath, date)},
		},
	})
	if err != nil {
		return Unknown("%v", err)
	}
	return azureResult(resp, account)
}

// azureSign is the Shared Key signature of the list request: the
// HMAC-SHA256, with the key, of its canonical string.
func azureSign(key []byte, account, fullPath, date string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(azureStringToSign(http.MethodGet, account, fullPath, date, azureVersion, url.Values{"comp": {"list"}, "maxresults": {"1"}})))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// azureStringToSign is the canonical string of a Blob service request
// without body or conditional headers, whose only x-ms- headers are its
// date and version (Shared Key, versions 2015-02-21 and later). The
// resource is the account, then the path as sent, then the query.
func azureStringToSign(method, account, fullPath, date, version string, query url.Values) string {
	var b strings.Builder
	b.WriteString(method)
	// Content-Encoding, -Language, -Length, -MD5, -Type, Date,
	// If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since,
	// Range: all empty.
	b.WriteString(strings.Repeat("\n", 12))
	b.WriteString("x-ms-date:" + date + "\n")
	b.WriteString("x-ms-version:" + version + "\n")
	b.WriteString("/" + account + fullPath)
	keys := make([]string, 0, len(query))
	lower := map[string][]string{}
	for k, v := range query {
		lk := strings.ToLower(k)
		if _, ok := lower[lk]; !ok {
			keys = append(keys, lk)
		}
		lower[lk] = append(lower[lk], v...)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vs := append([]string(nil), lower[k]...)
		slices.Sort(vs)
		b.WriteString("\n" + k + ":" + strings.Join(vs, ","))
	}
	return b.String()
}

func azureResult(resp *Response, account string) Result {
	switch resp.Status {
	case http.StatusOK:
		var body struct {
			XMLName xml.Name `xml:"EnumerationResults"`
		}
		if xml.Unmarshal(resp.Body, &body) != nil {
			return Unexpected(resp)
		}
		return Verified("storage account " + account)
	case http.StatusForbidden:
		code := resp.Header.Get("X-Ms-Error-Code")
		if code == "" {
			var body struct {
				Code string `xml:"Code"`
			}
			_ = xml.Unmarshal(resp.Body, &body)
			code = body.Code
		}
		if code == "AuthenticationFailed" {
			return Invalid("HTTP 403 AuthenticationFailed: Azure does not accept the key's signature")
		}
		if code != "" {
			return Unknown("HTTP 403 %s: no answer about the key", Clean(code, 60))
		}
		return Unexpected(resp)
	}
	return ByStatus(resp, nil)
}
