package guard

import (
	"context"
	"testing"
)

// BenchmarkCheck measures Check on the recorded podman container (a typical one: uid
// 65532, one capability, hybrid cgroups, 5 threads) and on the live test process.
// Targets (issue 7): ≤ 1 ms and ≤ 50 allocations.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	b.Run("fixture=podman-hybrid", func(b *testing.B) {
		h, _ := fixtureHost(loadFixture(b, "podman-hybrid"), nil, 2, 2)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := check(ctx, Policy{}, h); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("live", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Check(ctx, Policy{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
