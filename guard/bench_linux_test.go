package guard

import (
	"context"
	"syscall"
	"testing"
)

// BenchmarkCheck measures Check on the recorded podman container (a typical one: uid
// 65532, one capability, hybrid cgroups, 5 threads) and on the live test process.
// Targets (issue 7): ≤ 1 ms and ≤ 50 allocations. Besides wall time it reports the
// process's CPU time per Check (cpu-ns/op, from getrusage), which a busy shared machine
// inflates far less than wall time.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	b.Run("fixture=podman-hybrid", func(b *testing.B) {
		h, _ := fixtureHost(loadFixture(b, "podman-hybrid"), nil, 2, 2)
		measure(b, func() error { _, err := check(ctx, Policy{}, h); return err })
	})
	b.Run("live", func(b *testing.B) {
		measure(b, func() error { _, err := Check(ctx, Policy{}); return err })
	})
}

func measure(b *testing.B, f func() error) {
	b.ReportAllocs()
	start := cpuTime()
	n := 0
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
}

func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
