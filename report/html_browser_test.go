package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// TestHTMLInBrowser opens a report in headless chromium, offline, and
// uses it as a person would: filters, search, sorting. CI installs
// chromium; KEYSWEEP_SKIP_BROWSER=1 skips the test where it is not.
func TestHTMLInBrowser(t *testing.T) {
	t.Parallel()
	if os.Getenv("KEYSWEEP_SKIP_BROWSER") == "1" {
		t.Skip("KEYSWEEP_SKIP_BROWSER=1")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: install the chromium package (apt-get install chromium), or set KEYSWEEP_SKIP_BROWSER=1 to skip this test", chromiumPath)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	fs := htmlFindings(30)
	if err := os.WriteFile(page, []byte(writeHTMLString(t, fs, Options{})), 0o600); err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1400, 1000),
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	ctx, cancel = chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()

	// Listen's func runs in the loop that reads the tab's messages: every
	// event before an action's answer is in problems when the action returns.
	var mu sync.Mutex
	var problems []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			switch ev.Type {
			case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			problems = append(problems, fmt.Sprintf("exception at %d:%d: %s", d.LineNumber, d.ColumnNumber, text))
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("log %s: %s (%s)", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	eval := func(js string) any {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	do("open the report", chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.CSS(`#findings tbody tr`)))
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title != "keysweep report" {
		t.Errorf("title %q, %v", title, err)
	}
	if rows := eval(`document.querySelectorAll("#findings tbody tr").length`); rows != float64(30) {
		t.Errorf("%v rows, want 30", rows)
	}

	column := func(class string) []string {
		t.Helper()
		js := fmt.Sprintf(`Array.from(document.querySelectorAll("#findings tbody td.%s")).map(td => td.firstChild ? td.firstChild.textContent : "")`, class)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
		if err != nil {
			t.Fatalf("read column %s: %v", class, err)
		}
		return got
	}
	choose := func(id, value string) {
		t.Helper()
		js := fmt.Sprintf(`(() => { const s = document.getElementById(%q); s.value = %q; s.dispatchEvent(new Event("change")); return s.value; })()`, id, value)
		if got := eval(js); got != value {
			t.Fatalf("choose %q in #%s: value %q", value, id, got)
		}
	}

	// The hostile path shows as text, and no finding added an element.
	if eval(`Array.from(document.querySelectorAll("td.path")).some(td => td.textContent.startsWith("</script><script>alert(1)</script>"))`) != true {
		t.Error("the hostile path is not shown as text")
	}
	if n := eval(`document.querySelectorAll("script, img, b").length`); n != float64(2) {
		t.Errorf("%v script, img or b elements, want the page's 2 scripts", n)
	}

	// A rule filter leaves that rule's rows.
	choose("f-rule", "github-token")
	rules := column("rule")
	if len(rules) == 0 || len(rules) == 30 {
		t.Errorf("the rule filter left %d rows", len(rules))
	}
	for _, r := range rules {
		if r != "github-token" {
			t.Errorf("the rule filter left a %q row", r)
		}
	}
	choose("f-rule", "")

	// A status filter, then the search box, typed into.
	choose("f-status", "verified")
	if got := len(column("rule")); got == 0 || got == 30 {
		t.Errorf("the status filter left %d rows", got)
	}
	choose("f-status", "")
	do("search", chromedp.SendKeys(chromedp.CSS(`#f-search`), "file07"))
	if got := column("path"); !slices.Equal(got, []string{"src/conf/file07.env:8"}) {
		t.Errorf("search file07: rows %q", got)
	}
	eval(`(() => { const s = document.getElementById("f-search"); s.value = ""; s.dispatchEvent(new Event("input")); })()`)
	if got := len(column("rule")); got != 30 {
		t.Errorf("%d rows after clearing the search, want 30", got)
	}

	// Sorting by author, up then down.
	before := column("author")
	do("sort", chromedp.Click(chromedp.CSS(`th[data-key="author"]`)))
	up := column("author")
	if !slices.IsSorted(up) || slices.Equal(up, before) {
		t.Errorf("sorting by author: %q", up)
	}
	do("sort again", chromedp.Click(chromedp.CSS(`th[data-key="author"]`)))
	down := column("author")
	if slices.Reverse(down); !slices.IsSorted(down) {
		t.Errorf("sorting by author again: %q", down)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.png"), shot, 0o600); err != nil {
		t.Fatal(err)
	}
	// KEYSWEEP_SCREENSHOT keeps a copy, to look at the page.
	if out := os.Getenv("KEYSWEEP_SCREENSHOT"); out != "" {
		if err := os.WriteFile(out, shot, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}
