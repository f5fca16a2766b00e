package report

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/redline-go/redline/internal/check"
)

// screenshotPath is where REDLINE_SCREENSHOT=1 writes the README's picture
// of the failing report, relative to this package.
const screenshotPath = "../../docs/check-report.png"

// TestCheckHTMLChromium opens the reports in headless Chromium and checks
// what only a browser can: nothing is fetched, nothing is logged as an
// error, and the page never scrolls sideways on a laptop or a phone.
func TestCheckHTMLChromium(t *testing.T) {
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("end-to-end test: set REDLINE_E2E=1 to open the reports in headless Chromium (Debian package chromium)")
	}
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		t.Fatal("no Chromium binary in PATH: install Debian's chromium package (apt-get install -y chromium)")
	}

	dir := t.TempDir()
	reports := []struct {
		name string
		r    *check.Result
		ids  []string
	}{
		{"pass", passingCheck(), []string{"verdict", "verdict-word", "lines-table", "layers-chart", "components-chart", "privilege-checks", "gobin-table"}},
		{"fail", failingCheck(), []string{"verdict", "verdict-word", "lines-table", "layers-chart", "components-chart", "slimming", "vuln-table", "fixes-table", "privilege-checks", "lint-table", "gobin-table"}},
		{"incomplete", incompleteCheck(), []string{"verdict", "verdict-word", "lines-table"}},
	}
	files := map[string]string{}
	for _, rep := range reports {
		p := filepath.Join(dir, rep.name+".html")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckHTML(f, rep.r); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		files[rep.name] = p
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		// Nothing in the background may touch the network either.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-pings", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}

	viewports := []struct {
		name          string
		width, height int64
		mobile        bool
	}{
		{"laptop", 1280, 800, false},
		{"phone", 390, 844, true},
	}
	for _, rep := range reports {
		for _, vp := range viewports {
			t.Run(rep.name+"/"+vp.name, func(t *testing.T) {
				tab, cancelTab := chromedp.NewContext(browserCtx)
				defer cancelTab()
				ctx, cancel := context.WithTimeout(tab, 30*time.Second)
				defer cancel()

				doc := (&url.URL{Scheme: "file", Path: files[rep.name]}).String()
				var (
					mu       sync.Mutex
					problems []string
					requests []string
				)
				if err := chromedp.Listen(tab, func(ev any) {
					mu.Lock()
					defer mu.Unlock()
					switch ev := ev.(type) {
					case *runtime.EventConsoleAPICalled:
						var args []string
						for _, a := range ev.Args {
							args = append(args, string(a.Value)+a.Description)
						}
						problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
					case *runtime.EventExceptionThrown:
						d := ev.ExceptionDetails
						msg := d.Text
						if d.Exception != nil {
							msg += " " + d.Exception.Description
						}
						problems = append(problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
					case *log.EventEntryAdded:
						if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
							problems = append(problems, fmt.Sprintf("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
						}
					case *network.EventRequestWillBeSent:
						requests = append(requests, ev.Request.URL)
					}
				}); err != nil {
					t.Fatal(err)
				}

				emulate := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
				if vp.mobile {
					emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(3))
				} else {
					emulate[0] = chromedp.EmulateLandscape
				}
				if err := chromedp.Do(ctx,
					chromedp.EmulateViewport(vp.width, vp.height, emulate...),
					chromedp.Navigate(doc),
				); err != nil {
					t.Fatalf("opening %s: %v", doc, err)
				}

				missing, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](jsList(rep.ids)+`.filter(id => !document.getElementById(id))`))
				if err != nil {
					t.Fatal(err)
				}
				if len(missing) > 0 {
					t.Errorf("elements missing: %v", missing)
				}

				// The page must not scroll sideways. innerWidth alone is not
				// enough on a phone: a mobile viewport zooms out to fit wide
				// content, which raises innerWidth with it; clientWidth and
				// the emulated width do not move.
				type layout struct {
					ScrollWidth, ClientWidth, InnerWidth int64
					Wide                                 []string
					InnerScroll                          []string
				}
				lay, err := chromedp.Run(ctx, chromedp.Evaluate[layout](`(() => {
  const de = document.documentElement;
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().replace(/\s+/g, '.') : '');
  const wide = [];
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > de.clientWidth + 1 && !e.closest('.tbl')) wide.push(name(e) + ' right=' + Math.round(r.right));
    if (wide.length >= 10) break;
  }
  const inner = [];
  for (const e of document.querySelectorAll('.tbl')) {
    if (e.scrollWidth > e.clientWidth + 1) inner.push(name(e.firstElementChild || e) + ' ' + e.scrollWidth + '>' + e.clientWidth);
  }
  return {ScrollWidth: de.scrollWidth, ClientWidth: de.clientWidth, InnerWidth: window.innerWidth, Wide: wide, InnerScroll: inner};
})()`))
				if err != nil {
					t.Fatal(err)
				}
				if lay.ScrollWidth > lay.InnerWidth || lay.ScrollWidth > vp.width || lay.InnerWidth > vp.width {
					t.Errorf("horizontal scroll at %dx%d: scrollWidth %d, clientWidth %d, innerWidth %d; too wide: %v",
						vp.width, vp.height, lay.ScrollWidth, lay.ClientWidth, lay.InnerWidth, lay.Wide)
				}
				if len(lay.Wide) > 0 {
					t.Errorf("elements beyond the right edge at %dx%d: %v", vp.width, vp.height, lay.Wide)
				}
				// Tables may scroll inside their own box, but these fixtures
				// should not need to.
				if len(lay.InnerScroll) > 0 {
					t.Errorf("tables scroll sideways at %dx%d: %v", vp.width, vp.height, lay.InnerScroll)
				}

				if rep.name == "fail" && vp.name == "laptop" && os.Getenv("REDLINE_SCREENSHOT") == "1" {
					png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(screenshotPath, png, 0o644); err != nil {
						t.Fatal(err)
					}
					t.Logf("wrote %s (%d bytes)", screenshotPath, len(png))
				}

				// Events arrive on the tab's reader; a round trip makes
				// sure every event of the load was delivered.
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[int]("1")); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, p := range problems {
					t.Errorf("browser reported %s", p)
				}
				for _, u := range requests {
					if u != doc {
						t.Errorf("request to %s: the report must load nothing but itself", u)
					}
				}
				if len(requests) == 0 {
					t.Error("saw no request for the document itself: is the network listener working?")
				}
			})
		}
	}
}

func jsList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + x + "'"
	}
	return "[" + strings.Join(q, ",") + "]"
}
