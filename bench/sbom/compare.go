package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"
)

// found is what one tool reported for one image, normalised so the tools
// can be compared:
//
//   - Go modules are keyed per binary, "BINARY<TAB>MODULE@VERSION", with
//     BINARY an absolute image path;
//   - the toolchain is "stdlib@1.X.Y" whatever the tool calls it (syft:
//     go-module "stdlib" at "go1.X.Y"; trivy: "stdlib" at "v1.X.Y";
//     redline: go-stdlib "stdlib" at "1.X.Y");
//   - a main module without a version is "(devel)", what Go records (syft
//     drops "(devel)" and then, by default, stubs the empty version as
//     "UNKNOWN"; trivy leaves it empty);
//   - Debian packages are "NAME@VERSION" with the epoch, as dpkg writes the
//     version (trivy moves the epoch into a purl qualifier: put back).
type found struct {
	goPairs map[string]bool // BINARY \t MODULE@VERSION
	debs    map[string]bool // NAME@VERSION
	// mains are the per-binary keys that are a binary's main module, as
	// far as the tool says so.
	mains map[string]bool
	// other counts the tool's other components by type (informative).
	other map[string]int
}

func newFound() *found {
	return &found{goPairs: map[string]bool{}, debs: map[string]bool{}, mains: map[string]bool{}, other: map[string]int{}}
}

func (f *found) goModules() map[string]bool {
	m := map[string]bool{}
	for k := range f.goPairs {
		_, mod, _ := strings.Cut(k, "\t")
		m[mod] = true
	}
	return m
}

func (f *found) binaries() map[string]bool {
	m := map[string]bool{}
	for k := range f.goPairs {
		bin, _, _ := strings.Cut(k, "\t")
		m[bin] = true
	}
	return m
}

func absPath(p string) string { return "/" + strings.TrimPrefix(path.Clean("/"+p), "/") }

// goKey normalises a Go module name and version.
func goKey(name, version string) string {
	if name == "stdlib" {
		version = strings.TrimPrefix(strings.TrimPrefix(version, "go"), "v")
		version, _, _ = strings.Cut(version, " ")
	}
	if version == "" {
		version = "(devel)"
	}
	return name + "@" + version
}

// ---- syft JSON ----

type syftDoc struct {
	Artifacts []struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Type      string `json:"type"`
		Locations []struct {
			Path string `json:"path"`
		} `json:"locations"`
		Metadata json.RawMessage `json:"metadata"`
	} `json:"artifacts"`
	Descriptor struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"descriptor"`
}

func parseSyft(file string) (*found, error) {
	var d syftDoc
	if err := readJSON(file, &d); err != nil {
		return nil, err
	}
	f := newFound()
	for _, a := range d.Artifacts {
		switch a.Type {
		case "go-module":
			bin := ""
			if len(a.Locations) > 0 {
				bin = absPath(a.Locations[0].Path)
			}
			v := a.Version
			if v == "UNKNOWN" {
				// syft's compliance.missing-version "stub" (the default)
				// for a package without a version: here a main module
				// built without one, which Go records as (devel).
				v = ""
			}
			k := bin + "\t" + goKey(a.Name, v)
			f.goPairs[k] = true
			var md struct {
				MainModule string `json:"mainModule"`
			}
			if json.Unmarshal(a.Metadata, &md) == nil && md.MainModule == a.Name && a.Name != "stdlib" {
				f.mains[k] = true
			}
		case "deb":
			f.debs[a.Name+"@"+a.Version] = true
		default:
			f.other[a.Type]++
		}
	}
	return f, nil
}

// ---- trivy CycloneDX ----

type cdxDoc struct {
	Components []struct {
		BOMRef     string `json:"bom-ref"`
		Type       string `json:"type"`
		Name       string `json:"name"`
		Version    string `json:"version"`
		PURL       string `json:"purl"`
		Properties []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"properties"`
	} `json:"components"`
	Dependencies []struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	} `json:"dependencies"`
	Metadata struct {
		Tools struct {
			Components []struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			} `json:"components"`
		} `json:"tools"`
	} `json:"metadata"`
}

// parseTrivy reads trivy's CycloneDX: golang and deb purls; a module's
// binary is the application component (named by its file path) that
// reaches it through the dependency graph.
func parseTrivy(file string) (*found, error) {
	var d cdxDoc
	if err := readJSON(file, &d); err != nil {
		return nil, err
	}
	f := newFound()
	deps := map[string][]string{}
	for _, dep := range d.Dependencies {
		deps[dep.Ref] = dep.DependsOn
	}
	byRef := map[string]int{}
	for i, c := range d.Components {
		byRef[c.BOMRef] = i
	}
	seenGo := map[string]bool{} // bom-refs reached from a binary
	for _, c := range d.Components {
		if c.Type != "application" {
			continue
		}
		isGo := false
		for _, p := range c.Properties {
			if p.Name == "aquasecurity:trivy:Type" && p.Value == "gobinary" {
				isGo = true
			}
		}
		if !isGo {
			continue
		}
		bin := absPath(c.Name)
		// Walk the graph from the binary: trivy roots it at the main
		// module, which depends on the rest.
		stack := append([]string(nil), deps[c.BOMRef]...)
		visited := map[string]bool{}
		depth := map[string]int{}
		for _, r := range stack {
			depth[r] = 1
		}
		for len(stack) > 0 {
			r := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if visited[r] {
				continue
			}
			visited[r] = true
			i, ok := byRef[r]
			if !ok {
				continue
			}
			name, version, ok := golangName(d.Components[i].Name, d.Components[i].Version, d.Components[i].PURL)
			if !ok {
				continue
			}
			seenGo[r] = true
			k := bin + "\t" + goKey(name, version)
			f.goPairs[k] = true
			if depth[r] == 1 && name != "stdlib" {
				f.mains[k] = true
			}
			for _, n := range deps[r] {
				if _, ok := depth[n]; !ok {
					depth[n] = depth[r] + 1
				}
				stack = append(stack, n)
			}
		}
	}
	for _, c := range d.Components {
		if c.PURL == "" {
			if c.Type != "application" {
				f.other[c.Type]++
			}
			continue
		}
		p, err := packageurl.FromString(c.PURL)
		if err != nil {
			f.other["bad purl"]++
			continue
		}
		switch p.Type {
		case "golang":
			if !seenGo[c.BOMRef] {
				name, version, _ := golangName(c.Name, c.Version, c.PURL)
				f.goPairs["?\t"+goKey(name, version)] = true // not reached from a binary
			}
		case "deb":
			v := p.Version
			if e := p.Qualifiers.Map()["epoch"]; e != "" && e != "0" {
				v = e + ":" + v
			}
			f.debs[p.Name+"@"+v] = true
		default:
			f.other[p.Type]++
		}
	}
	return f, nil
}

// golangName is a golang component's module path and version: the
// component's own name and version, which keep the module path's case
// (trivy lowercases the purl: pkg:golang/github.com/burntsushi/toml for
// github.com/BurntSushi/toml), else the purl's.
func golangName(compName, compVersion, purl string) (name, version string, ok bool) {
	name, version, ok = golangPURL(purl)
	if !ok {
		return "", "", false
	}
	if compName != "" {
		name = compName
	}
	if compVersion != "" {
		version = compVersion
	}
	return name, version, true
}

func golangPURL(s string) (name, version string, ok bool) {
	if !strings.HasPrefix(s, "pkg:golang/") {
		return "", "", false
	}
	p, err := packageurl.FromString(s)
	if err != nil {
		return "", "", false
	}
	name = p.Name
	if p.Namespace != "" {
		name = p.Namespace + "/" + p.Name
	}
	return name, p.Version, true
}

// ---- redline JSON ----

type redlineDoc struct {
	Components []struct {
		Type    string `json:"type"`
		Name    string `json:"name"`
		Version string `json:"version"`
		Path    string `json:"path"`
		Main    bool   `json:"main"`
	} `json:"components"`
	Warnings []struct {
		Path    string `json:"path"`
		Message string `json:"message"`
	} `json:"warnings"`
	Tool struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"tool"`
}

func parseRedline(file string) (*found, error) {
	var d redlineDoc
	if err := readJSON(file, &d); err != nil {
		return nil, err
	}
	f := newFound()
	for _, c := range d.Components {
		switch c.Type {
		case "go-module", "go-stdlib":
			k := absPath(c.Path) + "\t" + goKey(c.Name, c.Version)
			f.goPairs[k] = true
			if c.Main {
				f.mains[k] = true
			}
		case "deb":
			f.debs[c.Name+"@"+c.Version] = true
		default:
			f.other[c.Type]++
		}
	}
	if len(d.Warnings) > 0 {
		f.other["warnings"] = len(d.Warnings)
	}
	return f, nil
}

func readJSON(file string, v any) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// minus returns the keys of a not in b, sorted.
func minus(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func sortStrings(s []string) { sort.Strings(s) }

// explain says why a tool reports a key another does not, when the cause
// is a known difference in what the tools report rather than in what they
// find: the main module of a binary, and the stdlib.
func explain(key string, in, notIn *found, inName, notInName string) string {
	bin, mod, ok := strings.Cut(key, "\t")
	if !ok {
		return ""
	}
	name, version, _ := strings.Cut(mod, "@")
	if in.mains[key] {
		// The same main module under another version in the other tool?
		for k := range notIn.goPairs {
			b, m, _ := strings.Cut(k, "\t")
			n, v, _ := strings.Cut(m, "@")
			if b == bin && n == name && v != version {
				return fmt.Sprintf("main module: %s reports version %s, %s %s", inName, version, notInName, v)
			}
		}
		if version == "(devel)" {
			return fmt.Sprintf("main module without a version (built from a checkout with -buildvcs=false): %s lists it as (devel), %s leaves it out", inName, notInName)
		}
		return fmt.Sprintf("main module: %s lists it, %s leaves it out", inName, notInName)
	}
	if bin == "?" {
		return fmt.Sprintf("%s lists it without a binary that contains it", inName)
	}
	if !notIn.binaries()[bin] {
		return fmt.Sprintf("%s reports no Go modules at all for %s", notInName, bin)
	}
	return ""
}
