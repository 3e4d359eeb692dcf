package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// AxeScript is where axe.min.js is looked for: $BIRJOB_AXE, else
// axe/node_modules/axe-core/axe.min.js beside this package's source.
func AxeScript() string {
	if p := os.Getenv("BIRJOB_AXE"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "axe", "node_modules", "axe-core", "axe.min.js")
}

var axeSource struct {
	once sync.Once
	src  string
	err  error
}

// loadAxe reads axe.min.js once; a missing file skips the test, or fails
// it under BIRJOB_REQUIRE_BROWSER=1 (CI installs it).
func loadAxe(t testing.TB) string {
	t.Helper()
	axeSource.once.Do(func() {
		b, err := os.ReadFile(AxeScript())
		axeSource.src, axeSource.err = string(b), err
	})
	if axeSource.err != nil {
		msg := fmt.Sprintf("browsertest: axe-core is not installed (%v); run `make axe` (npm ci in internal/browsertest/axe)", axeSource.err)
		if os.Getenv("BIRJOB_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return axeSource.src
}

// AxeViolation is one rule axe-core found broken, with the elements that
// break it.
type AxeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  string `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for i, n := range v.Nodes {
		if i == 5 {
			fmt.Fprintf(&b, "\n    … and %d more", len(v.Nodes)-i)
			break
		}
		fmt.Fprintf(&b, "\n    %s: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// axeRun runs axe-core on the whole document, WCAG 2.x A and AA rules and
// axe's best practices, and reports only violations.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || "", help: v.help,
	nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary || ""})),
})))`

// Axe injects axe-core into the tab's page (once per document) and returns
// the violations it finds there now.
func Axe(t testing.TB, ctx context.Context) []AxeViolation {
	t.Helper()
	if !Eval[bool](t, ctx, `typeof window.axe === "object"`) {
		src := loadAxe(t)
		Do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			res, err := cdp.Call(ctx, tg, cdpruntime.Evaluate, cdpruntime.EvaluateParams{Expression: src})
			if err == nil && res.ExceptionDetails != nil {
				err = fmt.Errorf("axe.min.js: %s", res.ExceptionDetails.Text)
			}
			return err
		}))
	}
	return Run(t, ctx, chromedp.Evaluate[[]AxeViolation](axeRun, chromedp.EvalAwaitPromise))
}

// CheckAxe fails the test (t.Errorf, so the other views are still checked)
// with every violation axe-core finds in the page; what names the view.
func CheckAxe(t testing.TB, ctx context.Context, what string) {
	t.Helper()
	vs := Axe(t, ctx)
	for _, v := range vs {
		t.Errorf("%s: axe: %s", what, v)
	}
	if len(vs) > 0 {
		saveScreenshot(t, ctx, "axe-"+what)
	}
}

// Device is a viewport and a color scheme to emulate.
type Device struct {
	Name          string // for file names: "desktop", "phone"
	Width, Height int64
	Mobile        bool // a touch phone: meta viewport, mobile scrollbars
	Dark          bool // prefers-color-scheme: dark
}

// Desktop and Phone are the devices the view tests use: a laptop's window
// and a 390×844 phone (an iPhone 12 to 15).
var (
	Desktop = Device{Name: "desktop", Width: 1280, Height: 900}
	Phone   = Device{Name: "phone", Width: 390, Height: 844, Mobile: true}
)

// WithDark returns d in dark mode.
func (d Device) WithDark() Device {
	d.Dark = true
	d.Name += "-dark"
	return d
}

// Emulate makes the tab look like d until the next Emulate: its viewport
// and its prefers-color-scheme.
func Emulate(t testing.TB, ctx context.Context, d Device) {
	t.Helper()
	scheme := "light"
	if d.Dark {
		scheme = "dark"
	}
	// Scale 1 even for a phone: the same layout, pictures a quarter the size.
	scale := 1.0
	Do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: d.Width, Height: d.Height, DeviceScaleFactor: scale, Mobile: d.Mobile,
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

// CaptureViewport saves a PNG of what the viewport shows to path.
func CaptureViewport(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	buf := Run(t, ctx, chromedp.CaptureScreenshot())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatalf("browsertest: save screenshot: %v", err)
	}
}
