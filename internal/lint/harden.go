package lint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/redline-go/redline/internal/lint/dockerfile"
	"github.com/redline-go/redline/internal/lint/edit"
	"github.com/redline-go/redline/internal/lint/kube"
	"github.com/redline-go/redline/internal/lint/rule"
)

// HardenOptions configure [Harden].
type HardenOptions struct {
	// User is "UID:GID", the non-root user harden writes (USER in
	// Dockerfiles; runAsUser and runAsGroup in manifests). Default for
	// Dockerfiles 65532:65532; manifests take the --image's user, and
	// leave runAsUser alone when neither is known.
	User string
	// Kind forces the file's kind (rule.Dockerfile or rule.Kubernetes);
	// default: by name.
	Kind rule.Kind
}

// Hardened is what harden did to one file.
type Hardened struct {
	File     string
	Kind     rule.Kind
	Old, New []byte
	// Edits are every edit made; Steps group them by round, each with the
	// text it applied to (a fix may reveal another: up to three rounds).
	Edits []edit.Edit
	Steps []Step
	// Before and After are the findings of the file before and after the
	// edits (suppressed ones excluded): what After still holds needs a
	// person.
	Before, After []rule.Finding
	Warnings      []rule.Warning
}

// Step is one round of harden: edits and the text they apply to.
type Step struct {
	Src   []byte
	Edits []edit.Edit
}

// Changed reports whether harden changed anything.
func (h *Hardened) Changed() bool { return len(h.Edits) > 0 }

// Harden rewrites one Dockerfile or Kubernetes manifest to satisfy the
// fixable rules, splicing text at the positions the parsers give, so only
// the lines it must change differ. It does not write the file. A file that
// cannot be parsed is an error: harden never rewrites what it does not
// understand.
func Harden(ctx context.Context, file string, o Options, ho HardenOptions) (*Hardened, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	kind := ho.Kind
	if kind == "" {
		kind = kindOfFile(file)
	}
	uid, gid := -1, -1
	if ho.User != "" {
		u, g, _ := strings.Cut(ho.User, ":")
		var e1, e2 error
		uid, e1 = strconv.Atoi(u)
		gid, e2 = strconv.Atoi(g)
		if g == "" {
			gid, e2 = uid, nil
		}
		if e1 != nil || e2 != nil || uid <= 0 || gid <= 0 {
			return nil, fmt.Errorf("--user %s: want a numeric non-root UID:GID such as 65532:65532", ho.User)
		}
	}
	name := filepath.ToSlash(file)
	r := &run{ctx: ctx, o: &o}
	if err := r.setup(); err != nil {
		return nil, err
	}
	lintOnce := func(src []byte) (*rule.Report, error) {
		r.rep = &rule.Report{}
		var res fileResult
		switch kind {
		case rule.Dockerfile:
			res = r.dockerfile(name, src, filepath.Dir(file))
		case rule.Kubernetes:
			res = r.manifest(name, src)
		default:
			return nil, fmt.Errorf("%s: harden rewrites Dockerfiles and Kubernetes manifests (YAML); this is neither by its name (use dockerfile:%s or k8s:%s)", file, file, file)
		}
		r.add(file, res.kind, res.findings, res.warnings)
		r.finish()
		return r.rep, nil
	}
	before, err := lintOnce(src)
	if err != nil {
		return nil, err
	}
	if len(before.Warnings) > 0 {
		for _, w := range before.Warnings {
			if strings.Contains(w.Message, "cannot parse") || strings.Contains(w.Message, "invalid YAML") {
				return nil, fmt.Errorf("%s: %s; harden does not rewrite what it cannot parse", w.Location, w.Message)
			}
		}
	}
	h := &Hardened{File: name, Kind: kind, Old: src, Before: unsuppressed(before.Findings), Warnings: before.Warnings}
	// A fix may reveal another (a container made non-root now needs
	// fsGroup for its volume): run until nothing changes, three rounds at
	// most.
	cur, findings := src, before.Findings
	for round := 0; round < 3; round++ {
		var es []edit.Edit
		switch kind {
		case rule.Dockerfile:
			f := dockerfile.Parse(name, cur)
			do := dockerfile.Options{}
			if ho.User != "" {
				do.User = fmt.Sprintf("%d:%d", uid, gid)
			}
			es = dockerfile.Harden(f, findings, do)
		case rule.Kubernetes:
			f := kube.Parse(name, cur, o.MaxDocBytes)
			kho := kube.HardenOptions{UID: uid, GID: gid}
			if len(r.images) > 0 {
				kho.Image = r.imageFor
			}
			es, err = kube.Harden(f, findings, kho)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
		}
		if len(es) == 0 {
			break
		}
		next, err := edit.Apply(cur, es)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		h.Edits = append(h.Edits, es...)
		h.Steps = append(h.Steps, Step{Src: cur, Edits: es})
		cur = next
		rep, err := lintOnce(cur)
		if err != nil {
			return nil, err
		}
		findings = rep.Findings
	}
	h.New = cur
	after, err := lintOnce(h.New)
	if err != nil {
		return nil, err
	}
	h.After = unsuppressed(after.Findings)
	if n := len(after.Warnings) - len(before.Warnings); n > 0 {
		return nil, fmt.Errorf("%s: the rewritten file has %d new warnings (a harden bug): %s", file, n, after.Warnings[0])
	}
	return h, nil
}

func unsuppressed(fs []rule.Finding) []rule.Finding {
	return slices.DeleteFunc(slices.Clone(fs), func(f rule.Finding) bool { return f.Suppressed != nil })
}
