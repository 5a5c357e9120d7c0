package github

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v84/github"

	"github.com/keysweep/keysweep/finding"
	"github.com/keysweep/keysweep/scanner"
)

const (
	// DefaultActionsDays is how far back a sweep lists workflow runs when
	// Sweep.ActionsDays is 0.
	DefaultActionsDays = 30
	// MaxLogZip bounds the download of one run's logs (compressed);
	// MaxLogBytes bounds what its files hold uncompressed, in all, and
	// MaxLogFile each: a zip that claims or gives more is refused, not
	// scanned (a zip bomb).
	MaxLogZip   = 64 << 20
	MaxLogBytes = 256 << 20
	MaxLogFile  = 64 << 20
	// maxRunPages bounds the pages (of 100) of runs listed per
	// repository and sweep.
	maxRunPages = 10
)

// scanActions scans the logs of repo's completed workflow runs created in
// the last ActionsDays, beyond the highest run id an earlier sweep
// scanned (all of them with Full). The cursor recorded is the highest run
// id scanned, held below any run still in progress, so that one is read
// once it completes.
func (s *Sweep) scanActions(ctx context.Context, repo Repo, out *moreScan, src *sourceScan) error {
	owner, name, _ := strings.Cut(repo.FullName, "/")
	var after int64
	if !s.Full {
		c, err := s.State.Cursor(repo.FullName, finding.SourceActionsLog)
		if err != nil {
			return err
		}
		after, _ = strconv.ParseInt(c, 10, 64) // unreadable: from the start
	}
	days := s.ActionsDays
	if days <= 0 {
		days = DefaultActionsDays
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	opts := &gh.ListWorkflowRunsOptions{
		Created:     ">=" + now().UTC().AddDate(0, 0, -days).Format("2006-01-02"),
		ListOptions: gh.ListOptions{PerPage: sourcePerPage},
	}
	var runs []*gh.WorkflowRun
	for n := 1; ; n++ {
		var page *gh.WorkflowRuns
		var resp *gh.Response
		err := s.Client.retry(ctx, func() error {
			var err error
			page, resp, err = s.Client.gh.Actions.ListRepositoryWorkflowRuns(ctx, owner, name, opts)
			return err
		})
		if status, ok := unavailable(err); ok {
			src.stats.Unavailable = append(src.stats.Unavailable, fmt.Sprintf("workflow runs (HTTP %d)", status))
			return nil
		}
		if err != nil {
			return fmt.Errorf("list workflow runs: %w", err)
		}
		stop := false
		for _, r := range page.WorkflowRuns {
			if r.GetID() <= after {
				stop = true // newest first: the rest were scanned
				continue
			}
			runs = append(runs, r)
		}
		if stop || resp.NextPage == 0 || resp.NextPage <= opts.Page {
			break
		}
		if n >= maxRunPages {
			src.stats.Capped = append(src.stats.Capped, fmt.Sprintf("workflow runs (%d pages)", maxRunPages))
			break
		}
		opts.Page = resp.NextPage
	}
	highest, held := after, int64(0)
	for _, r := range runs {
		id := r.GetID()
		if r.GetStatus() != "completed" {
			if held == 0 || id < held {
				held = id
			}
			continue
		}
		if err := s.scanRunLogs(ctx, repo, r, out, src); err != nil {
			return err
		}
		highest = max(highest, id)
	}
	if held != 0 && highest >= held {
		highest = max(after, held-1)
	}
	if highest > after {
		src.cursors[finding.SourceActionsLog] = strconv.FormatInt(highest, 10)
	}
	return nil
}

// scanRunLogs downloads the logs of one run and scans each file. Logs
// that expired or were deleted (404, 410), and a zip over the bounds, are
// noted and skipped.
func (s *Sweep) scanRunLogs(ctx context.Context, repo Repo, r *gh.WorkflowRun, out *moreScan, src *sourceScan) error {
	id := r.GetID()
	data, status, err := s.downloadLogs(ctx, repo.FullName, id)
	if err != nil {
		return fmt.Errorf("logs of run %d: %w", id, err)
	}
	if status != 0 {
		src.stats.Unavailable = append(src.stats.Unavailable, fmt.Sprintf("logs of run %d (HTTP %d)", id, status))
		return nil
	}
	files, err := unzipLogs(data)
	if err != nil {
		src.stats.Unavailable = append(src.stats.Unavailable, fmt.Sprintf("logs of run %d (%v)", id, err))
		return nil
	}
	runURL := webURL(r.GetHTMLURL())
	if base := webURL(repo.HTMLURL); base != "" {
		runURL = strings.TrimSuffix(base, "/") + "/actions/runs/" + strconv.FormatInt(id, 10)
	}
	date := ""
	if t := r.GetCreatedAt().Time; !t.IsZero() {
		date = t.UTC().Format(time.RFC3339)
	}
	for _, f := range files {
		key := "actions/runs/" + strconv.FormatInt(id, 10) + "/" + f.name
		res, err := scanner.Reader(ctx, key, bytes.NewReader(f.data), s.Detector, scanner.Options{MaxBlobSize: MaxLogFile, KeepMarked: true, ScanBinary: true})
		if err != nil {
			return fmt.Errorf("scan %s: %w", key, err)
		}
		src.stats.Texts++
		src.stats.Bytes += int64(len(f.data))
		for _, fd := range res.Findings {
			fd.Source, fd.Path, fd.URL, fd.Date = finding.SourceActionsLog, key, runURL, date
			fd.Author = r.GetActor().GetLogin()
			fd.Commit, fd.Blob, fd.Email, fd.Marked = "", "", "", false
			fd.Repository = repo.FullName
			out.findings = append(out.findings, fd)
		}
	}
	return nil
}

// downloadLogs asks the API for a run's logs and follows its redirect,
// only to the API's own origin (which gets the token, as any API call)
// or to GitHub's log storage (which gets none: the address is signed). It
// returns the zip, or the status of logs that are gone (404, 410).
func (s *Sweep) downloadLogs(ctx context.Context, repo string, id int64) ([]byte, int, error) {
	owner, name, _ := strings.Cut(repo, "/")
	req, err := s.Client.gh.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/actions/runs/%d/logs", url.PathEscape(owner), url.PathEscape(name), id), nil)
	if err != nil {
		return nil, 0, err
	}
	hc := *s.Client.gh.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for hop := 0; hop < 2; hop++ {
		resp, err := hc.Do(req.WithContext(ctx))
		if err != nil {
			return nil, 0, err
		}
		switch {
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
			resp.Body.Close()
			return nil, resp.StatusCode, nil
		case resp.StatusCode == http.StatusOK:
			defer resp.Body.Close()
			data, err := io.ReadAll(io.LimitReader(resp.Body, MaxLogZip+1))
			if err != nil {
				return nil, 0, err
			}
			if len(data) > MaxLogZip {
				return nil, 0, fmt.Errorf("over %d bytes: not downloaded", MaxLogZip)
			}
			return data, 0, nil
		case resp.StatusCode >= 300 && resp.StatusCode < 400 && hop == 0:
			resp.Body.Close()
			loc, err := req.URL.Parse(resp.Header.Get("Location"))
			if err != nil {
				return nil, 0, fmt.Errorf("unreadable redirect: %w", err)
			}
			if !s.logHost(loc) {
				return nil, 0, fmt.Errorf("not following the redirect to %s: neither the API's origin nor GitHub's log storage", loc.Scheme+"://"+loc.Host)
			}
			if req, err = http.NewRequest(http.MethodGet, loc.String(), nil); err != nil {
				return nil, 0, err
			}
		default:
			resp.Body.Close()
			return nil, 0, fmt.Errorf("HTTP %d", resp.StatusCode)
		}
	}
	return nil, 0, errors.New("too many redirects")
}

// logHost reports whether the logs may be fetched from u: the API's own
// origin, or GitHub's storage of logs and artifacts over https.
func (s *Sweep) logHost(u *url.URL) bool {
	if u.User != nil {
		return false
	}
	if api := s.Client.gh.BaseURL; api != nil && origin(u) == origin(api) {
		return true
	}
	h := strings.ToLower(u.Hostname())
	return u.Scheme == "https" && (strings.HasSuffix(h, ".actions.githubusercontent.com") || strings.HasSuffix(h, ".blob.core.windows.net"))
}

type logFile struct {
	name string
	data []byte
}

// unzipLogs reads the files of a logs zip in memory, within MaxLogFile
// each and MaxLogBytes in all, whatever the zip claims. A name that is
// not a plain relative path is skipped.
func unzipLogs(data []byte) ([]logFile, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, errors.New("not a zip")
	}
	var out []logFile
	var total int64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !fs.ValidPath(f.Name) || strings.ContainsFunc(f.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			continue
		}
		if f.UncompressedSize64 > MaxLogFile || total+int64(f.UncompressedSize64) > MaxLogBytes {
			return nil, fmt.Errorf("over %d bytes uncompressed: refused", MaxLogBytes)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("unreadable zip: %v", err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, min(MaxLogFile, MaxLogBytes-total)+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("unreadable zip: %v", err)
		}
		total += int64(len(b))
		if len(b) > MaxLogFile || total > MaxLogBytes {
			return nil, fmt.Errorf("over %d bytes uncompressed: refused", MaxLogBytes)
		}
		out = append(out, logFile{name: f.Name, data: b})
	}
	return out, nil
}
