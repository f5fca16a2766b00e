package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/layers"
	"github.com/redline-go/redline/internal/report"
)

// AnalyzeOptions are the flags of `redline analyze`.
type AnalyzeOptions struct {
	Image ImageFlags
	// Outputs are -o FORMAT[=PATH] values; formats: table (default), json.
	Outputs []string
	// Compare names a baseline image; the report is then the slimming
	// report of the target against it.
	Compare string
	// DiveCompat prints dive's metrics too and evaluates the CI rules on
	// them.
	DiveCompat bool
	// LowestEfficiency, HighestWastedBytes and HighestUserWastedPercent are
	// dive's CI rules; empty means unset, "disabled" disables a rule the
	// CI config file sets.
	LowestEfficiency, HighestWastedBytes, HighestUserWastedPercent string
	// CIConfig is a .dive-ci file; default ".dive-ci" when it exists.
	CIConfig string
	// Top bounds the lists of the table. Default 10.
	Top int
}

func newAnalyze(env *Env, g *global) *cobra.Command {
	o := &AnalyzeOptions{}
	cmd := &cobra.Command{
		Use:   "analyze [flags] IMAGE",
		Short: "Show where an image's bytes go, what is reclaimable, and how much a slimmer build saved",
		Long: `Analyze reads an image in one streaming pass and reports its layers, the
bytes later layers overwrite or delete (reclaimable), the largest files and
directories of the final filesystem, and its config.

IMAGE is docker-archive:FILE, oci-archive:FILE, oci-dir:DIR, registry:REF,
docker:NAME, podman:NAME or dir:PATH; a bare argument is resolved (a file by
its content, a directory by what it holds, else an image name in podman,
docker, then a registry).

With --compare BASELINE it reports how much smaller IMAGE is than BASELINE
and which directories and files went away or are new.

The CI rules of dive (--lowest-efficiency, --highest-wasted-bytes,
--highest-user-wasted-percent, or a .dive-ci file) exit 1 when crossed.`,
		Example: `  redline analyze testdata/images/naive.tar
  redline analyze -o json=analysis.json oci-dir:./out/app
  redline analyze --compare docker-archive:naive.tar oci-archive:slim.tar
  redline analyze --lowest-efficiency 0.95 registry:ghcr.io/org/app:1.2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunAnalyze(cmd.Context(), env, g, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Outputs, "output", "o", nil, "output FORMAT[=PATH], repeatable; formats: table, json")
	f.StringVar(&o.Compare, "compare", "", "baseline image to compare against (the slimming report)")
	f.BoolVar(&o.DiveCompat, "dive-compat", false, "also print dive's efficiency, wasted bytes and user-wasted percent, and gate on them")
	f.StringVar(&o.LowestEfficiency, "lowest-efficiency", "", "fail (exit 1) when efficiency is below this ratio, e.g. 0.95")
	f.StringVar(&o.HighestWastedBytes, "highest-wasted-bytes", "", "fail (exit 1) when wasted bytes exceed this size, e.g. 20MB")
	f.StringVar(&o.HighestUserWastedPercent, "highest-user-wasted-percent", "", "fail (exit 1) when wasted bytes over the bytes added after the first layer exceed this ratio, e.g. 0.1")
	f.StringVar(&o.CIConfig, "ci-config", "", "dive CI rules file (default .dive-ci when present)")
	f.IntVar(&o.Top, "top", 10, "length of the waste, file and directory lists")
	o.Image.register(cmd)
	return cmd
}

// RunAnalyze is `redline analyze`.
func RunAnalyze(ctx context.Context, env *Env, g *global, o *AnalyzeOptions, arg string) error {
	outs, err := ParseOutputs(o.Outputs, []string{"table", "json"}, "table")
	if err != nil {
		return err
	}
	rules, err := o.rules()
	if err != nil {
		return err
	}
	if rules.Any() && o.Compare != "" {
		return usageErrorf("the CI rules apply to one image; drop them or --compare")
	}
	log := g.logger(env.Stderr)
	iopts, popts, err := o.Image.options(log)
	if err != nil {
		return err
	}
	target, err := image.ParseTarget(arg)
	if err != nil {
		return err
	}
	var base *layers.Analysis
	var baseTree *image.Tree
	if o.Compare != "" {
		bt, err := image.ParseTarget(o.Compare)
		if err != nil {
			return fmt.Errorf("--compare: %w", err)
		}
		bp := withProgress(popts, env, "baseline")
		base, baseTree, err = layers.Run(ctx, bt, iopts, bp.opts, layers.Options{Top: max(o.Top, 1)})
		bp.done()
		if err != nil {
			return err
		}
	}
	p := withProgress(popts, env, "")
	a, tree, err := layers.Run(ctx, target, iopts, p.opts, layers.Options{Top: max(o.Top, 1)})
	p.done()
	if err != nil {
		return err
	}
	topt := report.TableOptions{Top: o.Top, DiveCompat: o.DiveCompat}
	if base != nil {
		c, err := layers.Compare(base, baseTree, a, tree, max(o.Top, 1))
		if err != nil {
			return err
		}
		return WriteOutputs(outs, env.Stdout, func(w io.Writer, format string) error {
			if format == "json" {
				return report.JSON(w, c)
			}
			return report.ComparisonTable(w, c, topt)
		})
	}
	pass := true
	if rules.Any() {
		pass = rules.Evaluate(a)
	}
	err = WriteOutputs(outs, env.Stdout, func(w io.Writer, format string) error {
		if format == "json" {
			return report.JSON(w, a)
		}
		return report.AnalysisTable(w, a, topt)
	})
	if err != nil {
		return err
	}
	if !pass {
		var failed []string
		for _, r := range a.Rules {
			if !r.Pass {
				failed = append(failed, r.Name+": "+r.Message)
			}
		}
		return &GateError{Msg: "CI rules failed: " + strings.Join(failed, "; ")}
	}
	return nil
}

// rules merges the CI config file and the flags; flags win.
func (o *AnalyzeOptions) rules() (layers.Rules, error) {
	var r layers.Rules
	path := o.CIConfig
	explicit := path != ""
	if !explicit {
		path = ".dive-ci"
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		r, err = layers.ParseDiveCI(data)
		if err != nil {
			return r, usageErrorf("%s: %v", path, err)
		}
	case explicit || !errors.Is(err, fs.ErrNotExist):
		return r, usageErrorf("--ci-config: %v", err)
	}
	ratioFlag := func(name, v string, dst **float64) error {
		if v == "" {
			return nil
		}
		if strings.EqualFold(v, "disabled") {
			*dst = nil
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return usageErrorf("--%s %s: want a ratio between 0 and 1 (0.9 = 90%%)", name, v)
		}
		*dst = &f
		return nil
	}
	if err := ratioFlag("lowest-efficiency", o.LowestEfficiency, &r.LowestEfficiency); err != nil {
		return r, err
	}
	if err := ratioFlag("highest-user-wasted-percent", o.HighestUserWastedPercent, &r.HighestUserWastedPercent); err != nil {
		return r, err
	}
	switch v := o.HighestWastedBytes; {
	case v == "":
	case strings.EqualFold(v, "disabled"):
		r.HighestWastedBytes = nil
	default:
		n, err := layers.ParseBytes(v)
		if err != nil {
			return r, usageErrorf("--highest-wasted-bytes: %v", err)
		}
		r.HighestWastedBytes = &n
	}
	r.Dive = o.DiveCompat
	return r, nil
}
