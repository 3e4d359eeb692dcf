// Package browsertest starts a headless Chromium for tests and gives the
// few helpers a page test needs: wait for a selector or a condition with a
// deadline, fail on JavaScript exceptions, and keep a screenshot of a
// failing test.
//
// # The browser
//
// One browser serves all tests of a test binary (started on first use);
// every test gets a tab in a browser context of its own, so cookies,
// storage and cache are not shared. It runs headless with a fresh profile
// in a temporary folder. New looks for $BIRJOB_CHROMIUM, /usr/bin/chromium,
// then chromium, chromium-browser, google-chrome on PATH (Debian's package
// is "chromium").
// When none is found the test is skipped, unless BIRJOB_REQUIRE_BROWSER=1
// (CI sets it), where a missing browser fails the test.
//
// # Usage
//
//	ctx := browsertest.New(t)
//	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL))
//	browsertest.WaitVisible(t, ctx, "#jobs li")
//	got := browsertest.Eval[string](t, ctx, `document.querySelector("#conn").dataset.state`)
//
// and, to stop the browser when the package's tests end:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
//
// Several tabs of one person's browser (shared cookies, storage, Web Locks,
// BroadcastChannel): NewTab(t, ctx) for each, Close(t, tab) to close one
// (the tab of New holds the browser context: leave it blank when a test
// closes tabs). BeforeScripts runs a script before a tab's page scripts.
//
// Every helper fails the test (t.Fatal) on error or timeout, after saving a
// screenshot. At the end of the test, uncaught exceptions and unhandled
// promise rejections of the page fail the test; console.error calls are
// logged. Failure screenshots go to $BIRJOB_FAILURE_SCREENSHOTS when set
// (or $BIRJOB_SCREENSHOTS when it names a folder), else to
// os.TempDir()/birjob-screenshots.
//
// # Accessibility, devices and screenshots
//
// Axe runs axe-core in the tab's page and returns its violations; CheckAxe
// fails the test on any (t.Errorf, so a table of views reports them all).
// axe-core is the npm package pinned in axe/package.json and
// axe/package-lock.json, installed into axe/node_modules by `npm ci` (`make
// axe`, which `make test` and .ci/run run); a test that needs it and does
// not find it is skipped, or fails under BIRJOB_REQUIRE_BROWSER=1. The
// script goes into the page through the DevTools protocol
// (Runtime.evaluate), so the page keeps its Content-Security-Policy, which
// allows no inline or foreign script.
//
// Emulate gives the tab a viewport and a prefers-color-scheme: Desktop
// (1280×900), Phone (390×844, mobile), and either WithDark().
// CaptureViewport saves a PNG of what the viewport shows (the README's
// pictures, docs/screenshots/, come from cmd/birjob's TestBrowser_Screenshots).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout bounds each helper's wait. It is generous: the tests share
// two CPU cores with everything else, and a wait ends as soon as its
// condition holds.
const DefaultTimeout = 20 * time.Second

// Browser is the state New keeps for a test; reach it with From.
type Browser struct {
	t       testing.TB
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
	changed chan struct{} // closed and replaced on every console message
	// AllowExceptions, when set, accepts page exceptions instead of
	// failing the test at cleanup (for tests of broken pages).
	AllowExceptions bool
	close           func() // closes the tab, once
}

type ctxKey struct{}

// From returns the Browser of a context made by New.
func From(ctx context.Context) *Browser {
	b, _ := ctx.Value(ctxKey{}).(*Browser)
	return b
}

// ExecPath finds the Chromium binary, or returns "".
func ExecPath() string {
	if p := os.Getenv("BIRJOB_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// shared is the one browser of the test binary; each test gets a tab in a
// browser context of its own (no cookies, storage or cache shared).
var shared struct {
	mu      sync.Mutex
	ctx     context.Context // the browser's chromedp context
	cancel  func()
	profile string
	err     error
}

// profilePrefix names the profile folders in os.TempDir; the pid after it
// lets a later run remove the folders of test binaries that ended without
// Shutdown.
const profilePrefix = "birjob-chromium-"

// browser starts the shared browser once.
func browser(path string) (context.Context, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.ctx != nil || shared.err != nil {
		return shared.ctx, shared.err
	}
	removeStaleProfiles()
	profile, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", profilePrefix, os.Getpid()))
	if err != nil {
		shared.err = fmt.Errorf("browsertest: profile folder: %w", err)
		return nil, shared.err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1200, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	// The first action starts the browser process under the context it
	// gets, so it must be the long-lived one, not one with a timeout.
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		_ = os.RemoveAll(profile)
		shared.err = fmt.Errorf("browsertest: start %s: %w", path, err)
		return nil, shared.err
	}
	shared.ctx, shared.profile = bctx, profile
	shared.cancel = func() {
		cancelBrowser()
		cancelAlloc()
	}
	return bctx, nil
}

// removeStaleProfiles removes the profile folders of test binaries that
// are gone (the kernel killed their browser with them).
func removeStaleProfiles() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), profilePrefix+"*"))
	for _, d := range dirs {
		pidStr, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(d), profilePrefix), "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}

// Shutdown stops the shared browser and removes its profile. Call it after
// m.Run in TestMain (Main does); without it the browser dies with the test
// binary and a later run removes the profile.
func Shutdown() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cancel != nil {
		shared.cancel()
		_ = os.RemoveAll(shared.profile)
	}
	shared.ctx, shared.cancel, shared.err = nil, nil, nil
}

// Main runs the tests of a package and then Shutdown:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
//
// A package that needs another TestMain helper too calls m.Run, then
// Shutdown, then os.Exit itself.
func Main(m *testing.M) {
	code := m.Run()
	Shutdown()
	os.Exit(code)
}

// New returns the context of a new tab, in a browser context of its own,
// of the test binary's headless Chromium (started on first use). The tab
// closes when the test ends; before that, a failing test gets a screenshot
// and page exceptions fail the test.
func New(t testing.TB) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browsertest: needs Chromium; skipped with -short")
	}
	path := ExecPath()
	if path == "" {
		if os.Getenv("BIRJOB_REQUIRE_BROWSER") == "1" {
			t.Fatal("browsertest: no Chromium found (install the Debian package chromium, or set BIRJOB_CHROMIUM); BIRJOB_REQUIRE_BROWSER=1 makes this an error")
		}
		t.Skip("browsertest: no Chromium found; install the Debian package chromium (set BIRJOB_REQUIRE_BROWSER=1 to fail instead)")
	}
	bctx, err := browser(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancelTab := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	return watch(t, ctx, cancelTab)
}

// NewTab opens another tab in the browser context of tab (a context from
// New or NewTab): the tabs share cookies, storage, Web Locks and
// BroadcastChannels, like the tabs of one person's browser. Each tab gets a
// window of its own, so none is hidden (a hidden page gets no animation
// frames and would throttle its timers). The tab closes when the test ends,
// or earlier with Close. Closing the tab of New ends the browser context and
// every tab in it; a test that closes tabs opens them all with NewTab.
func NewTab(t testing.TB, tab context.Context) context.Context {
	t.Helper()
	if From(tab) == nil {
		t.Fatal("browsertest: NewTab needs a context from New or NewTab")
	}
	ctx, cancelTab := chromedp.NewContext(tab)
	return watch(t, ctx, cancelTab)
}

// Close closes a tab opened with NewTab (the page gets its pagehide, and
// its Web Locks are released) and checks it like the end of a test does.
func Close(t testing.TB, tab context.Context) {
	t.Helper()
	b := From(tab)
	if b == nil || b.close == nil {
		t.Fatal("browsertest: Close needs a context from NewTab")
	}
	b.close()
}

// BeforeScripts makes the tab run the JavaScript source in every document
// it loads from now on, before the page's own scripts: to take a feature
// away (delete navigator.locks) or to stub one.
func BeforeScripts(t testing.TB, tab context.Context, source string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(tab, DefaultTimeout)
	defer cancel()
	if _, err := chromedp.Call(tctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: source}); err != nil {
		fail(t, tab, "add a script", err)
	}
}

// watch starts the tab of ctx, records its console and registers its
// cleanup: a screenshot when the test failed, then the tab closes and its
// exceptions fail the test.
func watch(t testing.TB, ctx context.Context, cancelTab context.CancelFunc) context.Context {
	t.Helper()
	b := &Browser{t: t, changed: make(chan struct{})}
	ctx = context.WithValue(ctx, ctxKey{}, b)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: open a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			close(b.changed)
			b.changed = make(chan struct{})
			b.mu.Unlock()
		}
	}()
	var once sync.Once
	b.close = func() {
		once.Do(func() {
			if t.Failed() {
				saveScreenshot(t, ctx, "failed")
			}
			cancelTab()
			<-done
			b.check()
		})
	}
	// Cleanups run last-registered first: this one runs while the tab lives.
	t.Cleanup(b.close)
	return ctx
}

// Console returns the console messages of the page so far.
func (b *Browser) Console() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.console...)
}

// WaitConsole waits until the page wrote a console message (or threw an
// exception) for which match is true, and returns it.
func WaitConsole(t testing.TB, ctx context.Context, match func(chromedp.ConsoleMessage) bool) chromedp.ConsoleMessage {
	t.Helper()
	b := From(ctx)
	if b == nil {
		t.Fatal("browsertest: WaitConsole needs a context from New")
	}
	deadline := time.NewTimer(DefaultTimeout)
	defer deadline.Stop()
	for seen := 0; ; {
		b.mu.Lock()
		msgs, changed := b.console[seen:], b.changed
		b.mu.Unlock()
		for _, m := range msgs {
			if match(m) {
				return m
			}
		}
		seen += len(msgs)
		select {
		case <-changed:
		case <-deadline.C:
			fail(t, ctx, "wait for a console message", context.DeadlineExceeded)
		case <-ctx.Done():
			fail(t, ctx, "wait for a console message", ctx.Err())
		}
	}
}

// Exceptions returns the uncaught exceptions and unhandled rejections so far.
func (b *Browser) Exceptions() []string {
	var out []string
	for _, m := range b.Console() {
		if m.IsException() {
			out = append(out, fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line+1))
		}
	}
	return out
}

// check logs console errors and fails the test on exceptions.
func (b *Browser) check() {
	for _, m := range b.Console() {
		switch {
		case m.IsException():
			if b.AllowExceptions {
				b.t.Logf("browser exception (allowed): %s (%s:%d)", m.Text, m.URL, m.Line+1)
			} else {
				b.t.Errorf("browser exception: %s (%s:%d)", m.Text, m.URL, m.Line+1)
			}
		case m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning:
			b.t.Logf("browser console %s: %s", m.Type, m.Text)
		}
	}
}

// Do runs actions with DefaultTimeout; on error it saves a screenshot and
// fails the test.
func Do(t testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		fail(t, ctx, "actions", err)
	}
}

// Run runs one action that returns a value, like Do.
func Run[T any](t testing.TB, ctx context.Context, action chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	v, err := chromedp.Run(tctx, action)
	if err != nil {
		fail(t, ctx, "action", err)
	}
	return v
}

// WaitVisible waits until an element matching the CSS selector is visible.
func WaitVisible(t testing.TB, ctx context.Context, selector string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(selector))); err != nil {
		fail(t, ctx, "wait for "+selector, err)
	}
}

// WaitTrue waits until the JavaScript expression is truthy; it polls the
// page (on every animation frame), so it ends as soon as the condition holds.
func WaitTrue(t testing.TB, ctx context.Context, expression string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	for {
		_, err := chromedp.Run(tctx, chromedp.Poll[bool]("!!("+expression+")"))
		// A page that is still replacing its document loses the context
		// the poll runs in: poll the new one.
		if err != nil && tctx.Err() == nil && contextGone(err) {
			continue
		}
		if err != nil {
			fail(t, ctx, "wait for "+expression, err)
		}
		return
	}
}

// contextGone reports whether err says the page's JavaScript context went
// away under a call (a navigation in progress).
func contextGone(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Cannot find context with specified id") || strings.Contains(msg, "Execution context was destroyed")
}

// Eval evaluates a JavaScript expression and returns its value.
func Eval[T any](t testing.TB, ctx context.Context, expression string) T {
	t.Helper()
	return Run(t, ctx, chromedp.Evaluate[T](expression))
}

// Text returns the textContent of the first element matching selector.
func Text(t testing.TB, ctx context.Context, selector string) string {
	t.Helper()
	return Run(t, ctx, chromedp.TextContent(chromedp.CSS(selector)))
}

// Screenshot saves a full-page PNG to path.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	buf := Run(t, ctx, chromedp.FullScreenshot(100))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatalf("browsertest: save screenshot: %v", err)
	}
}

// ScreenshotDir is where failure screenshots go. (BIRJOB_SCREENSHOTS=1
// asks for the documentation's screenshots instead; it is no folder.)
func ScreenshotDir() string {
	if d := os.Getenv("BIRJOB_FAILURE_SCREENSHOTS"); d != "" {
		return d
	}
	if d := os.Getenv("BIRJOB_SCREENSHOTS"); d != "" && d != "1" && d != "0" {
		return d
	}
	return filepath.Join(os.TempDir(), "birjob-screenshots")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// saveScreenshot keeps a screenshot of the page for a failing test; it
// only logs its own errors.
func saveScreenshot(t testing.TB, ctx context.Context, what string) {
	if ctx.Err() != nil {
		return
	}
	dir := ScreenshotDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("browsertest: screenshot dir: %v", err)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("browsertest: screenshot: %v", err)
		return
	}
	name := unsafeName.ReplaceAllString(t.Name()+"-"+what, "_") + ".png"
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Logf("browsertest: screenshot: %v", err)
		return
	}
	t.Logf("browsertest: screenshot of the page: %s", p)
}

// fail saves a screenshot and the page's exceptions, then fails the test.
func fail(t testing.TB, ctx context.Context, what string, err error) {
	t.Helper()
	saveScreenshot(t, ctx, strings.ReplaceAll(what, " ", "_")[:min(len(what), 40)])
	msg := fmt.Sprintf("browsertest: %s: %v", what, err)
	if errors.Is(err, context.DeadlineExceeded) {
		msg = fmt.Sprintf("browsertest: %s: not done within %s", what, DefaultTimeout)
	}
	if b := From(ctx); b != nil {
		if ex := b.Exceptions(); len(ex) > 0 {
			msg += "\npage exceptions:\n  " + strings.Join(ex, "\n  ")
		}
	}
	t.Fatal(msg)
}
