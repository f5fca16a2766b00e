package check_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/check"
	"github.com/redline-go/redline/internal/policy"
	"github.com/redline-go/redline/internal/vuln/db"
)

// TestHelloEndToEnd is the README's main job: examples/hello with its
// redline.yaml (toolchain go1.27.3) holds every error-level red line; the
// same check built with this machine's Go (go1.26.8) crosses the
// vulnerability and toolchain lines and names the upgrade. It runs real
// go builds, a go1.27.3 toolchain from the module proxy and govulncheck's
// engine on the embedded data: REDLINE_E2E=1.
func TestHelloEndToEnd(t *testing.T) {
	if os.Getenv("REDLINE_E2E") == "" {
		t.Skip("end-to-end: set REDLINE_E2E=1 (needs the go1.27.3 toolchain through the module proxy)")
	}
	if !strings.HasPrefix(runtime.Version(), "go1.26.") {
		t.Skipf("the failing half expects this machine's go1.26.x, have %s", runtime.Version())
	}
	data, err := db.Open(db.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	hello := filepath.Join("..", "..", "examples", "hello")
	ctx := context.Background()

	res, err := check.Run(ctx, check.Options{Target: hello, DB: data})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != policy.VerdictPass {
		t.Fatalf("hello with go1.27.3: verdict %s, crossed %v, lines %+v", res.Verdict, res.Crossed(), res.Lines)
	}
	if res.Kind != "package" || res.Build == nil || res.SBOM.GoBinaries[0].GoVersion != "go1.27.3" {
		t.Errorf("not built with go1.27.3: %+v", res.SBOM.GoBinaries)
	}
	for _, l := range res.Lines {
		if l.Line == policy.LineReproducible && l.Status != policy.Pass {
			t.Errorf("reproducible: %+v", l)
		}
	}
	// Source reachability ran (govulncheck's engine built by go1.27.3).
	for _, w := range res.Warnings {
		if strings.Contains(w, "source reachability") {
			t.Errorf("source reachability did not run: %s", w)
		}
	}

	res, err = check.Run(ctx, check.Options{Target: hello, DB: data, Toolchain: "local", NoRebuild: true})
	if err != nil {
		t.Fatal(err)
	}
	crossed := strings.Join(res.Crossed(), ",")
	if res.Verdict != policy.VerdictFail || !strings.Contains(crossed, "vulnerabilities") || !strings.Contains(crossed, "toolchain") {
		t.Fatalf("hello with go1.26.8: verdict %s, crossed %s", res.Verdict, crossed)
	}
	if len(res.Actions) == 0 || !strings.Contains(res.Actions[0].Title, "upgrade Go to go1.27.3") {
		t.Errorf("first action %+v, want the Go upgrade", res.Actions)
	}
}
