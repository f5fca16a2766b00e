// Command analyze benchmarks `redline analyze` on large generated images
// against the floor of decompressing their layers with GNU gzip.
//
//	go run ./bench/analyze [-out DIR] [-size 1GiB] [-files N] [-keep]
//
// It writes OCI image layouts under DIR (streaming: no layer is ever held
// in memory), builds redline once into DIR/redline, and measures, -runs
// times each (the median is reported): `gzip -dc` over every layer blob,
// `redline analyze -q -o json=/dev/null oci-dir:IMAGE` (wall time and peak
// RSS from the child's rusage), and dive when it is installed. Images:
//
//	main      -size bytes in -files entries, 6 gzip layers with waste
//	bytes2x   the same entries, twice the bytes: RSS must not grow
//	entriesN  tiny files, -files/4, -files and 4*-files entries: RSS grows
//
// The markdown tables go to stdout and DIR/results.md.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/redline-go/redline/bench/internal/harness"
	"github.com/redline-go/redline/bench/internal/measure"
)

var (
	outFlag    = flag.String("out", "bench/work", "work directory for images, the redline binary and results")
	sizeFlag   = flag.String("size", "1GiB", "bytes of file content of the main image (KiB, MiB, GiB, KB, MB, GB suffixes)")
	filesFlag  = flag.Int("files", 100000, "tar entries of the main image, directories and whiteouts included")
	keepFlag   = flag.Bool("keep", false, "keep the generated images (and reuse them in the next run)")
	runsFlag   = flag.Int("runs", 3, "measurements of each command; the median is reported")
	diveFlag   = flag.String("dive", "auto", `dive binary: "auto" (PATH, then GOPATH/bin), a path, or "off"`)
	diveRuns   = flag.Int("dive-runs", 1, "measurements of dive (slow)")
	cpuprofile = flag.String("cpuprofile", "", "after measuring, analyze the main image in-process (bench/analyzeprof) writing a CPU profile here")
	seriesFlag = flag.String("entries", "", "entry counts of the tiny-bytes images, comma separated (default files/4,files,4*files)")
)

func main() { harness.Main("analyze", run) }

var logf = harness.Logf

func run() error {
	size, err := parseSize(*sizeFlag)
	if err != nil {
		return err
	}
	if *filesFlag < 2000 {
		return fmt.Errorf("-files %d: want at least 2000", *filesFlag)
	}
	root, err := harness.ModuleRoot()
	if err != nil {
		return err
	}
	out, err := filepath.Abs(*outFlag)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if _, err := exec.LookPath("gzip"); err != nil {
		return fmt.Errorf("GNU gzip is needed for the floor: %w", err)
	}

	if m, err := measure.Run("", "true", nil, nil); err == nil {
		logf("peak RSS of `true` under the measuring wrapper: %d KiB (the floor of every RSS below)", m.RSSKiB)
	}
	redline := filepath.Join(out, "redline")
	logf("go build -o %s ./cmd/redline", redline)
	if err := harness.RunLog(root, nil, "go", "build", "-o", redline, "./cmd/redline"); err != nil {
		return err
	}

	series := []int{*filesFlag / 4, *filesFlag, *filesFlag * 4}
	if *seriesFlag != "" {
		series = nil
		for _, s := range strings.Split(*seriesFlag, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 2000 {
				return fmt.Errorf("-entries %q: want counts of at least 2000", *seriesFlag)
			}
			series = append(series, n)
		}
	}
	specs := []imageSpec{
		{Name: "main", Entries: *filesFlag, Bytes: size, Seed: 1},
		{Name: "bytes2x", Entries: *filesFlag, Bytes: 2 * size, Seed: 2},
	}
	for i, n := range series {
		specs = append(specs, imageSpec{Name: fmt.Sprintf("entries%d", n), Entries: n, Bytes: int64(n) * 64, Seed: uint64(10 + i)})
	}

	corp := corpus(99, 8<<20)
	var imgs []*builtImage
	for _, s := range specs {
		b, err := generate(filepath.Join(out, s.Name), s, corp, runtime.GOMAXPROCS(0), logf)
		if err != nil {
			return fmt.Errorf("generating %s: %w", s.Name, err)
		}
		imgs = append(imgs, b)
	}
	mainImg := imgs[0]

	dive := findDive()
	archive := filepath.Join(out, "main.docker.tar")
	if dive != "" {
		logf("dive: %s; writing %s", dive, archive)
		if err := writeDockerArchive(mainImg, archive); err != nil {
			return err
		}
	} else {
		logf("dive: not found, skipped (GOFLAGS= go install github.com/wagoodman/dive/cmd/dive@latest)")
	}

	// Warm the page cache and check that redline reads what was written.
	for _, b := range imgs {
		if err := check(redline, b, filepath.Join(out, b.Spec.Name+".json")); err != nil {
			return err
		}
	}
	if dive != "" {
		if _, err := measure.Run("", "cat", []string{archive}, nil); err != nil {
			return err
		}
	}

	rows := map[string]*row{}
	var order []string
	add := func(key, tool, img string, m measure.Sample, floor, note string) {
		r := rows[key]
		if r == nil {
			r = &row{tool: tool, image: img, floorOf: floor, note: note}
			rows[key] = r
			order = append(order, key)
		}
		r.Samples = append(r.Samples, m)
	}
	floorKey := func(img string) string { return "gzip|" + img }
	for i := 1; i <= *runsFlag; i++ {
		for _, b := range imgs {
			name := b.Spec.Name
			logf("run %d/%d: %s", i, *runsFlag, name)
			m, err := gzipFloor(b)
			if err != nil {
				return err
			}
			add(floorKey(name), "gzip -dc (1 process per blob, summed)", name, m, name, "")
			if b == mainImg {
				m, err := gzipOne(b)
				if err != nil {
					return err
				}
				add("gzip1|"+name, "gzip -dc all blobs (1 process)", name, m, name, "")
				m, err = goGunzip(b)
				if err != nil {
					return err
				}
				add("kgzip|"+name, "klauspost gzip in-process, no hashing (info)", name, m, name, "")
			}
			m, err = measure.Run("", redline, []string{"analyze", "-q", "-o", "json=/dev/null", "oci-dir:" + b.Dir}, nil)
			if err != nil {
				return err
			}
			add("redline|"+name, "redline analyze", name, m, name, "")
			if b == mainImg && dive != "" {
				m, err = measure.Run("", redline, []string{"analyze", "-q", "-o", "json=/dev/null", "docker-archive:" + archive}, nil)
				if err != nil {
					return err
				}
				add("redline-da|"+name, "redline analyze (docker-archive)", name, m, name, "")
			}
		}
	}
	if dive != "" {
		for i := 1; i <= *diveRuns; i++ {
			logf("dive run %d/%d on %s", i, *diveRuns, archive)
			m, err := measure.Run("", dive, []string{"--ci", "--source", "docker-archive", archive}, nil)
			note := ""
			var ee *measure.ExitError
			if errors.As(err, &ee) && ee.Exit == 1 {
				err = nil // dive's CI rules failed on the wasteful image: it still analyzed it
				note = "exit 1 (CI rules failed)"
			}
			if err != nil {
				logf("dive failed: %v", err)
				break
			}
			add("dive|main", "dive --ci (docker-archive)", "main", m, "main", note)
		}
	}

	var md bytes.Buffer
	writeTables(&md, imgs, rows, order)
	verdicts(&md, imgs, rows)
	fmt.Print(md.String())
	if err := os.WriteFile(filepath.Join(out, "results.md"), md.Bytes(), 0o644); err != nil {
		return err
	}

	if *cpuprofile != "" {
		prof, err := filepath.Abs(*cpuprofile)
		if err != nil {
			return err
		}
		bin := filepath.Join(out, "analyzeprof")
		if err := harness.RunLog(root, nil, "go", "build", "-o", bin, "./bench/analyzeprof"); err != nil {
			return err
		}
		m, err := measure.Run("", bin, []string{"-cpuprofile", prof, "oci-dir:" + mainImg.Dir}, nil)
		if err != nil {
			return err
		}
		logf("CPU profile of an in-process analysis (%.2fs wall) in %s: go tool pprof -top %s %s", m.Wall.Seconds(), prof, bin, prof)
	}

	if !*keepFlag {
		for _, b := range imgs {
			os.RemoveAll(b.Dir)
		}
		os.Remove(archive)
		logf("removed the images (use -keep to keep and reuse them)")
	}
	logf("results in %s", filepath.Join(out, "results.md"))
	return nil
}

// ---- measuring ----

// row is one tool on one image: its runs, and the note of the first run
// (shown with the tool).
type row struct {
	tool, image, floorOf, note string
	measure.Samples
}

// gzipFloor runs `gzip -dc BLOB > /dev/null` for each layer in turn.
func gzipFloor(b *builtImage) (measure.Sample, error) { return measure.GzipFloor(b.layerBlobs()) }

// gzipOne runs one `gzip -dc BLOB... > /dev/null`: the same as
// `cat BLOB... | gzip -dc`, gzip reading concatenated members.
func gzipOne(b *builtImage) (measure.Sample, error) {
	return measure.Run("", "gzip", append([]string{"-dc"}, b.layerBlobs()...), nil)
}

// goGunzip decompresses every blob in this process with the decompressor
// redline uses, without hashing or tar parsing: what Go alone can do.
func goGunzip(b *builtImage) (measure.Sample, error) {
	start := time.Now()
	for _, l := range b.Layers {
		f, err := os.Open(b.blobPath(l.Digest))
		if err != nil {
			return measure.Sample{}, err
		}
		zr, err := kgzip.NewReader(f)
		if err == nil {
			_, err = io.Copy(io.Discard, zr)
		}
		f.Close()
		if err != nil {
			return measure.Sample{}, err
		}
	}
	d := time.Since(start)
	return measure.Sample{Wall: d, CPU: d}, nil
}

// check runs redline once (which also warms the page cache) and compares
// its JSON with what the generator wrote.
func check(redline string, b *builtImage, jsonOut string) error {
	m, err := measure.Run("", redline, []string{"analyze", "-q", "-o", "json=" + jsonOut, "oci-dir:" + b.Dir}, nil)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(jsonOut)
	if err != nil {
		return err
	}
	var a struct {
		Summary struct {
			Layers            int     `json:"layers"`
			CompressedBytes   int64   `json:"compressedBytes"`
			UncompressedBytes int64   `json:"uncompressedBytes"`
			WrittenBytes      int64   `json:"writtenBytes"`
			ReclaimableBytes  int64   `json:"reclaimableBytes"`
			Efficiency        float64 `json:"efficiency"`
			Files             int     `json:"files"`
			Directories       int     `json:"directories"`
		} `json:"summary"`
		Layers []struct {
			Entries int `json:"entries"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return fmt.Errorf("%s: %w", jsonOut, err)
	}
	entries := 0
	for _, l := range a.Layers {
		entries += l.Entries
	}
	s := a.Summary
	var content int64
	for _, l := range b.Layers {
		content += l.ContentBytes
	}
	logf("check %s: %d layers, %d entries, %s uncompressed, %s written, %s reclaimable (efficiency %.3f), %d files, %d dirs; %.2fs, %.0f MiB",
		b.Spec.Name, s.Layers, entries, harness.Human(s.UncompressedBytes), harness.Human(s.WrittenBytes), harness.Human(s.ReclaimableBytes),
		s.Efficiency, s.Files, s.Directories, m.Wall.Seconds(), float64(m.RSSKiB)/1024)
	switch {
	case s.Layers != len(b.Layers):
		return fmt.Errorf("%s: redline saw %d layers, want %d", b.Spec.Name, s.Layers, len(b.Layers))
	case entries != b.entries():
		return fmt.Errorf("%s: redline saw %d entries, want %d", b.Spec.Name, entries, b.entries())
	case s.UncompressedBytes != b.tarBytes():
		return fmt.Errorf("%s: redline saw %d uncompressed bytes, want %d", b.Spec.Name, s.UncompressedBytes, b.tarBytes())
	case s.CompressedBytes != b.blobBytes():
		return fmt.Errorf("%s: redline saw %d compressed bytes, want %d", b.Spec.Name, s.CompressedBytes, b.blobBytes())
	case s.WrittenBytes != content:
		return fmt.Errorf("%s: redline saw %d written bytes, want %d", b.Spec.Name, s.WrittenBytes, content)
	case s.ReclaimableBytes <= 0:
		return fmt.Errorf("%s: redline found no waste", b.Spec.Name)
	}
	return nil
}

// ---- reporting ----

func writeTables(w io.Writer, imgs []*builtImage, rows map[string]*row, order []string) {
	fmt.Fprintf(w, "Images (6 gzip layers each, klauspost/compress default level):\n\n")
	fmt.Fprintf(w, "| image | entries | uncompressed (tar) | gzip blobs | ratio |\n|---|---:|---:|---:|---:|\n")
	for _, b := range imgs {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %.2fx |\n", b.Spec.Name, b.entries(), harness.Human(b.tarBytes()), harness.Human(b.blobBytes()),
			float64(b.tarBytes())/float64(b.blobBytes()))
	}
	runs := fmt.Sprintf("%d runs", *runsFlag)
	if d := rows["dive|main"]; d != nil {
		runs += fmt.Sprintf(", dive %d", len(d.Samples))
	}
	fmt.Fprintf(w, "\nMedian of %s; ratio = wall / the image's gzip -dc floor (1 process per blob, summed):\n\n", runs)
	fmt.Fprintf(w, "| tool | image | wall s | (min–max) | peak RSS MiB | ratio to gzip floor | CPU s | MB/s (uncompressed) |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	// Grouped by image, in the order measured.
	for _, b := range imgs {
		for _, k := range order {
			r := rows[k]
			if r.image != b.Spec.Name {
				continue
			}
			floor := rows["gzip|"+r.floorOf].Wall()
			rss := "—"
			if v := r.RSS(); v > 0 {
				rss = fmt.Sprintf("%.1f", float64(v)/1024)
			}
			tool := r.tool
			if r.note != "" {
				tool += " [" + r.note + "]"
			}
			lo, hi := r.WallRange()
			fmt.Fprintf(w, "| %s | %s | %.2f | %.2f–%.2f | %s | %.2fx | %.2f | %.0f |\n", tool, r.image, r.Wall().Seconds(), lo.Seconds(), hi.Seconds(), rss,
				r.Wall().Seconds()/floor.Seconds(), r.CPU().Seconds(), float64(b.tarBytes())/1e6/r.Wall().Seconds())
		}
	}
}

func verdicts(w io.Writer, imgs []*builtImage, rows map[string]*row) {
	get := func(k string) *row { return rows[k] }
	fmt.Fprintf(w, "\nTargets:\n\n")
	ms := imgs[0].Spec
	if r, f := get("redline|"+ms.Name), get("gzip|"+ms.Name); r != nil && f != nil {
		ratio := r.Wall().Seconds() / f.Wall().Seconds()
		fmt.Fprintf(w, "- speed: redline %.2fs / gzip -dc floor %.2fs = **%.2fx** on %s (target ≤ 1.3x): %s\n",
			r.Wall().Seconds(), f.Wall().Seconds(), ratio, ms.Name, harness.PassFail(ratio <= 1.3))
	}
	if r := get("redline|" + ms.Name); r != nil {
		mb := float64(r.RSS()) * 1024 / 1e6
		fmt.Fprintf(w, "- memory: peak RSS %.1f MB (%.1f MiB) for %d entries (target ≤ 150 MB): %s\n",
			mb, float64(r.RSS())/1024, ms.Entries, harness.PassFail(mb <= 150))
	}
	var pts []string
	grows := true
	var prev int64
	for _, b := range imgs[2:] {
		r := get("redline|" + b.Spec.Name)
		pts = append(pts, fmt.Sprintf("%d entries: %.1f MiB", b.Spec.Entries, float64(r.RSS())/1024))
		if r.RSS() <= prev {
			grows = false
		}
		prev = r.RSS()
	}
	fmt.Fprintf(w, "- RSS grows with entries (tiny files): %s: %s\n", strings.Join(pts, ", "), harness.PassFail(grows))
	a, b2 := get("redline|"+ms.Name), get("redline|"+imgs[1].Spec.Name)
	if a != nil && b2 != nil {
		d := float64(b2.RSS()-a.RSS()) / float64(a.RSS())
		line := fmt.Sprintf("%s with %s: %.1f MiB, %s with %s: %.1f MiB (%+.1f%%)",
			ms.Name, harness.Human(imgs[0].tarBytes()), float64(a.RSS())/1024, imgs[1].Spec.Name, harness.Human(imgs[1].tarBytes()), float64(b2.RSS())/1024, 100*d)
		for _, b := range imgs[2:] {
			if b.Spec.Entries == ms.Entries {
				r := get("redline|" + b.Spec.Name)
				line += fmt.Sprintf(", %s with %s: %.1f MiB", b.Spec.Name, harness.Human(b.tarBytes()), float64(r.RSS())/1024)
			}
		}
		fmt.Fprintf(w, "- RSS does not grow with bytes (same %d entries): %s: %s\n", ms.Entries, line, harness.PassFail(d < 0.15))
	}
}

// ---- helpers ----

func findDive() string {
	switch *diveFlag {
	case "off", "":
		return ""
	case "auto":
		if p, err := exec.LookPath("dive"); err == nil {
			return p
		}
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			for _, gp := range filepath.SplitList(strings.TrimSpace(string(out))) {
				if p := filepath.Join(gp, "bin", "dive"); harness.IsExec(p) {
					return p
				}
			}
		}
		return ""
	}
	return *diveFlag
}

func parseSize(s string) (int64, error) {
	units := []struct {
		suf string
		mul int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mul := int64(1)
	num := s
	for _, u := range units {
		if strings.HasSuffix(s, u.suf) {
			mul, num = u.mul, strings.TrimSuffix(s, u.suf)
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("-size %q: want a size like 1GiB or 512MiB", s)
	}
	return int64(f * float64(mul)), nil
}
