// Command analyzeprof runs what `redline analyze -o json=/dev/null IMAGE`
// runs (open, one pass, analysis, JSON), in-process under a CPU (and
// optionally heap) profile. bench/analyze builds it for -cpuprofile; it
// stands apart so that the harness itself does not depend on internal/.
//
//	go run ./bench/analyzeprof -cpuprofile cpu.prof oci-dir:bench/work/main
//	go tool pprof -top cpu.prof
package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/redline-go/redline/bench/internal/measure"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/layers"
	"github.com/redline-go/redline/internal/report"
)

func main() {
	cpu := flag.String("cpuprofile", "", "write a CPU profile here")
	mem := flag.String("memprofile", "", "write a heap profile (after the analysis) here")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: analyzeprof [-cpuprofile FILE] [-memprofile FILE] IMAGE")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *cpu, *mem); err != nil {
		fmt.Fprintln(os.Stderr, "analyzeprof:", err)
		os.Exit(1)
	}
}

func run(arg, cpu, mem string) error {
	t, err := image.ParseTarget(arg)
	if err != nil {
		return err
	}
	stop, err := measure.StartCPUProfile(cpu)
	if err != nil {
		return err
	}
	defer stop()
	start := time.Now()
	a, tree, err := layers.Run(context.Background(), t, image.Options{}, image.PassOptions{}, layers.Options{Top: 10})
	if err != nil {
		return err
	}
	if err := report.JSON(io.Discard, a); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "analyzed %s in %.2fs: %d paths\n", arg, time.Since(start).Seconds(), tree.Nodes())
	if mem != "" {
		runtime.GC()
		f, err := os.Create(mem)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
	}
	runtime.KeepAlive(tree)
	return nil
}
