package report

import (
	"github.com/keysweep/keysweep/finding"

	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// The SARIF 2.1.0 subset GitHub code scanning reads. A SARIF log never
// holds a secret, not even redacted, whatever --no-redact says: it is
// meant to be uploaded.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifLevel     `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifLevel struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// ruleName turns a rule id into the PascalCase name SARIF viewers show.
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		if r == '-' || r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func writeSARIF(w io.Writer, fs []finding.Finding, version string) error {
	driver := sarifDriver{Name: "keysweep", InformationURI: "https://github.com/keysweep/keysweep", Rules: []sarifRule{}}
	if version != "" && version != "dev" {
		driver.Version = version
	}
	index := map[string]int{}
	results := []sarifResult{}
	for _, f := range fs {
		i, ok := index[f.RuleID]
		if !ok {
			i = len(driver.Rules)
			index[f.RuleID] = i
			driver.Rules = append(driver.Rules, sarifRule{
				ID:               f.RuleID,
				Name:             ruleName(f.RuleID),
				ShortDescription: sarifText{f.Description},
				FullDescription:  sarifText{f.Description + " found in the repository."},
				Help: sarifText{"A secret in a repository is exposed to everyone who can read it, in every clone and fork, " +
					"for as long as it stays in history. Revoke or rotate it first, then remove it from history if needed. " +
					"If it is not a secret, add its fingerprint to .keysweepignore with a reason."},
				DefaultConfiguration: sarifLevel{"error"},
				Properties:           map[string]any{"tags": []string{"security", "secret"}, "precision": "high", "security-severity": "9.0"},
			})
		}
		msg := f.Description
		if f.KeyID != "" {
			msg += " " + f.KeyID
			if f.AccountID != nil && *f.AccountID != "" {
				msg += " (account " + *f.AccountID + ")"
			}
		}
		if f.Commit != "" {
			msg += ", introduced in commit " + f.Commit
		}
		if v := f.Verification; v != nil {
			msg += "; verification: " + v.Status
		}
		if f.Decoded != "" {
			msg += "; decoded from " + f.Decoded
		}
		msg += ". Fingerprint: " + f.Fingerprint + "."
		props := map[string]any{}
		for k, v := range map[string]string{"commit": f.Commit, "author": f.Author, "date": f.Date, "keyId": f.KeyID, "repository": f.Repository, "source": f.Source, "reach": f.Reach} {
			if v != "" {
				props[k] = v
			}
		}
		if f.Verification != nil {
			props["verification"] = f.Verification.Status
		}
		incidentProperties(props, f)
		if f.TestPath {
			props["testPath"] = true
		}
		line := max(f.Line, 1)
		results = append(results, sarifResult{
			RuleID:    f.RuleID,
			RuleIndex: i,
			Level:     "error",
			Message:   sarifText{msg},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: sarifURI(f.Path), URIBaseID: "%SRCROOT%"},
				Region:           sarifRegion{StartLine: line, StartColumn: f.Column},
			}}},
			PartialFingerprints: map[string]string{"keysweep/v1": f.Fingerprint},
			Properties:          props,
		})
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

// incidentProperties adds what incident response learned of an AWS key
// to a SARIF result's properties. None holds a secret.
func incidentProperties(props map[string]any, f finding.Finding) {
	if e := f.Exposure; e != nil {
		props["exposedSince"] = e.Since
	}
	if f.Public != nil {
		props["public"] = *f.Public
	}
	if u := f.Usage; u != nil {
		props["lastUsed"] = u.LastUsed
		props["lastUsedService"] = u.Service
	}
	if !f.UsedAfterExposure.IsZero() {
		props["usedAfterExposure"] = f.UsedAfterExposure
	}
	if ct := f.CloudTrail; ct != nil {
		props["cloudtrailEvents"] = ct.Events
		props["cloudtrailUnexpected"] = ct.Unexpected
	}
	if br := f.BlastRadius; br != nil {
		props["admin"] = br.Admin
		props["allowedActions"] = br.Allowed
		props["blastRadiusApproximate"] = true
	}
	if r := f.Remediation; r != nil {
		props["remediation"] = r.Action
		if r.Due != "" {
			props["containmentDue"] = r.Due
		}
	}
}

// sarifURI percent-encodes what a relative URI reference may not hold.
func sarifURI(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c > 0x20 && c < 0x7f && !strings.ContainsRune(`"%<>\^`+"`"+`{|}#?[]`, rune(c)) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// csvHeader names the CSV columns.
var csvHeader = []string{"rule_id", "description", "secret", "commit", "path", "line", "column", "author", "email", "date",
	"fingerprint", "key_id", "account_id", "verification", "verified_arn", "remediation", "decoded", "test_path", "repository", "source", "reach"}

func writeCSV(w io.Writer, fs []finding.Finding) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, f := range fs {
		f := escapeFinding(f)
		account, status, arn, action := "", "", "", ""
		if f.AccountID != nil {
			account = *f.AccountID
		}
		if v := f.Verification; v != nil {
			status, arn = v.Status, v.ARN
		}
		if r := f.Remediation; r != nil {
			action = r.Action
		}
		row := []string{f.RuleID, f.Description, f.Secret, f.Commit, f.Path, strconv.Itoa(f.Line), strconv.Itoa(f.Column),
			f.Author, f.Email, f.Date, f.Fingerprint, f.KeyID, account, status, arn, action, f.Decoded, strconv.FormatBool(f.TestPath), f.Repository, f.Source, f.Reach}
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: commit
// authors and paths come from whoever pushed them. (Control characters
// are escaped before, so that a CSV file shown on a terminal is harmless.)
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
