package guard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/redline-go/redline/guard"
)

// A service checks itself first thing in main: Enforce logs the report and exits 78
// when the process holds more privilege than the policy allows.
func Example() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	report := guard.Enforce(context.Background(), guard.Policy{
		Raise:         true,              // make an allowed, permitted capability effective
		WritablePaths: []string{"/data"}, // the volume must be ours
	}, logger)

	// Serve the report on an endpoint the service opts into.
	http.HandleFunc("GET /debug/guard", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(report)
	})
}

// Check returns the report without exiting; the caller decides.
func ExampleCheck() {
	report, err := guard.Check(context.Background(), guard.Policy{
		Caps:          []string{}, // this service needs no capability at all
		CheckBounding: true,
		Warn:          []string{"rootfs"}, // a writable root is tolerated, and logged
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // an invalid policy
		os.Exit(2)
	}
	for _, r := range report.Failed() {
		fmt.Fprintf(os.Stderr, "%s: %s (expected %s): %s\n", r.ID, r.Observed, r.Expected, r.Detail)
	}
}

// A service started as root to bind port 80 keeps only what it needs afterwards.
func ExampleDropPrivileges() {
	if err := guard.DropPrivileges("NET_BIND_SERVICE"); err != nil {
		fmt.Fprintln(os.Stderr, err) // in a cgo binary: guard.ErrCgo
		os.Exit(guard.ExitCode)
	}
}

func ExampleReport_WriteText() {
	report := guard.Report{OK: false, Results: []guard.Result{
		{ID: guard.CheckUser, Status: guard.Pass, Observed: "65532", Expected: "non-root"},
		{ID: guard.CheckCapsEffective, Status: guard.Fail, Observed: "CAP_NET_BIND_SERVICE,CAP_SYS_ADMIN",
			Expected: "only CAP_NET_BIND_SERVICE", Detail: "not allowed: CAP_SYS_ADMIN"},
		{ID: guard.CheckGOMEMLIMIT, Status: guard.Pass, Observed: "241591910", Expected: "≤ 268435456"},
	}}
	report.WriteText(os.Stdout)
	// Output:
	// guard: 1 check failed: caps.effective
	//   STATUS   CHECK           OBSERVED                            EXPECTED
	//   pass     user            65532                               non-root
	//   fail     caps.effective  CAP_NET_BIND_SERVICE,CAP_SYS_ADMIN  only CAP_NET_BIND_SERVICE
	//            not allowed: CAP_SYS_ADMIN
	//   pass     gomemlimit      241591910                           ≤ 268435456
}

func ExampleReport_LogValue() {
	report := guard.Report{OK: true, Results: []guard.Result{
		{ID: guard.CheckNoNewPrivs, Status: guard.Pass, Observed: "1", Expected: "1"},
		{ID: guard.CheckSeccomp, Status: guard.Warn, Observed: "disabled", Expected: "filter", Detail: "waived by policy", Waived: true},
	}}
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	logger.Info("started", "guard", report)
	// Output:
	// level=INFO msg=started guard.ok=true guard.summary="ok (1 warning)" guard.no_new_privs.status=pass guard.no_new_privs.observed=1 guard.no_new_privs.expected=1 guard.seccomp.status=warn guard.seccomp.observed=disabled guard.seccomp.expected=filter guard.seccomp.detail="waived by policy" guard.seccomp.waived=true
}
