//go:build unix

package lint_test

import (
	"syscall"
	"time"
)

// processCPU is the user and system time the process has used; the
// benchmarks report it because it holds still on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
