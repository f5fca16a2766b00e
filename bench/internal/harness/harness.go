// Package harness holds what the benchmark harnesses (bench/analyze,
// bench/sbom) share besides measuring commands (package measure): their
// main and log lines, running go and other helpers, numbers for the
// reports, and writing images: gzip layer blobs hashed while they are
// written, and tar archives of them.
package harness

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/redline-go/redline/bench/internal/measure"
)

// Main is a harness's main: the -child mode of package measure when the
// program was started as one, else the flags and run. A failing run is
// printed as "bench/NAME: ERROR" and exits 1.
func Main(name string, run func() error) {
	measure.ChildMain()
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/"+name+":", err)
		os.Exit(1)
	}
}

var t0 = time.Now()

// Logf writes a progress line to stderr, stamped with the seconds since
// the program started.
func Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(t0).Seconds(), fmt.Sprintf(format, args...))
}

// ModuleRoot is the directory of the redline module the harness runs in.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the redline module")
	}
	return filepath.Dir(mod), nil
}

// RunLog runs a command in dir ("" for this one) with env added to the
// environment and its output on stderr.
func RunLog(dir string, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// IsExec says whether p is an executable regular file.
func IsExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// Human writes a byte count in B, KiB, MiB or GiB.
func Human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// PassFail is a target's verdict: PASS or MISS.
func PassFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}
