//go:build !linux

package guard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
)

// ErrCgo is returned (wrapped) when capabilities or no_new_privs must change on every
// thread in a binary that uses cgo. It is never returned on this system.
var ErrCgo = errors.New("capabilities and no_new_privs are per thread, and syscall.AllThreadsSyscall does not work in binaries that use cgo")

var errUnsupported = fmt.Errorf("guard: %s is not supported: guard reads Linux /proc and cgroups: %w", runtime.GOOS, errors.ErrUnsupported)

// Check reports every check as Unknown: guard inspects Linux only, and a check it could
// not make is never a pass. The error is non-nil only for an invalid policy.
func Check(ctx context.Context, p Policy) (Report, error) {
	if err := ctx.Err(); err != nil {
		return Report{}, err
	}
	ru, err := resolve(p, os.LookupEnv)
	if err != nil {
		return Report{}, err
	}
	rep := Report{GOOS: runtime.GOOS, GoVersion: runtime.Version()}
	why := fmt.Sprintf("unsupported on %s: guard reads Linux /proc and cgroups; nothing was checked", runtime.GOOS)
	for _, id := range []string{CheckUser, CheckGroup, CheckCapsEffective, CheckCapsPermitted, CheckCapsInherit,
		CheckCapsAmbient, CheckCapsBounding, CheckNoNewPrivs, CheckSeccomp, CheckThreads, CheckRootFS} {
		rep.Results = append(rep.Results, Result{ID: id, Status: Unknown, Observed: "unknown", Detail: why})
	}
	for _, p := range ru.WritablePaths {
		rep.Results = append(rep.Results, Result{ID: CheckWritable + ":" + p, Status: Unknown, Observed: "unknown", Detail: why})
	}
	rep.finish(&ru)
	return rep, nil
}

// RaiseCaps is not supported on this system.
func RaiseCaps(names ...string) error { return errUnsupported }

// DropPrivileges is not supported on this system.
func DropPrivileges(keep ...string) error { return errUnsupported }
