package measure

import (
	"testing"
	"time"
)

func TestSamples(t *testing.T) {
	ss := Samples{
		{Wall: 3 * time.Second, CPU: 1 * time.Second, RSSKiB: 30},
		{Wall: 1 * time.Second, CPU: 3 * time.Second, RSSKiB: 10},
		{Wall: 2 * time.Second, CPU: 2 * time.Second, RSSKiB: 40},
		{Wall: 4 * time.Second, CPU: 4 * time.Second, RSSKiB: 20},
	}
	// The upper middle of an even count, as the harnesses always reported.
	if got := ss.Wall(); got != 3*time.Second {
		t.Errorf("Wall = %v, want 3s", got)
	}
	if got := ss.CPU(); got != 3*time.Second {
		t.Errorf("CPU = %v, want 3s", got)
	}
	if got := ss.RSS(); got != 30 {
		t.Errorf("RSS = %v, want 30", got)
	}
	if lo, hi := ss.WallRange(); lo != time.Second || hi != 4*time.Second {
		t.Errorf("WallRange = %v, %v, want 1s, 4s", lo, hi)
	}
	if ss[0].Wall != 3*time.Second {
		t.Error("the medians sorted the samples in place")
	}
	var none Samples
	if none.Wall() != 0 || none.RSS() != 0 {
		t.Error("no samples: want 0")
	}
}
