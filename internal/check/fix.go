package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/modfile"

	"github.com/redline-go/redline/internal/lint"
	"github.com/redline-go/redline/internal/lint/edit"
	"github.com/redline-go/redline/internal/policy"
	"github.com/redline-go/redline/internal/sbom/inventory"
)

// RunFix checks, applies the actions --fix can apply safely (the Go
// toolchain, `go get` of fixed module versions, `harden --write` of
// manifests), and checks again. The result is the second check with the
// first's verdict in Fix. The plan is the same one `scan --fix-plan`
// prints (match.Fixes); this is its second entry point.
func RunFix(ctx context.Context, o Options) (*Result, error) {
	before, err := Run(ctx, o)
	if err != nil {
		return nil, err
	}
	fr := &FixReport{Before: before.Verdict, BeforeCrossed: before.Crossed(), Applied: []Fixed{}}
	if before.Kind != "package" {
		for _, a := range before.Actions {
			if a.Fixable {
				fr.Skipped = append(fr.Skipped, Fixed{Title: a.Title, Note: "an image target: fix the source it was built from"})
			}
		}
		before.Fix = fr
		return before, nil
	}
	dir := strings.TrimPrefix(o.Target, "go:")
	pol, _ := policy.Load(before.Policy.Path)
	harden := map[string]bool{}
	for _, a := range before.Actions {
		if !a.Fixable {
			continue
		}
		var f Fixed
		var err error
		switch {
		case strings.HasPrefix(a.Command, "redline harden --write "):
			file := strings.TrimPrefix(a.Command, "redline harden --write ")
			if harden[file] {
				continue
			}
			harden[file] = true
			f, err = hardenFile(ctx, file, before)
		case strings.HasPrefix(a.Command, "set build.toolchain: "):
			to := strings.Fields(strings.TrimPrefix(a.Command, "set build.toolchain: "))[0]
			f, err = setPolicyToolchain(pol.Path, to)
		case strings.HasPrefix(a.Command, "go mod edit -toolchain="), strings.HasPrefix(a.Command, "go mod edit -go="):
			f, err = goCommand(ctx, inventory.ModuleRoot(dir), o.Environ, "mod", "edit", strings.TrimPrefix(a.Command, "go mod edit "))
		case strings.HasPrefix(a.Command, "go get "):
			f, err = goCommand(ctx, inventory.ModuleRoot(dir), o.Environ, strings.Fields(strings.TrimPrefix(a.Command, "go "))...)
		default:
			fr.Skipped = append(fr.Skipped, Fixed{Title: a.Title, Command: a.Command, Note: "not applied automatically"})
			continue
		}
		f.Title = a.Title
		if err != nil {
			fr.Skipped = append(fr.Skipped, Fixed{Title: a.Title, Command: a.Command, Note: err.Error()})
			continue
		}
		fr.Applied = append(fr.Applied, f)
	}
	if len(fr.Applied) == 0 {
		before.Fix = fr
		return before, nil
	}
	after, err := Run(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("checking again after the fixes: %w", err)
	}
	after.Fix = fr
	return after, nil
}

func hardenFile(ctx context.Context, file string, r *Result) (Fixed, error) {
	lo := lint.Options{}
	if r.Image.Ref != "" {
		lo.Images = []string{r.Image.Ref}
		lo.Walked = map[string]lint.Walked{r.Image.Ref: {Report: r.imageLint, Facts: r.facts}}
	}
	h, err := lint.Harden(ctx, file, lo, lint.HardenOptions{})
	if err != nil {
		return Fixed{}, err
	}
	if !h.Changed() {
		return Fixed{}, errors.New("harden found nothing it can rewrite")
	}
	if err := edit.WriteKeepingMode(file, h.New); err != nil {
		return Fixed{}, err
	}
	return Fixed{Command: "redline harden --write " + file, Files: []string{file}, Note: fmt.Sprintf("%d edits", len(h.Edits))}, nil
}

// setPolicyToolchain rewrites the build.toolchain value of the policy
// file in place, keeping every other byte.
func setPolicyToolchain(path, to string) (Fixed, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return Fixed{}, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Content) == 0 {
		return Fixed{}, fmt.Errorf("%s: %v", path, err)
	}
	n := valueAt(doc.Content[0], "build", "toolchain")
	if n == nil || n.Kind != yaml.ScalarNode {
		return Fixed{}, fmt.Errorf("%s: no build.toolchain to change", path)
	}
	lines := strings.SplitAfter(string(src), "\n")
	l := lines[n.Line-1]
	col := n.Column - 1
	if col < 0 || col > len(l) || strings.Trim(firstToken(l[col:]), `"'`) != n.Value {
		return Fixed{}, fmt.Errorf("%s:%d: cannot locate build.toolchain", path, n.Line)
	}
	tok := firstToken(l[col:])
	lines[n.Line-1] = l[:col] + to + l[col+len(tok):]
	if err := edit.WriteKeepingMode(path, []byte(strings.Join(lines, ""))); err != nil {
		return Fixed{}, err
	}
	return Fixed{Command: fmt.Sprintf("set build.toolchain: %s in %s", to, path), Files: []string{path}, Note: "was " + n.Value}, nil
}

// firstToken is the scalar as written: up to a space, a comment or the
// end of the line (quotes included).
func firstToken(s string) string {
	end := strings.IndexAny(s, " \t\r\n#")
	if end < 0 {
		return s
	}
	return s[:end]
}

func valueAt(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

func goCommand(ctx context.Context, dir string, environ []string, args ...string) (Fixed, error) {
	if dir == "" {
		return Fixed{}, errors.New("no go.mod above the package")
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	if environ != nil {
		cmd.Env = environ
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return Fixed{}, fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return Fixed{Command: "go " + strings.Join(args, " "), Files: []string{filepath.Join(dir, "go.mod")}}, nil
}

// goModToolchain returns the toolchain line of the module holding dir.
func goModToolchain(dir string) string {
	root := inventory.ModuleRoot(dir)
	if root == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return ""
	}
	f, err := modfile.ParseLax("go.mod", b, nil)
	if err != nil || f.Toolchain == nil {
		return ""
	}
	return f.Toolchain.Name
}
