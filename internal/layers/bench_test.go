package layers_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/layers"
)

// benchSpec is a ~64 MiB image of ~20,000 entries over four gzip layers,
// with the waste analyze looks for: files overwritten by a later layer, a
// directory deleted by a whiteout, and an opaque directory.
func benchSpec() imagetest.Spec {
	tree := func(prefix string, dirs, perDir int, size func(i int) int64) []imagetest.Entry {
		var es []imagetest.Entry
		es = append(es, imagetest.Entry{Name: prefix + "/"})
		n := 0
		for d := range dirs {
			dir := fmt.Sprintf("%s/pkg%03d", prefix, d)
			es = append(es, imagetest.Entry{Name: dir + "/"})
			for f := range perDir {
				es = append(es, imagetest.Entry{Name: fmt.Sprintf("%s/file%03d.so", dir, f), Size: size(n)})
				n++
			}
		}
		return es
	}
	// Mostly small files, a large one every 500.
	sized := func(small, large int64) func(int) int64 {
		return func(i int) int64 {
			if i%500 == 499 {
				return large
			}
			return small/2 + int64(i*7919)%small
		}
	}
	base := tree("usr/lib", 200, 40, sized(2048, 1<<20))        // 8,201 entries, ~31 MiB
	runtime := tree("opt/runtime", 150, 40, sized(1024, 1<<20)) // 6,151 entries, ~18 MiB
	build := tree("tmp/build", 50, 40, sized(1024, 512<<10))    // 2,051 entries, ~4 MiB
	cache := tree("var/cache", 25, 40, sized(512, 256<<10))     // 1,026 entries, ~0.5 MiB
	var over []imagetest.Entry
	for i := 0; i < len(base); i += 4 {
		if base[i].Size > 0 {
			over = append(over, imagetest.Entry{Name: base[i].Name, Size: base[i].Size/2 + 1})
		}
	}
	l3 := append(over, imagetest.Entry{Name: "tmp/.wh.build"}, imagetest.Entry{Name: "var/cache/.wh..wh..opq"})
	l3 = append(l3, tree("var/cache/new", 20, 40, sized(512, 128<<10))...)
	return imagetest.Spec{Layers: []imagetest.Layer{
		{CreatedBy: "ADD rootfs", Entries: base},
		{CreatedBy: "RUN install runtime", Entries: runtime},
		{CreatedBy: "RUN build", Entries: append(build, cache...)},
		{CreatedBy: "RUN upgrade && rm -rf /tmp/build", Entries: l3},
	}}
}

// BenchmarkAnalyze measures what `redline analyze` does with an OCI layout:
// open, the one streaming pass (digests, gunzip, diff IDs, tar) and the
// analysis. Bytes/s are uncompressed tar bytes.
func BenchmarkAnalyze(b *testing.B) {
	built := imagetest.Build(benchSpec())
	dir := filepath.Join(b.TempDir(), "layout")
	if err := built.WriteOCIDir(dir, ""); err != nil {
		b.Fatal(err)
	}
	var tarBytes, entries int64
	for _, l := range built.Layers {
		tarBytes += int64(len(l.Tar))
	}
	b.SetBytes(tarBytes)
	b.ReportAllocs()
	ctx := context.Background()
	target := image.Target{Scheme: image.OCIDir, Value: dir}
	for b.Loop() {
		img, err := image.Open(ctx, target, image.Options{})
		if err != nil {
			b.Fatal(err)
		}
		res, err := image.Walk(ctx, img, image.PassOptions{})
		if err != nil {
			b.Fatal(err)
		}
		a, err := layers.Analyze(img, res, layers.Options{})
		if err != nil {
			b.Fatal(err)
		}
		img.Close()
		if a.Summary.ReclaimableBytes == 0 {
			b.Fatal("no reclaimable bytes")
		}
		entries = 0
		for _, l := range a.Layers {
			entries += l.Entries
		}
	}
	b.ReportMetric(float64(entries), "entries")
}
