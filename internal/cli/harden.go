package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/redline-go/redline/internal/lint"
	"github.com/redline-go/redline/internal/lint/edit"
	"github.com/redline-go/redline/internal/lint/rule"
)

// HardenOptions are the flags of `redline harden`.
type HardenOptions struct {
	Image ImageFlags
	// Write applies the changes to the file (atomically); default: print
	// the diff only.
	Write bool
	// User is the numeric non-root UID:GID to write; default 65532:65532
	// for Dockerfiles, the --image's user for manifests.
	User string
	// Images, AllowCaps and Runtime are as for lint.
	Images    []string
	AllowCaps []string
	Runtime   string
}

func newHarden(env *Env, g *global) *cobra.Command {
	o := &HardenOptions{}
	cmd := &cobra.Command{
		Use:   "harden [flags] FILE",
		Short: "Rewrite a Kubernetes manifest or a Dockerfile to satisfy the rules it can fix",
		Long: `Harden rewrites a Kubernetes manifest (YAML) or a Dockerfile so that the
fixable rules of redline lint hold (marked "harden" in redline lint
--list): securityContext settings, USER, go build flags, package manager
clean-up, --chown on volumes. It splices text where the parser places each
node, so only the lines it must change differ — comments, blank lines,
key order and quoting stay as they were — and it never removes what it
does not understand.

It prints the diff; --write applies it (atomically). What it cannot fix
is listed on stderr. Findings suppressed with # redline:ignore are left
alone. A file that cannot be parsed is an error (exit 2).

FILE is a Dockerfile (by name, or dockerfile:FILE) or a YAML manifest (by
extension, or k8s:FILE).`,
		Example: `  redline harden deploy/web.yaml
  redline harden --write --image oci-dir:./out/hello deploy/web.yaml
  redline harden --write Dockerfile`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunHarden(cmd.Context(), env, g, o, args[0])
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Write, "write", false, "apply the changes to FILE")
	f.StringVar(&o.User, "user", "", "numeric non-root UID:GID to write (USER, runAsUser/runAsGroup)")
	f.StringArrayVar(&o.Images, "image", nil, "[CONTAINER=]IMAGE whose user the manifest should run as (repeatable)")
	f.StringArrayVar(&o.AllowCaps, "allow-cap", nil, "capability to accept, repeatable (default NET_BIND_SERVICE)")
	f.StringVar(&o.Runtime, "runtime", "", "runtime for capability predictions (see redline lint)")
	o.Image.register(cmd)
	return cmd
}

// RunHarden is `redline harden`.
func RunHarden(ctx context.Context, env *Env, g *global, o *HardenOptions, arg string) error {
	ho := lint.HardenOptions{User: o.User}
	file := arg
	switch {
	case strings.HasPrefix(arg, lint.SchemeDockerfile+":"):
		file, ho.Kind = strings.TrimPrefix(arg, lint.SchemeDockerfile+":"), rule.Dockerfile
	case strings.HasPrefix(arg, lint.SchemeKube+":"):
		file, ho.Kind = strings.TrimPrefix(arg, lint.SchemeKube+":"), rule.Kubernetes
	}
	if o.User != "" {
		u, gr, _ := strings.Cut(o.User, ":")
		if !numericID(u) || gr != "" && !numericID(gr) || u == "0" || gr == "0" {
			return usageErrorf("--user %s: want a numeric non-root UID:GID such as 65532:65532", o.User)
		}
	}
	lo, done, err := lintOptions(env, g, o.Images, o.AllowCaps, o.Runtime, &o.Image)
	if err != nil {
		return err
	}
	h, err := lint.Harden(ctx, file, lo, ho)
	done()
	if err != nil {
		return err
	}
	log := g.logger(env.Stderr)
	if !h.Changed() {
		log.Info("nothing to change", "file", h.File)
	} else if err := edit.Diff(env.Stdout, h.File, h.Old, h.New); err != nil {
		return err
	}
	for _, f := range h.After {
		how := "needs a person"
		if r := lint.Lookup(f.Rule); r != nil && r.Fixable {
			how = "harden could not rewrite it safely"
		}
		log.Warn("not fixed: "+f.Message, "rule", f.Rule, "at", f.Location.String(), "why", how)
	}
	if o.Write && h.Changed() {
		if err := edit.WriteKeepingMode(file, h.New); err != nil {
			return err
		}
		log.Info("written", "file", h.File, "fixed", len(h.Before)-len(h.After))
	}
	return nil
}

func numericID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
