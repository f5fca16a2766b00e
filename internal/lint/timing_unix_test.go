//go:build unix

package lint_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/lint"
)

// processCPU is the user and system time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestThousandManifests holds the target of issue 6: 1,000 manifests
// linted in under a second. It counts CPU time, not wall time: the
// machines tests run on are shared, and the work is the CPU's (an idle
// machine's wall time is at most the CPU time, spread over its cores).
func TestThousandManifests(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	dir := manifestDir(t, 1000)
	if _, err := lint.Run(context.Background(), []string{dir}, lint.Options{}); err != nil {
		t.Fatal(err) // warm the page cache
	}
	const runs = 3
	start := processCPU()
	for range runs {
		if _, err := lint.Run(context.Background(), []string{dir}, lint.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	per := (processCPU() - start) / runs
	t.Logf("1,000 manifests: %v of CPU per run", per)
	if per > time.Second {
		t.Errorf("1,000 manifests took %v of CPU, the target is 1 s", per)
	}
}
