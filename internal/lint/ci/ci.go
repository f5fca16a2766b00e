// Package ci reads the Go settings CI files make — GitHub Actions env maps
// (workflow, job and step), GitLab CI variables, and `go env -w` or
// `export` lines of run scripts — so the Go module rules can check them
// with file and line.
package ci

import (
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/redline-go/redline/internal/lint/gomod"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/lint/yamlx"
)

// IsCI reports whether a YAML document is a CI file: by its path
// (.github/workflows/, .gitlab-ci.yml) or its shape (jobs with on, or
// GitLab's stages).
func IsCI(name string, d *yamlx.Doc) bool {
	if IsCIPath(name) {
		return true
	}
	if d.Root == nil {
		return false
	}
	if yamlx.Value(d.Root, "jobs") != nil && yamlx.Value(d.Root, "on") != nil {
		return true
	}
	return yamlx.Value(d.Root, "stages") != nil
}

// IsCIPath reports paths that are CI files by convention.
func IsCIPath(name string) bool {
	p := path.Clean("/" + strings.ReplaceAll(name, "\\", "/"))
	return strings.Contains(p, "/.github/workflows/") || path.Base(p) == ".gitlab-ci.yml"
}

// Settings returns the Go settings of a CI document.
func Settings(f *yamlx.File, d *yamlx.Doc) []gomod.Setting {
	var out []gomod.Setting
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		n = yamlx.Deref(n)
		if n == nil || depth > 64 {
			return
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], yamlx.Deref(n.Content[i+1])
				switch k.Value {
				case "env", "variables":
					if v.Kind == yaml.MappingNode {
						for j := 0; j+1 < len(v.Content); j += 2 {
							name, val := v.Content[j], yamlx.Deref(v.Content[j+1])
							if strings.HasPrefix(name.Value, "GO") {
								value := val.Value
								if val.Kind == yaml.MappingNode { // GitLab: {value: ..., description: ...}
									value = ""
									if vv := yamlx.Value(val, "value"); vv != nil {
										value = vv.Value
									}
								}
								out = append(out, gomod.Setting{Key: name.Value, Value: value, Where: rule.At(f.Name, name.Line, 0), Via: "CI " + k.Value})
							}
						}
						continue
					}
				case "run", "script", "before_script", "after_script":
					out = append(out, scripts(f, v)...)
					continue
				}
				walk(v, depth+1)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, depth+1)
			}
		}
	}
	walk(d.Root, 0)
	return out
}

// scripts reads `go env -w K=V` and `export K=V` from a script value (a
// string or a list of strings).
func scripts(f *yamlx.File, v *yaml.Node) []gomod.Setting {
	var out []gomod.Setting
	var nodes []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		nodes = []*yaml.Node{v}
	case yaml.SequenceNode:
		nodes = v.Content
	}
	for _, n := range nodes {
		n = yamlx.Deref(n)
		if n == nil || n.Kind != yaml.ScalarNode {
			continue
		}
		first := n.Line
		if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			first++ // the text starts under the | line
		}
		for i, l := range strings.Split(n.Value, "\n") {
			fs := strings.Fields(l)
			var assigns []string
			via := ""
			switch {
			case len(fs) >= 3 && fs[0] == "go" && fs[1] == "env" && fs[2] == "-w":
				assigns, via = fs[3:], "CI go env -w"
			case len(fs) >= 2 && fs[0] == "export":
				assigns, via = fs[1:], "CI export"
			}
			for _, a := range assigns {
				k, val, ok := strings.Cut(a, "=")
				if ok && strings.HasPrefix(k, "GO") {
					line := first + i
					if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
						line = n.Line
					}
					out = append(out, gomod.Setting{Key: k, Value: strings.Trim(val, `"'`), Where: rule.At(f.Name, line, 0), Via: via})
				}
			}
		}
	}
	return out
}
