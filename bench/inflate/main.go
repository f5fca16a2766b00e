// Command inflate times redline's gzip decoder (internal/inflate) against
// compress/gzip and github.com/klauspost/compress/gzip on real blobs, and
// checks that all three give the same bytes:
//
//	go run ./bench/inflate [-runs 3] [-cpuprofile F] BLOB.gz...
//
// The image pass must inflate every byte of every layer, so this is the
// floor under `redline sbom` and `redline analyze` (docs/benchmarks.md).
package main

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/redline-go/redline/bench/internal/measure"
	"github.com/redline-go/redline/internal/inflate"
)

type decoder struct {
	name string
	open func(r *bufio.Reader) (io.Reader, error)
}

var decoders = []decoder{
	{"compress/gzip", func(r *bufio.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
	{"klauspost", func(r *bufio.Reader) (io.Reader, error) { return kgzip.NewReader(r) }},
	{"redline", func(r *bufio.Reader) (io.Reader, error) { return inflate.NewGzipReader(r) }},
}

func main() {
	runs := flag.Int("runs", 3, "timed runs per decoder and blob (the median is reported)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of redline's decoder runs to this file (of the last blob)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench/inflate [-runs N] [-cpuprofile F] BLOB.gz...")
		os.Exit(2)
	}
	fmt.Println("| blob | decoder | MiB out | median s | MB/s | × compress/gzip |")
	fmt.Println("|---|---|---:|---:|---:|---:|")
	for _, path := range flag.Args() {
		var ref [32]byte
		var refTime time.Duration
		for i, d := range decoders {
			var times measure.Samples
			var n int64
			var sum [32]byte
			stop := func() {}
			if d.name == "redline" {
				stop = must(measure.StartCPUProfile(*prof))
			}
			for range *runs {
				t, m, s, err := run(path, d)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s: %s: %v\n", path, d.name, err)
					os.Exit(1)
				}
				times, n, sum = append(times, measure.Sample{Wall: t}), m, s
			}
			stop()
			if i == 0 {
				ref = sum
			} else if sum != ref {
				fmt.Fprintf(os.Stderr, "%s: %s decodes different bytes from compress/gzip\n", path, d.name)
				os.Exit(1)
			}
			med := times.Wall()
			if i == 0 {
				refTime = med
			}
			fmt.Printf("| %s | %s | %.1f | %.3f | %.0f | %.2f |\n", short(path), d.name, float64(n)/(1<<20), med.Seconds(), float64(n)/med.Seconds()/1e6, float64(refTime)/float64(med))
		}
	}
}

// run decodes path once; the SHA-256 of the output is taken outside the
// timed part.
func run(path string, d decoder) (elapsed time.Duration, n int64, sum [32]byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, sum, err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	t := time.Now()
	r, err := d.open(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return 0, 0, sum, err
	}
	for {
		m, rerr := r.Read(buf)
		elapsed += time.Since(t)
		h.Write(buf[:m])
		n += int64(m)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, 0, sum, rerr
		}
		t = time.Now()
	}
	copy(sum[:], h.Sum(nil))
	return elapsed, n, sum, nil
}

func short(p string) string {
	if len(p) > 24 {
		return "…" + p[len(p)-23:]
	}
	return p
}

func must[T any](v T, err error) T {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return v
}
