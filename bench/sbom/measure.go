package main

import (
	"encoding/json"
	"fmt"
	cost "github.com/redline-go/redline/bench/internal/measure"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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
	var stderr cost.Tail
	cmd := exec.Command(self, append([]string{"-child", res.Name(), name}, args...)...)
	cmd.Stdout, cmd.Stderr = so, &stderr
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Run(); err != nil {
		return sample{}, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	var cr cost.Result
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
