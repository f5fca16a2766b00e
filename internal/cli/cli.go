// Package cli is redline's command line: it parses flags into each
// command's options and calls the libraries. It holds no logic a library
// test cannot reach; cmd/redline only calls [Main].
//
// # Exit codes
//
//   - 0: done, and no gate was crossed.
//   - 1: a gate was crossed (--fail-on..., analyze's CI rules).
//   - 2: an error, bad usage, or an incomplete result.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitGate  = 1
	ExitError = 2
)

// GateError reports that a command finished and a gate was crossed.
type GateError struct{ Msg string }

func (e *GateError) Error() string { return e.Msg }

// usageError marks bad flags or arguments.
type usageError struct{ error }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// Env is what a command may touch of the process: streams, working
// directory, environment. Tests run the CLI in-process with their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
	// IsTerminal reports whether stderr is a terminal (for progress).
	IsTerminal bool
}

// Main runs redline with args (without the program name) and returns the
// exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	root := newRoot(&env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var gate *GateError
	if errors.As(err, &gate) {
		fmt.Fprintf(env.Stderr, "redline: %s\n", gate.Msg)
		return ExitGate
	}
	fmt.Fprintf(env.Stderr, "redline: %s\n", err)
	return ExitError
}

// global holds the flags every command shares.
type global struct {
	quiet, verbose bool
}

func (g *global) logger(w io.Writer) *slog.Logger {
	lvl := slog.LevelInfo
	switch {
	case g.quiet:
		lvl = slog.LevelError
	case g.verbose:
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}))
}

func newRoot(env *Env) *cobra.Command {
	g := &global{}
	root := &cobra.Command{
		Use:   "redline",
		Short: "Slim, CVE-free, least-privileged Go service images — and the proof",
		Long: `redline makes a Go service's container image slim, free of known
vulnerabilities and least-privileged, and proves it.

Exit codes: 0 done and no gate crossed, 1 a gate crossed, 2 an error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "print errors only")
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "print debug notes")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newAnalyze(env, g))
	root.AddCommand(newBuild(env, g))
	root.AddCommand(newSBOM(env, g))
	root.AddCommand(newLint(env, g))
	root.AddCommand(newHarden(env, g))
	root.AddCommand(newDB(env, g))
	root.AddCommand(newScan(env, g))
	root.AddCommand(newCheck(env, g))
	return root
}
