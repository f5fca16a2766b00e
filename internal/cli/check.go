package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/redline-go/redline/internal/check"
	"github.com/redline-go/redline/internal/lint"
	"github.com/redline-go/redline/internal/policy"
	"github.com/redline-go/redline/internal/report"
	sariflog "github.com/redline-go/redline/internal/sarif"
	"github.com/redline-go/redline/internal/sbom/encode"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/sarif"
	"github.com/redline-go/redline/internal/vuln/vex"
)

// CheckOptions are the flags of `redline check`.
type CheckOptions struct {
	Image ImageFlags
	// Policy names the policy file.
	Policy string
	// Baseline overrides the policy's build.baseline.
	Baseline string
	// Toolchain overrides the policy's build.toolchain for the build.
	Toolchain string
	// Manifests are extra Dockerfiles, manifests or directories to lint.
	Manifests []string
	// To keeps the built image at these destinations.
	To []string
	// Report is the directory for report.json, report.sarif, the SBOMs,
	// OpenVEX and report.html.
	Report string
	// Outputs are -o FORMAT[=PATH]: table (default), json, sarif, html.
	Outputs []string
	// Fix applies the safe fixes and checks again.
	Fix bool
	// NoSource and NoRebuild skip the slow proofs.
	NoSource, NoRebuild bool
	// DB is a database directory instead of the cached/embedded data.
	DB  string
	VEX []string
}

func newCheck(env *Env, g *global) *cobra.Command {
	o := &CheckOptions{}
	cmd := &cobra.Command{
		Use:   "check [flags] [TARGET]",
		Short: "Build (or take) an image, analyze, inventory, scan and lint it in one pass, and hold it against the red lines",
		Long: `Check is the whole loop. TARGET is a Go package directory (default .),
which is built with redline's hardened defaults, or any image reference
(docker:, podman:, docker-archive:, oci-archive:, oci-dir:, registry:).
One pass over the image feeds layer analysis, the SBOM, vulnerability
matching with reachability, and the image lint rules; Dockerfiles and
Kubernetes manifests beside the package are linted against the image.

The red lines come from redline.yaml (beside the package, else in the
working directory, or --policy); docs/policy.md lists the keys and the
defaults: image ≤ binary + 1 MiB compressed, efficiency ≥ 95%, no
reachable (called) vulnerability, no high lint finding, a numeric
non-root user, capabilities within [NET_BIND_SERVICE], no shell, a
reproducible build, vulnerability data ≤ 7 days old, no weakened
GODEBUG security default, the pinned toolchain.

Exit codes: 0 every error-level line holds, 1 one is crossed, 2 an error
or an incomplete result (e.g. stale vulnerability data beyond the policy).`,
		Example: `  redline check ./examples/hello
  redline check --report out/ ./examples/hello
  redline check --fix .
  redline check --baseline docker-archive:naive.tar registry:ghcr.io/org/app:1.2
  redline check -o json=check.json -o table oci-dir:./out/hello`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := "."
			if len(args) == 1 {
				target = args[0]
			}
			return RunCheck(cmd.Context(), env, g, o, target)
		},
	}
	f := cmd.Flags()
	o.Image.register(cmd)
	f.StringVar(&o.Policy, "policy", "", "policy file (default: redline.yaml beside the package, else in the working directory, else the defaults)")
	f.StringVar(&o.Baseline, "baseline", "", "image to measure the slimming against (overrides build.baseline)")
	f.StringVar(&o.Toolchain, "toolchain", "", "Go toolchain for the build, e.g. go1.27.3 or local (overrides build.toolchain; the toolchain line still holds the pin)")
	f.StringArrayVar(&o.Manifests, "manifest", nil, "Dockerfile, Kubernetes manifest or directory to lint with the image (repeatable)")
	f.StringArrayVar(&o.To, "to", nil, "keep the built image here too (oci-dir:DIR, oci-archive:FILE, docker-archive:FILE, registry:REF); repeatable")
	f.StringVar(&o.Report, "report", "", "write report.json, report.sarif, sbom.cdx.json, sbom.spdx.json, vex.json (when there are findings) and report.html into DIR")
	f.StringArrayVarP(&o.Outputs, "output", "o", nil, "output FORMAT[=PATH], repeatable: table (default), json, sarif, html, cyclonedx-json, spdx-json, openvex")
	f.BoolVar(&o.Fix, "fix", false, "apply the safe fixes (toolchain, go get of fixed modules, harden --write of manifests) and check again")
	f.BoolVar(&o.NoSource, "no-source", false, "skip source reachability (govulncheck's call graph) for a package")
	f.BoolVar(&o.NoRebuild, "no-rebuild", false, "skip the second build that proves reproducibility")
	f.StringVar(&o.DB, "db", "", "vulnerability database directory (default: the cached update, else the embedded snapshot)")
	f.StringArrayVar(&o.VEX, "vex", nil, "OpenVEX file whose statements suppress findings (repeatable; default .redline/vex.json)")
	return cmd
}

var checkFormats = []string{"table", "json", "sarif", "html", "cyclonedx-json", "spdx-json", "openvex"}

// RunCheck is `redline check`.
func RunCheck(ctx context.Context, env *Env, g *global, o *CheckOptions, target string) error {
	outs, err := ParseOutputs(o.Outputs, checkFormats, "table")
	if err != nil {
		return err
	}
	if o.Report != "" {
		if err := checkReportDir(o.Report); err != nil {
			return err
		}
	}
	in, err := openVulnInputs(env, g, &o.Image, o.DB, o.VEX)
	if err != nil {
		return err
	}
	log := in.log
	steps := newStepper(env)
	p := withProgress(in.pass, env, "")
	co := check.Options{
		Target: target, Policy: o.Policy, Baseline: o.Baseline, Toolchain: o.Toolchain,
		Manifests: o.Manifests, To: o.To, Image: in.image, Pass: p.opts, DB: in.data, VEX: in.vex,
		Logger: log, Step: steps.step, NoSource: o.NoSource, NoRebuild: o.NoRebuild,
	}
	var res *check.Result
	if o.Fix {
		res, err = check.RunFix(ctx, co)
	} else {
		res, err = check.Run(ctx, co)
	}
	p.done()
	steps.done()
	if err != nil {
		if errors.Is(err, check.ErrUsage) || errors.Is(err, policy.ErrInvalid) {
			return usageError{err}
		}
		return err
	}
	if o.Report != "" {
		if err := writeReportDir(o.Report, res); err != nil {
			return err
		}
	}
	err = WriteOutputs(outs, env.Stdout, func(w io.Writer, format string) error {
		switch format {
		case "json":
			return report.JSON(w, res)
		case "sarif":
			return checkSARIF(w, res)
		case "html":
			return report.CheckHTML(w, res)
		case "cyclonedx-json":
			return encode.CycloneDXJSON(w, res.Inventory)
		case "spdx-json":
			return encode.SPDXJSON(w, res.Inventory)
		case "openvex":
			if len(res.Vulnerabilities.Findings) == 0 {
				return errors.New("-o openvex: no findings to state (OpenVEX needs a statement)")
			}
			return vex.Write(w, res.Vulnerabilities.Findings, productOf(res.Vulnerabilities), vex.WriteOptions{Timestamp: res.Created})
		}
		return report.CheckSummary(w, res, report.CheckOptions{Color: env.IsTerminal && env.Getenv("NO_COLOR") == "", ReportDir: o.Report})
	})
	if err != nil {
		return err
	}
	switch res.Verdict {
	case policy.VerdictIncomplete:
		return fmt.Errorf("incomplete: %s", strings.Join(res.Incomplete, "; "))
	case policy.VerdictFail:
		return &GateError{Msg: "red lines crossed: " + strings.Join(res.Crossed(), ", ")}
	}
	return nil
}

// checkReportDir makes sure the report directory can be written before
// the check runs (a check takes seconds; failing after it is rude).
func checkReportDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return usageErrorf("--report %s: not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageErrorf("--report %s: %v", dir, errors.Unwrap(err))
	}
	f, err := os.CreateTemp(dir, ".redline-probe-*")
	if err != nil {
		return usageErrorf("--report %s: cannot write there: %v", dir, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// The files of --report DIR.
var reportFiles = []struct {
	name  string
	write func(w io.Writer, r *check.Result) error
	// skip leaves the file out (an OpenVEX document needs a statement).
	skip func(r *check.Result) bool
}{
	{"report.json", func(w io.Writer, r *check.Result) error { return report.JSON(w, r) }, nil},
	{"report.sarif", checkSARIF, nil},
	{"sbom.cdx.json", func(w io.Writer, r *check.Result) error { return encode.CycloneDXJSON(w, r.Inventory) }, nil},
	{"sbom.spdx.json", func(w io.Writer, r *check.Result) error { return encode.SPDXJSON(w, r.Inventory) }, nil},
	{"vex.json", func(w io.Writer, r *check.Result) error {
		return vex.Write(w, r.Vulnerabilities.Findings, productOf(r.Vulnerabilities), vex.WriteOptions{Timestamp: r.Created})
	}, func(r *check.Result) bool { return len(r.Vulnerabilities.Findings) == 0 }},
	{"report.html", report.CheckHTML, nil},
}

// writeReportDir writes every report file into a staging directory
// first, then renames each into dir: a failure leaves dir as it was.
func writeReportDir(dir string, r *check.Result) error {
	stage, err := os.MkdirTemp(dir, ".redline-report-*")
	if err != nil {
		return fmt.Errorf("--report %s: %w", dir, err)
	}
	defer os.RemoveAll(stage)
	var names []string
	for _, f := range reportFiles {
		if f.skip != nil && f.skip(r) {
			continue
		}
		names = append(names, f.name)
		if err := WriteFileAtomic(filepath.Join(stage, f.name), func(w io.Writer) error { return f.write(w, r) }); err != nil {
			return fmt.Errorf("--report: %s: %w", f.name, err)
		}
	}
	for _, f := range names {
		if err := os.Rename(filepath.Join(stage, f), filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	return nil
}

// checkSARIF writes one SARIF log with two runs: the vulnerability
// findings and the lint findings.
func checkSARIF(w io.Writer, r *check.Result) error {
	var vb, lb bytes.Buffer
	if err := sarif.Write(&vb, []*vuln.Result{r.Vulnerabilities}, sarif.Options{ToolVersion: lint.Tool.Version}); err != nil {
		return err
	}
	if r.Lint != nil {
		if err := lint.SARIF(&lb, r.Lint); err != nil {
			return err
		}
	}
	var log, ll sariflog.Log
	if err := json.Unmarshal(vb.Bytes(), &log); err != nil {
		return err
	}
	if lb.Len() > 0 {
		if err := json.Unmarshal(lb.Bytes(), &ll); err != nil {
			return err
		}
		log.Runs = append(log.Runs, ll.Runs...)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

// stepper shows the step a check is on, on a terminal.
type stepper struct {
	env   *Env
	mu    sync.Mutex
	start time.Time
	drawn bool
}

func newStepper(env *Env) *stepper { return &stepper{env: env, start: time.Now()} }

func (s *stepper) step(name string) {
	if !s.env.IsTerminal {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.env.Stderr, "\r%-60s", fmt.Sprintf("redline check: %s… (%.1fs)", name, time.Since(s.start).Seconds()))
	s.drawn = true
}

func (s *stepper) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn {
		fmt.Fprintf(s.env.Stderr, "\r%s\r", strings.Repeat(" ", 60))
	}
}
