package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/lint"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/lint/vulnadvice"
	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/match"
)

// LintOptions are the flags of `redline lint`.
type LintOptions struct {
	Image ImageFlags
	// Outputs are -o FORMAT[=PATH] values; formats: table (default), json,
	// sarif.
	Outputs []string
	// List prints the rule catalogue instead of linting.
	List bool
	// FailOnSeverity exits 1 when a finding at or above it is not
	// suppressed; empty: findings alone exit 0.
	FailOnSeverity string
	// Strict turns warnings (content that could not be parsed) into exit 2.
	Strict bool
	// Images are --image [CONTAINER=]REF: the image manifests are
	// cross-checked against.
	Images []string
	// AllowCaps are the capabilities accepted; default NET_BIND_SERVICE,
	// "none" for none.
	AllowCaps []string
	// Runtime limits capability predictions to one runtime; default every
	// Kubernetes runtime (containerd, containerd1, cri-o).
	Runtime string
	// Ignore lists rule IDs to leave out.
	Ignore []string
}

var lintFormats = []string{"table", "json", "sarif"}

func newLint(env *Env, g *global) *cobra.Command {
	o := &LintOptions{}
	cmd := &cobra.Command{
		Use:   "lint [flags] TARGET...",
		Short: "Check images, Dockerfiles, Kubernetes manifests and Go modules for least privilege",
		Long: `Lint checks that a service's image, the Dockerfile that made it, the
Kubernetes manifests that run it and the Go module set-up that feeds it
grant no more than the service needs, against one rule catalogue
(redline lint --list; docs/rules.md).

TARGET is an image (docker-archive:, oci-archive:, oci-dir:, registry:,
docker:, podman:, dir:), a Dockerfile (dockerfile:PATH, or a file named
Dockerfile, Containerfile, *.Dockerfile), a manifest file or directory
(k8s:PATH, or a .yaml/.yml/.json file: every workload kind, multi-document,
Helm output; CI files are read for their Go settings), a Go module
(go:DIR, or a go.mod), a single binary (file:PATH), or a source directory,
whose Dockerfiles, YAML files and Go modules are all checked.

With --image, manifests are cross-checked against the image: who the
container really runs as (its USER, its /etc/passwd), and whether the
capabilities it is given will work — reading the entrypoint's file
capabilities and predicting, per runtime, OK, no effect or EPERM at exec.

Suppress a finding in a Dockerfile or YAML file with a comment on the line
above: # redline:ignore RULE-ID reason.

Findings alone exit 0; --fail-on-severity LEVEL exits 1 when one at or
above LEVEL is not suppressed. Content that cannot be parsed is a warning
naming file and line; --strict makes warnings exit 2.`,
		Example: `  redline lint .
  redline lint --fail-on-severity high -o sarif=lint.sarif deploy/ Dockerfile
  redline lint --image oci-dir:./out/hello k8s:deploy/hello.yaml
  redline lint --list`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunLint(cmd.Context(), env, g, o, args)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Outputs, "output", "o", nil, "output FORMAT[=PATH], repeatable; formats: table (default), json, sarif")
	f.BoolVar(&o.List, "list", false, "print the rule catalogue (with -o json: as JSON)")
	f.StringVar(&o.FailOnSeverity, "fail-on-severity", "", "exit 1 when a finding at or above this severity is not suppressed: critical, high, medium, low, info")
	f.BoolVar(&o.Strict, "strict", false, "exit 2 when any content could not be parsed")
	f.StringArrayVar(&o.Images, "image", nil, "[CONTAINER=]IMAGE to cross-check manifests against (repeatable)")
	f.StringArrayVar(&o.AllowCaps, "allow-cap", nil, "capability to accept in images and manifests, repeatable (default NET_BIND_SERVICE; \"none\" for none)")
	f.StringVar(&o.Runtime, "runtime", "", "predict capabilities for one runtime: containerd, containerd1, cri-o, docker, podman (default: the Kubernetes ones)")
	f.StringArrayVar(&o.Ignore, "ignore", nil, "rule ID to leave out, repeatable")
	o.Image.register(cmd)
	return cmd
}

// parseAllowCaps reads --allow-cap values; nil when none were given.
func parseAllowCaps(vals []string) (*caps.Set, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	s, err := caps.ParseList(strings.Join(vals, ","))
	if err != nil {
		return nil, usageErrorf("--allow-cap: %v", err)
	}
	return &s, nil
}

// lintOptions translates the shared flags into the library's options.
func lintOptions(env *Env, g *global, images, allow []string, runtime string, iflags *ImageFlags) (lint.Options, func(), error) {
	log := g.logger(env.Stderr)
	iopts, popts, err := iflags.options(log)
	if err != nil {
		return lint.Options{}, nil, err
	}
	allowSet, err := parseAllowCaps(allow)
	if err != nil {
		return lint.Options{}, nil, err
	}
	if runtime != "" {
		if _, err := caps.LookupRuntime(runtime); err != nil {
			return lint.Options{}, nil, usageErrorf("--runtime: %v", err)
		}
	}
	p := withProgress(popts, env, "")
	o := lint.Options{
		AllowCaps: allowSet, Images: images, Runtime: runtime,
		Image: iopts, Pass: p.opts, Logger: log,
	}
	// RL-GO-010 asks the vulnerability data scan uses; it is opened only
	// when a Go module is linted.
	o.Go.Advisor = vulnadvice.New(func() (match.DB, error) {
		d, err := db.Open(db.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		return d, nil
	})
	return o, p.done, nil
}

// RunLint is `redline lint`.
func RunLint(ctx context.Context, env *Env, g *global, o *LintOptions, args []string) error {
	outs, err := ParseOutputs(o.Outputs, lintFormats, "table")
	if err != nil {
		return err
	}
	if o.List {
		if len(args) > 0 {
			return usageErrorf("--list takes no targets")
		}
		return WriteOutputs(outs, env.Stdout, func(w io.Writer, format string) error {
			switch format {
			case "json":
				return lint.ListJSON(w, lint.Catalogue())
			case "table":
				return lint.List(w, lint.Catalogue())
			}
			return usageErrorf("--list writes table or json, not %s", format)
		})
	}
	if len(args) == 0 {
		return usageErrorf("lint needs at least one target (try: redline lint .)")
	}
	var gate *rule.Severity
	if o.FailOnSeverity != "" {
		s, err := rule.ParseSeverity(o.FailOnSeverity)
		if err != nil {
			return usageErrorf("--fail-on-severity: %v", err)
		}
		gate = &s
	}
	for _, id := range o.Ignore {
		if lint.Lookup(id) == nil {
			return usageErrorf("--ignore %s: no such rule (see redline lint --list)", id)
		}
	}
	lo, done, err := lintOptions(env, g, o.Images, o.AllowCaps, o.Runtime, &o.Image)
	if err != nil {
		return err
	}
	lo.Ignore = o.Ignore
	rep, err := lint.Run(ctx, args, lo)
	done()
	if err != nil {
		return err
	}
	log := g.logger(env.Stderr)
	for _, w := range rep.Warnings {
		log.Warn(w.Message, "at", warnWhere(w))
	}
	if err := WriteOutputs(outs, env.Stdout, func(w io.Writer, format string) error {
		switch format {
		case "json":
			return lint.JSON(w, rep)
		case "sarif":
			return lint.SARIF(w, rep)
		}
		return lint.Table(w, rep)
	}); err != nil {
		return err
	}
	if o.Strict && len(rep.Warnings) > 0 {
		return fmt.Errorf("%d warnings and --strict: some content could not be checked", len(rep.Warnings))
	}
	if gate != nil {
		if crossed := rep.Crossed(*gate); len(crossed) > 0 {
			return &GateError{Msg: fmt.Sprintf("%d findings at or above %s (first: %s %s)", len(crossed), *gate, crossed[0].Rule, where(crossed[0]))}
		}
	}
	return nil
}

func warnWhere(w rule.Warning) string {
	if s := w.Location.String(); s != "" {
		return s
	}
	return w.Target
}

func where(f rule.Finding) string {
	if s := f.Location.String(); s != "" {
		return "at " + s
	}
	return "in " + f.Target
}
