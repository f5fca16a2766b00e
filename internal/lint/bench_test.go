package lint_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/lint"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/inventory"
)

// manifestDir writes n manifests: the corpus files in turn, each object
// renamed so no two are alike.
func manifestDir(tb testing.TB, n int) string {
	tb.Helper()
	files, _ := filepath.Glob("testdata/corpus/k8s/*.yaml")
	dir := tb.TempDir()
	for i := range n {
		src, err := os.ReadFile(files[i%len(files)])
		if err != nil {
			tb.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("team%02d", i%37), fmt.Sprintf("m%04d-%s", i, filepath.Base(files[i%len(files)])))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, src, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// BenchmarkManifests lints a directory of 1,000 manifests (the target:
// under a second).
func BenchmarkManifests(b *testing.B) {
	dir := manifestDir(b, 1000)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		rep, err := lint.Run(context.Background(), []string{dir}, lint.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n = len(rep.Findings)
	}
	b.ReportMetric(float64(n), "findings")
}

// benchImage is, for 200 dirs, about 20,000 entries and 40 MiB over four
// gzip layers (the shape of the layers benchmark) plus five Go binaries, so
// the image rules have executables to read as a real service image does.
func benchImage(tb testing.TB, dirs int) string {
	tb.Helper()
	var base, app []imagetest.Entry
	base = append(base, imagetest.Entry{Name: "usr/"}, imagetest.Entry{Name: "usr/lib/"}, imagetest.Entry{Name: "etc/"}, imagetest.Entry{Name: "etc/passwd", Body: []byte("root:x:0:0::/:/bin/sh\n")})
	for d := range dirs {
		dir := fmt.Sprintf("usr/lib/pkg%03d", d)
		base = append(base, imagetest.Entry{Name: dir + "/"})
		for f := range 40 {
			size := int64(1024 + (d*40+f)*7919%2048)
			if (d*40+f)%500 == 499 {
				size = 1 << 20
			}
			base = append(base, imagetest.Entry{Name: fmt.Sprintf("%s/file%03d.so", dir, f), Size: size})
		}
	}
	var runtime []imagetest.Entry
	runtime = append(runtime, imagetest.Entry{Name: "opt/"})
	for d := range dirs * 3 / 4 {
		dir := fmt.Sprintf("opt/rt%03d", d)
		runtime = append(runtime, imagetest.Entry{Name: dir + "/"})
		for f := range 40 {
			runtime = append(runtime, imagetest.Entry{Name: fmt.Sprintf("%s/mod%03d.py", dir, f), Size: int64(512 + f*13)})
		}
	}
	app = append(app, imagetest.Entry{Name: "usr/local/"}, imagetest.Entry{Name: "usr/local/bin/"})
	for i := range 5 {
		app = append(app, imagetest.Entry{Name: fmt.Sprintf("usr/local/bin/svc%d", i), Body: helloBin, Mode: 0o755})
	}
	var over []imagetest.Entry
	for i := 0; i < len(base); i += 4 {
		if base[i].Size > 0 {
			over = append(over, imagetest.Entry{Name: base[i].Name, Size: base[i].Size/2 + 1})
		}
	}
	s := imagetest.Spec{Layers: []imagetest.Layer{{Entries: base}, {Entries: runtime}, {Entries: app}, {Entries: over}}, User: "65532:65532", Entrypoint: []string{"/usr/local/bin/svc0"}}
	dir := filepath.Join(tb.TempDir(), "layout")
	if err := imagetest.Build(s).WriteOCIDir(dir, ""); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// BenchmarkImagePass measures what the image rules add to the one pass:
// the walk alone, with the lint visitors, with the SBOM catalogers, and
// with both sharing the Go binaries.
func BenchmarkImagePass(b *testing.B) {
	dir := benchImage(b, 200)
	ctx := context.Background()
	target := image.Target{Scheme: image.OCIDir, Value: dir}
	walk := func(b *testing.B, vs func() ([]image.Visitor, func(*image.Image, *image.Result))) {
		b.ReportAllocs()
		start := processCPU()
		for b.Loop() {
			img, err := image.Open(ctx, target, image.Options{})
			if err != nil {
				b.Fatal(err)
			}
			visitors, finish := vs()
			res, err := image.Walk(ctx, img, image.PassOptions{}, visitors...)
			if err != nil {
				b.Fatal(err)
			}
			finish(img, res)
			img.Close()
		}
		// CPU time holds still when the machine is shared; wall time does
		// not.
		if cpu := processCPU() - start; cpu > 0 {
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
	b.Run("walk", func(b *testing.B) {
		walk(b, func() ([]image.Visitor, func(*image.Image, *image.Result)) {
			return nil, func(*image.Image, *image.Result) {}
		})
	})
	b.Run("walk+lint", func(b *testing.B) {
		walk(b, func() ([]image.Visitor, func(*image.Image, *image.Result)) {
			p := lint.NewPass(lint.Options{})
			return p.Visitors(), func(img *image.Image, res *image.Result) { p.Finish(img, res) }
		})
	})
	b.Run("walk+sbom", func(b *testing.B) {
		walk(b, func() ([]image.Visitor, func(*image.Image, *image.Result)) {
			p := inventory.NewPass()
			return p.Visitors(), func(img *image.Image, res *image.Result) { p.Finish(img, res) }
		})
	})
	b.Run("walk+sbom+lint", func(b *testing.B) {
		walk(b, func() ([]image.Visitor, func(*image.Image, *image.Result)) {
			inv := inventory.NewPass()
			var s *sbom.SBOM
			lp := lint.NewSharedPass(lint.Options{}, func() *sbom.SBOM { return s })
			return append(inv.Visitors(), lp.Visitors()...), func(img *image.Image, res *image.Result) {
				s = inv.Finish(img, res)
				lp.Finish(img, res)
			}
		})
	})
}

// TestSharedPass: lint and SBOM on one walk find what lint alone finds.
func TestSharedPass(t *testing.T) {
	dir := benchImage(t, 10)
	ctx := context.Background()
	target := image.Target{Scheme: image.OCIDir, Value: dir}
	run := func(shared bool) *rule.Report {
		img, err := image.Open(ctx, target, image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		var s *sbom.SBOM
		inv := inventory.NewPass()
		lp := lint.NewPass(lint.Options{})
		vs := lp.Visitors()
		if shared {
			lp = lint.NewSharedPass(lint.Options{}, func() *sbom.SBOM { return s })
			vs = append(inv.Visitors(), lp.Visitors()...)
		}
		res, err := image.Walk(ctx, img, image.PassOptions{}, vs...)
		if err != nil {
			t.Fatal(err)
		}
		if shared {
			s = inv.Finish(img, res)
		}
		return lp.Finish(img, res)
	}
	alone, shared := run(false), run(true)
	if len(alone.Findings) == 0 || !slices.ContainsFunc(alone.Findings, func(f rule.Finding) bool { return f.Rule == "RL-IMG-013" }) {
		t.Fatalf("the bench image should trip the Go binary rules: %v", alone.Findings)
	}
	if diff := cmp.Diff(alone, shared); diff != "" {
		t.Errorf("shared pass (-alone +shared):\n%s", diff)
	}
}
