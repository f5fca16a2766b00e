package scan_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/scan"
)

// TestConcurrentTargets scans three images at once from goroutines, as a
// library user (or `redline scan a b c` in one process) would, with one
// shared database; each result must equal the same scan made alone. .ci/run
// runs it under the race detector.
func TestConcurrentTargets(t *testing.T) {
	d := embedded(t)
	bin := build(t, repoRoot(), "./examples/hello", nil, "-trimpath", "-ldflags=-s -w")
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var targets []image.Target
	for i, layout := range []string{"a", "b", "c"} {
		dir := filepath.Join(t.TempDir(), layout)
		entries := []imagetest.Entry{{Name: "usr/local/bin/app", Body: body, Mode: 0o755}}
		for j := 0; j <= i; j++ {
			entries = append(entries, imagetest.Entry{Name: "etc/extra" + string(rune('0'+j)), Body: []byte("x")})
		}
		if err := imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Entries: entries}}}).WriteOCIDir(dir, ""); err != nil {
			t.Fatal(err)
		}
		targets = append(targets, image.Target{Scheme: image.OCIDir, Value: dir})
	}
	alone := make([]*vuln.Result, len(targets))
	for i, tg := range targets {
		if alone[i], _, err = scan.Target(context.Background(), tg, scan.Options{DB: d}); err != nil {
			t.Fatal(err)
		}
	}
	together := make([]*vuln.Result, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for round := 0; round < 2; round++ {
		for i, tg := range targets {
			wg.Go(func() { together[i], _, errs[i] = scan.Target(context.Background(), tg, scan.Options{DB: d}) })
		}
		wg.Wait()
		for i := range targets {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if a, b := levels(alone[i]), levels(together[i]); !slices.Equal(a, b) || together[i].Digest != alone[i].Digest {
				t.Errorf("%s: alone %v %s, together %v %s", targets[i].Value, a, alone[i].Digest, b, together[i].Digest)
			}
		}
	}
	if len(levels(alone[0])) == 0 {
		t.Error("no findings to compare: the test would prove nothing")
	}
}
