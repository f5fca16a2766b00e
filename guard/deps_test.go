package guard_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps guard small: a service that imports it must not pull in more
// than the standard library (and, if ever needed, golang.org/x/sys).
func TestDependencies(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		cmd := exec.Command(goTool(), "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
		cmd.Env = append(cmd.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list (GOOS=%s): %v", goos, err)
		}
		for _, p := range strings.Fields(string(out)) {
			if p != "github.com/redline-go/redline/guard" && !strings.HasPrefix(p, "golang.org/x/sys/") {
				t.Errorf("GOOS=%s: guard depends on %s", goos, p)
			}
		}
	}
}
