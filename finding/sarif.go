package finding

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// sarifFingerprint is the key of a keysweep fingerprint among a SARIF
// result's partialFingerprints.
const sarifFingerprint = "keysweep/v1"

// The part of a SARIF 2.1.0 log that keysweep writes and reads back.
type sarifLog struct {
	Version *string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID               string `json:"id"`
					ShortDescription struct {
						Text string `json:"text"`
					} `json:"shortDescription"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine   int `json:"startLine"`
						StartColumn int `json:"startColumn"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Properties          struct {
				Commit       string `json:"commit"`
				Author       string `json:"author"`
				Date         string `json:"date"`
				KeyID        string `json:"keyId"`
				Repository   string `json:"repository"`
				Source       string `json:"source"`
				Reach        string `json:"reach"`
				Verification string `json:"verification"`
				TestPath     bool   `json:"testPath"`
			} `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

// isSARIF reports whether doc, a JSON object, is a SARIF log rather than
// the first line of a JSON lines report.
func isSARIF(doc []byte) bool {
	var probe struct {
		Version *string          `json:"version"`
		Runs    *json.RawMessage `json:"runs"`
	}
	return json.Unmarshal(doc, &probe) == nil && probe.Version != nil && probe.Runs != nil
}

// readSARIF reads the findings of a SARIF log keysweep wrote (--format
// sarif). SARIF holds no secret, so neither do they; each must carry
// keysweep's fingerprint, or the log is not keysweep's.
func readSARIF(doc []byte) ([]Finding, error) {
	var log sarifLog
	if err := json.Unmarshal(doc, &log); err != nil {
		return nil, fmt.Errorf("read report: SARIF: %w", err)
	}
	if *log.Version != "2.1.0" {
		return nil, fmt.Errorf("read report: SARIF version %q, want 2.1.0", *log.Version)
	}
	var out []Finding
	for _, run := range log.Runs {
		if run.Tool.Driver.Name != "keysweep" {
			return nil, fmt.Errorf("read report: a SARIF log of %q, not of keysweep", run.Tool.Driver.Name)
		}
		descriptions := map[string]string{}
		for _, r := range run.Tool.Driver.Rules {
			descriptions[r.ID] = r.ShortDescription.Text
		}
		for _, r := range run.Results {
			f := Finding{
				Repository:  r.Properties.Repository,
				RuleID:      r.RuleID,
				Description: descriptions[r.RuleID],
				Commit:      r.Properties.Commit,
				Author:      r.Properties.Author,
				Date:        r.Properties.Date,
				Fingerprint: r.PartialFingerprints[sarifFingerprint],
				KeyID:       r.Properties.KeyID,
				Source:      r.Properties.Source,
				Reach:       r.Properties.Reach,
				TestPath:    r.Properties.TestPath,
			}
			if len(r.Locations) > 0 {
				loc := r.Locations[0].PhysicalLocation
				path, err := url.PathUnescape(loc.ArtifactLocation.URI)
				if err != nil {
					return nil, fmt.Errorf("read report: SARIF result %d: location %q: %w", len(out)+1, loc.ArtifactLocation.URI, err)
				}
				// As a JSON report has it: bytes that are not UTF-8 (git
				// allows them in paths, SARIF percent-encodes them) read as
				// U+FFFD, as encoding/json writes them.
				f.Path, f.Line, f.Column = strings.ToValidUTF8(path, "\uFFFD"), loc.Region.StartLine, loc.Region.StartColumn
			}
			if r.Properties.Verification != "" {
				// What the scan concluded, for people; never acted on.
				f.Verification = &Verification{Status: r.Properties.Verification}
			}
			out = append(out, f)
		}
	}
	if out == nil {
		out = []Finding{}
	}
	return out, nil
}

var errNotReport = errors.New("not a keysweep report")
