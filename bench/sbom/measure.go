package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// sample is one measured run.
type sample struct {
	wall, cpu time.Duration
	rssKiB    int64
}

func median[T int64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// measure runs name with args, stdout to stdoutPath (default /dev/null),
// extra environment env, and returns its wall time, CPU time and peak RSS.
//
// As in bench/analyze, the command is started by a fresh copy of this
// program (-child), not by this one: Linux starts a child's ru_maxrss at
// the peak RSS of the process it was forked from, so the harness (which
// has parsed three tools' JSON) would otherwise put its own peak under
// every number. The wrapper's own floor is logged at start.
func measure(stdoutPath, name string, args, env []string) (sample, error) {
	if stdoutPath == "" {
		stdoutPath = os.DevNull
	}
	so, err := os.Create(stdoutPath)
	if err != nil {
		return sample{}, err
	}
	defer so.Close()
	self, err := os.Executable()
	if err != nil {
		return sample{}, err
	}
	res, err := os.CreateTemp("", "bench-sbom-*.json")
	if err != nil {
		return sample{}, err
	}
	res.Close()
	defer os.Remove(res.Name())
	var stderr tail
	cmd := exec.Command(self, append([]string{"-child", res.Name(), name}, args...)...)
	cmd.Stdout, cmd.Stderr = so, &stderr
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	var cr childResult
	raw, err := os.ReadFile(res.Name())
	if err == nil {
		err = json.Unmarshal(raw, &cr)
	}
	if err != nil {
		return sample{}, fmt.Errorf("%s: reading the wrapper's result: %w", filepath.Base(name), err)
	}
	s := sample{wall: time.Duration(cr.WallNs), cpu: time.Duration(cr.CPUNs), rssKiB: cr.MaxRSSKiB}
	if cr.Err != "" || cr.Exit != 0 {
		return s, fmt.Errorf("%s %s: exit %d %s\n%s", filepath.Base(name), strings.Join(args, " "), cr.Exit, cr.Err, stderr.String())
	}
	return s, nil
}

type childResult struct {
	WallNs    int64  `json:"wallNs"`
	CPUNs     int64  `json:"cpuNs"`
	MaxRSSKiB int64  `json:"maxRSSKiB"`
	Exit      int    `json:"exit"`
	Err       string `json:"err,omitempty"`
}

// child is the -child mode: run args, write what it cost to result.
func child(result string, args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	cr := childResult{WallNs: int64(time.Since(start))}
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

// tail keeps the last 4 KiB written to it.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tail) String() string { return string(t.b) }
