package guard

import (
	"context"
	"log/slog"
	"os"
)

// ExitCode is the status Enforce exits with when a check fails or the policy is invalid:
// EX_CONFIG from sysexits.h, "something was found in an unconfigured or misconfigured
// state". Orchestrators show it as the container's exit code.
const ExitCode = 78

// exit is os.Exit; tests of Enforce run it in a child process.
var exit = os.Exit

// Enforce runs Check, logs the report with logger (slog.Default() when nil), and exits
// the process with ExitCode when a check fails, a check is unknown, or the policy is
// invalid. Otherwise it returns the report, for an endpoint or later logging. Policy.Warn
// (or REDLINE_GUARD_WARN) turns chosen failures into logged warnings.
//
// Call it first in main, before serving and before starting goroutines that do work.
func Enforce(ctx context.Context, p Policy, logger *slog.Logger) Report {
	if logger == nil {
		logger = slog.Default()
	}
	rep, err := Check(ctx, p)
	level, msg, args := slog.LevelInfo, "guard: privileges within policy", []any{"guard", rep}
	switch {
	case ctx.Err() != nil:
		level, msg, args = slog.LevelError, "guard: refusing to start: no check was made", []any{"err", err, "exit", ExitCode}
	case err != nil:
		level, msg, args = slog.LevelError, "guard: refusing to start: invalid policy", []any{"err", err, "exit", ExitCode}
	case !rep.OK:
		level, msg, args = slog.LevelError, "guard: refusing to start: "+rep.Summary(), []any{"guard", rep, "exit", ExitCode}
	case len(rep.Warnings()) > 0:
		level = slog.LevelWarn
	}
	logger.Log(ctx, level, msg, args...)
	if level == slog.LevelError {
		exit(ExitCode)
	}
	return rep
}
