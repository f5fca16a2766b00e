package main

import (
	cost "github.com/redline-go/redline/bench/internal/measure"
	"slices"
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
	cr, err := cost.Run(stdoutPath, name, args, env)
	return sample{wall: time.Duration(cr.WallNs), cpu: time.Duration(cr.CPUNs), rssKiB: cr.MaxRSSKiB}, err
}
