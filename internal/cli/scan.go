package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/report"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/encode"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/sarif"
	"github.com/redline-go/redline/internal/vuln/scan"
	"github.com/redline-go/redline/internal/vuln/vex"
)

// ScanOptions are the flags of `redline scan`.
type ScanOptions struct {
	Image   ImageFlags
	Outputs []string
	// FailOn gates on reachability: called, imported, required or any.
	FailOn string
	// FailOnSeverity gates on severity: low, medium, high, critical.
	FailOnSeverity string
	// IgnoreUnknownSeverity lets findings without a severity pass the
	// severity gate (by default unknown fails it).
	IgnoreUnknownSeverity bool
	// VEX files suppress findings; default .redline/vex.json when present.
	VEX []string
	// FixPlan prints only the commands that clear the findings.
	FixPlan bool
	// DB, when set, reads OSV data from this directory or zip instead of
	// the embedded and cached data.
	DB string
	// MaxAge is how many days old the data may be before it is stale.
	MaxAge int
	// Go is the toolchain release the fix plan's GODEBUG changes are
	// listed for (default: the smallest release that clears the findings).
	Go string
}

var scanFormats = []string{"table", "json", "sarif", "openvex", "cyclonedx-json"}

func newScan(env *Env, g *global) *cobra.Command {
	o := &ScanOptions{}
	cmd := &cobra.Command{
		Use:   "scan [flags] TARGET...",
		Short: "Find known vulnerabilities, tell which are reachable, and name the smallest fix",
		Long: `Scan matches what a target holds against OSV data that works offline (the Go
vulnerability database ships inside redline; ` + "`redline db`" + ` updates and imports
more) and grades Go findings by reachability:

  called    a vulnerable symbol is reachable (source) or present (binaries,
            stripped ones included: redline reads the function table itself)
  imported  a vulnerable package is linked in, none of its vulnerable symbols
  required  only the module is in the build
  installed an OS package is installed (gates like required)

TARGET is an image (any scheme of redline analyze), dir:PATH, file:PATH (a
binary, or an SBOM from redline, syft or trivy in CycloneDX JSON), or go:PATH
(a Go module: govulncheck's engine gives call paths).

Without a gate, findings exit 0. --fail-on and --fail-on-severity exit 1 when
crossed; unknown severity fails a severity gate unless
--ignore-unknown-severity. Data older than --max-age days is reported stale.`,
		Example: `  redline scan oci-dir:./out/hello
  redline scan --fail-on called go:./examples/hello
  redline scan --fix-plan file:./bin/server
  redline scan -o sarif=scan.sarif -o openvex=vex.json docker-archive:app.tar`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunScan(cmd.Context(), env, g, o, args)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Outputs, "output", "o", nil, "output FORMAT[=PATH], repeatable; formats: table (default), json, sarif, openvex, cyclonedx-json")
	f.StringVar(&o.FailOn, "fail-on", "", "exit 1 on findings at or above this reachability: called, imported, required, any")
	f.StringVar(&o.FailOnSeverity, "fail-on-severity", "", "exit 1 on findings at or above this severity: low, medium, high, critical")
	f.BoolVar(&o.IgnoreUnknownSeverity, "ignore-unknown-severity", false, "let findings without a severity pass --fail-on-severity")
	f.StringArrayVar(&o.VEX, "vex", nil, "OpenVEX file whose statements suppress findings (repeatable; default .redline/vex.json when present)")
	f.BoolVar(&o.FixPlan, "fix-plan", false, "print the go get / toolchain commands that clear the findings")
	f.StringVar(&o.DB, "db", "", "read OSV data only from this directory or zip")
	f.IntVar(&o.MaxAge, "max-age", 7, "days after which the data counts as stale")
	f.StringVar(&o.Go, "go", "", "with the fix plan: list the GODEBUG behaviours that change when moving to this Go release (e.g. go1.27.3)")
	o.Image.register(cmd)
	return cmd
}

// gate says which findings cross the command line's gates.
type gate struct {
	reach         int // minimum Reach rank, 0 = no reachability gate
	severity      int // minimum severity rank, 0 = no severity gate
	ignoreUnknown bool
}

func (g gate) active() bool { return g.reach > 0 || g.severity > 0 }

func (g gate) crosses(f vuln.Finding) bool {
	if !g.active() || f.Suppressed != nil {
		return false
	}
	if g.reach > 0 && f.Reach.Rank() < g.reach {
		return false
	}
	if g.severity > 0 {
		r := vuln.SeverityRank(f.Severity)
		if r == 0 {
			return !g.ignoreUnknown
		}
		return r >= g.severity
	}
	return true
}

func parseGate(o *ScanOptions) (gate, error) {
	g := gate{ignoreUnknown: o.IgnoreUnknownSeverity}
	switch o.FailOn {
	case "":
	case "any", "required", "installed":
		g.reach = 1
	case "imported":
		g.reach = 2
	case "called":
		g.reach = 3
	default:
		return g, usageErrorf("--fail-on %q: want called, imported, required or any", o.FailOn)
	}
	if o.FailOnSeverity != "" {
		g.severity = vuln.SeverityRank(strings.ToLower(o.FailOnSeverity))
		if g.severity == 0 {
			return g, usageErrorf("--fail-on-severity %q: want low, medium, high or critical", o.FailOnSeverity)
		}
	}
	return g, nil
}

// RunScan is `redline scan`.
func RunScan(ctx context.Context, env *Env, g *global, o *ScanOptions, args []string) error {
	formats := scanFormats
	if o.FixPlan {
		formats = append([]string{"commands"}, scanFormats...)
	}
	def := "table"
	if o.FixPlan && len(o.Outputs) == 0 {
		def = "commands"
	}
	outs, err := ParseOutputs(o.Outputs, formats, def)
	if err != nil {
		return err
	}
	gt, err := parseGate(o)
	if err != nil {
		return err
	}
	in, err := openVulnInputs(env, g, &o.Image, o.DB, o.VEX)
	if err != nil {
		return err
	}
	log := in.log
	if o.Go != "" && !strings.HasPrefix(o.Go, "go1.") {
		return usageErrorf("--go %q: want a release such as go1.27.3", o.Go)
	}
	sopts := scan.Options{DB: in.data, Image: in.image, Pass: in.pass, VEX: in.vex, MaxAge: time.Duration(o.MaxAge) * 24 * time.Hour, Logger: log, GoTarget: o.Go}
	var results []*vuln.Result
	var sboms []*sbom.SBOM
	for _, arg := range args {
		t, err := image.ParseTarget(arg)
		if err != nil {
			return err
		}
		if t.Resolved {
			log.Info("resolved target", "arg", t.Value, "as", t.Scheme, "because", t.Why)
			t.Resolved = false
		}
		p := withProgress(in.pass, env, "")
		sopts.Pass = p.opts
		r, s, err := scan.Target(ctx, t, sopts)
		p.done()
		if err != nil {
			return err
		}
		results = append(results, r)
		sboms = append(sboms, s)
	}
	err = WriteOutputs(outs, env.Stdout, func(w io.Writer, format string) error {
		switch format {
		case "table":
			return report.ScanTable(w, results)
		case "json":
			if len(results) == 1 {
				return report.JSON(w, results[0])
			}
			return report.JSON(w, results)
		case "sarif":
			return sarif.Write(w, results, sarif.Options{})
		case "openvex":
			var all []vuln.Finding
			for _, r := range results {
				all = append(all, r.Findings...)
			}
			return vex.Write(w, all, productOf(results[0]), vex.WriteOptions{Timestamp: results[0].Data.Date})
		case "cyclonedx-json":
			if len(results) != 1 {
				return errors.New("-o cyclonedx-json describes one target: scan them one at a time")
			}
			return encode.CycloneDXJSONWithVulns(w, sboms[0], results[0].Findings)
		case "commands":
			return fixCommands(w, results)
		}
		return fmt.Errorf("unknown format %q", format)
	})
	if err != nil {
		return err
	}
	var crossed []string
	for _, r := range results {
		for _, f := range r.Findings {
			if gt.crosses(f) {
				crossed = append(crossed, f.ID)
			}
		}
	}
	if len(crossed) > 0 {
		return &GateError{Msg: fmt.Sprintf("%d findings cross the gate: %s", len(crossed), strings.Join(first(crossed, 10), ", "))}
	}
	return nil
}

func first(xs []string, n int) []string {
	if len(xs) > n {
		return append(xs[:n:n], "...")
	}
	return xs
}

// productOf names the product of VEX statements: the image digest as an
// OCI package URL, else the target.
func productOf(r *vuln.Result) string {
	if r.Digest != "" {
		return "pkg:oci/" + imageName(r.Target) + "@" + r.Digest
	}
	return r.Target
}

func imageName(target string) string {
	_, v, _ := strings.Cut(target, ":")
	if i := strings.LastIndexAny(v, "/"); i >= 0 {
		v = v[i+1:]
	}
	v, _, _ = strings.Cut(v, ":")
	return strings.ToLower(v)
}

func fixCommands(w io.Writer, results []*vuln.Result) error {
	seen := map[string]bool{}
	for _, r := range results {
		for _, fx := range r.Fixes {
			if fx.Command == "" || seen[fx.Command] {
				continue
			}
			seen[fx.Command] = true
			note := fmt.Sprintf("# %s %s: clears %s", fx.Name, fx.From, strings.Join(fx.Clears, ", "))
			if fx.Newest != "" {
				note += " (the newest release, " + fx.Newest + ", also does)"
			}
			if _, err := fmt.Fprintf(w, "%s\n%s\n", note, fx.Command); err != nil {
				return err
			}
			for _, line := range godebugLines(fx) {
				fmt.Fprintln(w, "#   "+line)
			}
		}
		for _, fx := range r.Fixes {
			if len(fx.Unfixable) > 0 {
				fmt.Fprintf(w, "# %s %s: no release clears %s\n", fx.Name, fx.From, strings.Join(fx.Unfixable, ", "))
			}
		}
	}
	if len(seen) == 0 {
		_, err := fmt.Fprintln(w, "# nothing to fix")
		return err
	}
	return nil
}

func readVEX(paths []string) (*vex.Document, error) {
	if len(paths) == 0 {
		if _, err := os.Stat(".redline/vex.json"); err == nil {
			paths = []string{".redline/vex.json"}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	var docs []*vex.Document
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("--vex: %w", err)
		}
		d, err := vex.Read(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--vex %s: %w", p, err)
		}
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return nil, nil
	}
	return vex.Merge(docs...), nil
}

// godebugLines says what behaviour changes with a toolchain fix.
func godebugLines(fx vuln.Fix) []string {
	if fx.GODEBUGTarget == "" {
		return nil
	}
	if len(fx.GODEBUG) == 0 {
		return []string{"GODEBUG: no default changes for this program on " + fx.GODEBUGTarget}
	}
	out := []string{fmt.Sprintf("GODEBUG: %d defaults change on %s:", len(fx.GODEBUG), fx.GODEBUGTarget)}
	for _, c := range fx.GODEBUG {
		from, to := c.From, c.To
		if from == "" {
			from = "(none)"
		}
		if to == "" {
			to = "(removed)"
		}
		line := fmt.Sprintf("  %s %s → %s [%s, %s]", c.Name, from, to, c.Class, c.Link)
		if c.BreaksBuild {
			line += " BREAKS THE BUILD until the pin goes"
		}
		out = append(out, line)
	}
	return out
}

// vulnInputs is what the commands that match vulnerabilities (scan,
// check) read before any work: the logger, the image options, the data
// and the VEX documents.
type vulnInputs struct {
	log   *slog.Logger
	image image.Options
	pass  image.PassOptions
	data  *db.DB
	vex   *vex.Document
}

func openVulnInputs(env *Env, g *global, img *ImageFlags, dbDir string, vexFiles []string) (vulnInputs, error) {
	in := vulnInputs{log: g.logger(env.Stderr)}
	var err error
	if in.image, in.pass, err = img.options(in.log); err != nil {
		return in, err
	}
	if in.data, err = openData(dbDir, in.log); err != nil {
		return in, err
	}
	in.vex, err = readVEX(vexFiles)
	return in, err
}

// openData opens the vulnerability data: a --db directory, else the
// cached update or the embedded snapshot; its warnings go to the log.
func openData(dir string, log *slog.Logger) (*db.DB, error) {
	var data *db.DB
	var err error
	if dir != "" {
		data, err = db.OpenDir(dir)
	} else {
		data, err = db.Open(db.Options{Logger: log})
	}
	if err != nil {
		return nil, fmt.Errorf("vulnerability data: %w", err)
	}
	for _, w := range data.Warnings() {
		log.Warn(w)
	}
	return data, nil
}
