package layers_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/layers"
)

// fixture is the image of docs/analyze.md's worked example. Its numbers
// below are computed by hand there, not by the code under test.
var fixture = imagetest.Spec{Layers: []imagetest.Layer{
	{CreatedBy: "ADD base", Entries: []imagetest.Entry{
		{Name: "a", Size: 100},
		{Name: "d/x", Size: 50},
		{Name: "d/y", Size: 30},
		{Name: "keep", Size: 10},
	}},
	{CreatedBy: "RUN build", Entries: []imagetest.Entry{
		{Name: "a", Size: 200},
		{Name: "d/.wh..wh..opq"},
		{Name: "d/z", Size: 5},
		{Name: "tmp/junk", Size: 1000},
	}},
	{CreatedBy: "RUN rm -rf /tmp", Entries: []imagetest.Entry{
		{Name: ".wh.tmp"},
	}},
}}

func analyze(t *testing.T, spec imagetest.Spec) (*layers.Analysis, *image.Result) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := imagetest.Build(spec).WriteOCIDir(dir, ""); err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(context.Background(), image.Target{Scheme: image.OCIDir, Value: dir}, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	res, err := image.Walk(context.Background(), img, image.PassOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := layers.Analyze(img, res, layers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a, res
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestReclaimableByHand(t *testing.T) {
	a, _ := analyze(t, fixture)
	s := a.Summary
	if s.WrittenBytes != 1395 || s.FinalBytes != 215 || s.ReclaimableBytes != 1180 {
		t.Errorf("written/final/reclaimable = %d/%d/%d, want 1395/215/1180", s.WrittenBytes, s.FinalBytes, s.ReclaimableBytes)
	}
	if !near(s.Efficiency, 215.0/1395) {
		t.Errorf("efficiency = %v, want %v", s.Efficiency, 215.0/1395)
	}
	if s.Files != 3 || s.Layers != 3 {
		t.Errorf("files/layers = %d/%d, want 3/3", s.Files, s.Layers)
	}
	type lv struct{ Added, Modified, Removed, RemovedBytes, Shadowed, Deleted, Written int64 }
	var got []lv
	for _, l := range a.Layers {
		got = append(got, lv{int64(l.Added), int64(l.Modified), int64(l.Removed), l.RemovedBytes, l.ShadowedBytes, l.DeletedBytes, l.WrittenBytes})
	}
	want := []lv{
		{Added: 4, Shadowed: 100, Deleted: 80, Written: 190},
		{Added: 2, Modified: 1, Removed: 2, RemovedBytes: 80, Deleted: 1000, Written: 1205},
		{Removed: 1, RemovedBytes: 1000},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("layers (-want +got):\n%s", d)
	}
	wantWaste := []layers.Waste{
		{Path: "/tmp/junk", Copies: 1, WrittenBytes: 1000, ReclaimableBytes: 1000, Layers: []int{1}, Deleted: true},
		{Path: "/a", Copies: 2, WrittenBytes: 300, FinalBytes: 200, ReclaimableBytes: 100, Layers: []int{0, 1}},
		{Path: "/d/x", Copies: 1, WrittenBytes: 50, ReclaimableBytes: 50, Layers: []int{0}, Deleted: true},
		{Path: "/d/y", Copies: 1, WrittenBytes: 30, ReclaimableBytes: 30, Layers: []int{0}, Deleted: true},
	}
	if d := cmp.Diff(wantWaste, a.Waste); d != "" {
		t.Errorf("waste (-want +got):\n%s", d)
	}
	wantFiles := []layers.File{{"/a", 200, 1}, {"/keep", 10, 0}, {"/d/z", 5, 1}}
	if d := cmp.Diff(wantFiles, a.LargestFiles); d != "" {
		t.Errorf("largest files (-want +got):\n%s", d)
	}
	wantDirs := []layers.Dir{{"/d", 5, 1}}
	if d := cmp.Diff(wantDirs, a.LargestDirs); d != "" {
		t.Errorf("largest dirs (-want +got):\n%s", d)
	}
}

func TestDiveByHand(t *testing.T) {
	a, _ := analyze(t, fixture)
	d := a.Dive
	// dive: smallest copy per path over all copies, leaves only, opaque
	// ignored, the whiteout of /tmp counted with the 1000 bytes below it.
	if !near(d.Efficiency, 2195.0/2395) {
		t.Errorf("dive efficiency = %v, want %v", d.Efficiency, 2195.0/2395)
	}
	if d.WastedBytes != 300 || d.SizeBytes != 1395 || d.UserSizeBytes != 1205 {
		t.Errorf("dive wasted/size/user = %d/%d/%d, want 300/1395/1205", d.WastedBytes, d.SizeBytes, d.UserSizeBytes)
	}
	if !near(d.UserWastedPercent, 300.0/1205) {
		t.Errorf("dive user wasted = %v, want %v", d.UserWastedPercent, 300.0/1205)
	}
}

func TestRules(t *testing.T) {
	a, _ := analyze(t, fixture)
	r, err := layers.ParseDiveCI([]byte("rules:\n  lowestEfficiency: 0.9\n  highestWastedBytes: 1KB\n  highestUserWastedPercent: disabled\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Evaluate(a) {
		t.Error("redline measures: rules passed, want efficiency and wasted bytes to fail")
	}
	var pass []bool
	for _, rr := range a.Rules {
		pass = append(pass, rr.Pass)
	}
	if d := cmp.Diff([]bool{false, false}, pass); d != "" {
		t.Errorf("redline rule results (-want +got):\n%s", d)
	}
	// dive's numbers flatter the same image: both rules pass.
	r.Dive = true
	if !r.Evaluate(a) {
		t.Errorf("dive measures: rules failed: %+v", a.Rules)
	}
	if _, err := layers.ParseDiveCI([]byte("rules:\n  lowestEficiency: 0.9\n")); err == nil {
		t.Error("misspelt rule accepted")
	}
	if _, err := layers.ParseDiveCI([]byte("rules:\n  lowestEfficiency: 1.5\n")); err == nil {
		t.Error("efficiency 1.5 accepted")
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"20MB": 20e6, "20MiB": 20 << 20, "1.5GB": 1.5e9, "123": 123, "4 kB": 4000, "0": 0} {
		got, err := layers.ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MB", "-1MB", "12XB", "1e400"} {
		if _, err := layers.ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) succeeded", bad)
		}
	}
}

func TestCompare(t *testing.T) {
	base, baseRes := analyze(t, fixture)
	slim := imagetest.Spec{Layers: []imagetest.Layer{{Entries: []imagetest.Entry{
		{Name: "a", Size: 200},
		{Name: "app/bin", Size: 40},
	}}}}
	img, imgRes := analyze(t, slim)
	c, err := layers.Compare(base, baseRes.Tree, img, imgRes.Tree, 10)
	if err != nil {
		t.Fatal(err)
	}
	if c.Reduction.FinalBytes != 215-240 || !near(c.Reduction.FinalPercent, -25.0*100/215) {
		t.Errorf("final reduction = %d (%v%%)", c.Reduction.FinalBytes, c.Reduction.FinalPercent)
	}
	if d := cmp.Diff([]layers.File{{"/keep", 10, 0}, {"/d/z", 5, 1}}, c.Removed); d != "" {
		t.Errorf("removed (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]layers.File{{"/app/bin", 40, 0}}, c.Added); d != "" {
		t.Errorf("added (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]layers.Dir{{"/app", 40, 1}}, c.AddedDirs); d != "" {
		t.Errorf("added dirs (-want +got):\n%s", d)
	}
	if c.Changed != 0 {
		t.Errorf("changed = %d, want 0 (/a is 200 bytes in both)", c.Changed)
	}
	bc := base.Summary.CompressedBytes
	if want := float64(bc-img.Summary.CompressedBytes) * 100 / float64(bc); !near(c.Reduction.CompressedPercent, want) {
		t.Errorf("compressed reduction %v%%, want %v%%", c.Reduction.CompressedPercent, want)
	}
}
