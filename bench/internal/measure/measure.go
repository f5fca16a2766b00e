// Package measure runs a command and records what it cost: wall time, CPU
// time and peak RSS. The harnesses run it through a re-exec of themselves
// (a "-child" mode), because Linux starts a child's ru_maxrss at its
// parent's peak: measured straight from a harness that has built images,
// every tool would look as large as the harness.
package measure

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Result is what one run cost; the child mode writes it as JSON.
type Result struct {
	WallNs    int64  `json:"wallNs"`
	CPUNs     int64  `json:"cpuNs"`
	MaxRSSKiB int64  `json:"maxRSSKiB"`
	Exit      int    `json:"exit"`
	Err       string `json:"err,omitempty"`
}

// Child is the -child mode: run args, write what it cost to result, and
// return the process exit code for the wrapper.
func Child(result string, args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	cr := Result{WallNs: int64(time.Since(start))}
	if ps := cmd.ProcessState; ps != nil {
		cr.CPUNs = int64(ps.UserTime() + ps.SystemTime())
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			cr.MaxRSSKiB = ru.Maxrss // KiB on Linux
		}
		cr.Exit = ps.ExitCode()
	}
	if err != nil {
		cr.Err = err.Error()
	}
	raw, _ := json.Marshal(cr)
	if err := os.WriteFile(result, raw, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// Tail keeps the last 4 KiB written to it (a failing tool's stderr).
type Tail struct{ b []byte }

func (t *Tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *Tail) String() string { return string(t.b) }
