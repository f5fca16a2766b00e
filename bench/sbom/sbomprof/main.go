// Command sbomprof runs what `redline sbom -o json=/dev/null IMAGE` runs
// (open, one pass with the catalogers, JSON) in-process under a CPU
// profile, an allocation profile or an execution trace, to see where
// redline's time goes on the bench/sbom images. It
// stands apart so that the harness itself does not depend on internal/.
//
//	go run ./bench/sbom/sbomprof -cpuprofile cpu.prof docker-archive:bench/work/sbom/debian.docker.tar
//	go tool pprof -top cpu.prof
//	go run ./bench/sbom/sbomprof -trace trace.out IMAGE   # then go tool trace trace.out
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"github.com/redline-go/redline/bench/internal/measure"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom/encode"
	"github.com/redline-go/redline/internal/sbom/inventory"
)

func main() {
	cpu := flag.String("cpuprofile", "", "write a CPU profile here")
	tr := flag.String("trace", "", "write an execution trace here (go tool trace)")
	mem := flag.String("memprofile", "", "write an allocation profile (after the pass) here")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: sbomprof [-cpuprofile FILE] [-memprofile FILE] [-trace FILE] IMAGE")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *cpu, *tr, *mem); err != nil {
		fmt.Fprintln(os.Stderr, "sbomprof:", err)
		os.Exit(1)
	}
}

func run(arg, cpu, tr, mem string) error {
	t, err := image.ParseTarget(arg)
	if err != nil {
		return err
	}
	if tr != "" {
		f, err := os.Create(tr)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
		defer trace.Stop()
	}
	stop, err := measure.StartCPUProfile(cpu)
	if err != nil {
		return err
	}
	defer stop()
	start := time.Now()
	s, err := inventory.Image(context.Background(), t, image.Options{}, image.PassOptions{})
	if err != nil {
		return err
	}
	if err := encode.JSON(io.Discard, s); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d components in %.2fs\n", len(s.Components), time.Since(start).Seconds())
	if mem != "" {
		f, err := os.Create(mem)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	return nil
}
