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
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
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

// ChildMain runs the child mode when the program was started as
// "PROG -child RESULT CMD ARGS..." and exits; otherwise it returns. Call it
// first in main.
func ChildMain() {
	if len(os.Args) > 3 && os.Args[1] == "-child" {
		os.Exit(Child(os.Args[2], os.Args[3:]))
	}
}

// ExitError is a measured command that failed.
type ExitError struct {
	Cmd, Msg, Stderr string
	Exit             int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("%s: exit %d %s\n%s", e.Cmd, e.Exit, e.Msg, e.Stderr)
}

// Sample is what one measured run cost.
type Sample struct {
	Wall, CPU time.Duration
	RSSKiB    int64 // peak RSS; 0: not measured
}

// Run runs name with args, stdout to stdoutPath (default /dev/null) and
// env added to the environment, and returns what it cost. A command that
// fails returns its cost and an *ExitError.
//
// The command is started by a fresh copy of this program in the child
// mode, not by this one: Linux starts a child's ru_maxrss at the peak RSS
// of the process it was forked from (Go forks with vfork semantics, and
// exec records the old address space's high-water mark), so a harness that
// has held plans, buffers or parsed JSON would put its own peak under
// every measurement. The small wrapper's floor is a few MiB (the harnesses
// log it at start by measuring `true`).
func Run(stdoutPath, name string, args, env []string) (Sample, error) {
	cr, err := run(stdoutPath, name, args, env)
	return Sample{Wall: time.Duration(cr.WallNs), CPU: time.Duration(cr.CPUNs), RSSKiB: cr.MaxRSSKiB}, err
}

func run(stdoutPath, name string, args, env []string) (Result, error) {
	if stdoutPath == "" {
		stdoutPath = os.DevNull
	}
	so, err := os.Create(stdoutPath)
	if err != nil {
		return Result{}, err
	}
	defer so.Close()
	self, err := os.Executable()
	if err != nil {
		return Result{}, err
	}
	res, err := os.CreateTemp("", "bench-measure-*.json")
	if err != nil {
		return Result{}, err
	}
	res.Close()
	defer os.Remove(res.Name())
	var stderr Tail
	cmd := exec.Command(self, append([]string{"-child", res.Name(), name}, args...)...)
	cmd.Stdout, cmd.Stderr = so, &stderr
	cmd.Env = append(os.Environ(), env...)
	what := filepath.Base(name) + " " + strings.Join(args, " ")
	if err := cmd.Run(); err != nil {
		return Result{}, fmt.Errorf("%s: %w\n%s", what, err, stderr.String())
	}
	var cr Result
	raw, err := os.ReadFile(res.Name())
	if err == nil {
		err = json.Unmarshal(raw, &cr)
	}
	if err != nil {
		return Result{}, fmt.Errorf("%s: reading the wrapper's result: %w", filepath.Base(name), err)
	}
	if cr.Err != "" || cr.Exit != 0 {
		return cr, &ExitError{Cmd: what, Exit: cr.Exit, Msg: cr.Err, Stderr: stderr.String()}
	}
	return cr, nil
}

// GzipFloor runs `gzip -dc BLOB > /dev/null` for each blob in turn and
// sums the wall and CPU times (the peak RSS is the largest): decompressing
// the layers is work every tool must do. It stops at the first failure.
func GzipFloor(blobs []string) (Sample, error) {
	var sum Sample
	for _, b := range blobs {
		m, err := Run("", "gzip", []string{"-dc", b}, nil)
		if err != nil {
			return sum, err
		}
		sum.Wall += m.Wall
		sum.CPU += m.CPU
		sum.RSSKiB = max(sum.RSSKiB, m.RSSKiB)
	}
	return sum, nil
}

// Samples are the measured runs of one command on one image; the reports
// give their median.
type Samples []Sample

// Wall is the median wall time.
func (ss Samples) Wall() time.Duration {
	return median(ss, func(s Sample) time.Duration { return s.Wall })
}

// CPU is the median CPU time.
func (ss Samples) CPU() time.Duration {
	return median(ss, func(s Sample) time.Duration { return s.CPU })
}

// RSS is the median peak RSS in KiB.
func (ss Samples) RSS() int64 { return median(ss, func(s Sample) int64 { return s.RSSKiB }) }

// WallRange is the fastest and the slowest run.
func (ss Samples) WallRange() (lo, hi time.Duration) {
	for i, s := range ss {
		if i == 0 || s.Wall < lo {
			lo = s.Wall
		}
		hi = max(hi, s.Wall)
	}
	return lo, hi
}

// median is the middle value (the upper one of an even count), 0 for none.
func median[T int64 | time.Duration](ss Samples, f func(Sample) T) T {
	xs := make([]T, 0, len(ss))
	for _, s := range ss {
		xs = append(xs, f(s))
	}
	slices.Sort(xs)
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)/2]
}

// StartCPUProfile starts profiling the CPU into path ("" does nothing) and
// returns the function that stops it and closes the file.
func StartCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
