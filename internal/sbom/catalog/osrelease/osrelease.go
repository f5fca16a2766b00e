// Package osrelease reads the distribution an image declares in
// /etc/os-release (falling back to /usr/lib/os-release, as systemd does).
package osrelease

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog"
)

// Paths are the files read, in order of precedence.
var Paths = []string{"/etc/os-release", "/usr/lib/os-release"}

// maxSize bounds an os-release file; real ones are a few hundred bytes.
const maxSize = 64 << 10

// Cataloger reads os-release files.
type Cataloger struct {
	seen     catalog.Versions[parsed]
	warnings []sbom.Warning
}

type parsed struct {
	d   *sbom.Distro
	err string
}

// New returns a cataloger.
func New() *Cataloger { return &Cataloger{} }

// Name implements catalog.Cataloger.
func (c *Cataloger) Name() string { return "os-release" }

// Visit wants every regular os-release file, whichever path a symlink
// points at; the final one is chosen after the pass.
func (c *Cataloger) Visit(e *image.Entry) bool {
	if e.Kind != image.KindFile {
		return false
	}
	for _, p := range Paths {
		if e.Path == p {
			return true
		}
	}
	return false
}

// Content parses one copy.
func (c *Cataloger) Content(e *image.Entry, r io.Reader) error {
	d, err := Parse(io.LimitReader(r, maxSize))
	p := parsed{d: d}
	if err != nil {
		p.err = err.Error()
	}
	c.seen.Add(e.Path, e.Layer, p)
	return nil
}

// Results implements catalog.Cataloger.
func (c *Cataloger) Results(t *image.Tree, env *catalog.Env) catalog.Findings {
	var f catalog.Findings
	for _, p := range Paths {
		fi, err := t.Resolve(p)
		if err != nil {
			continue
		}
		vs := c.seen.Final(t, fi.Path)
		if len(vs) == 0 {
			continue
		}
		last := vs[len(vs)-1]
		if last.Value.err != "" {
			f.Warnings = append(f.Warnings, sbom.Warning{Path: fi.Path, Layer: last.Layer, Message: last.Value.err})
			continue
		}
		d := last.Value.d
		f.Distro = d
		f.Components = append(f.Components, sbom.Component{
			ID: "os:" + d.ID + "@" + d.VersionID, Type: sbom.TypeOS, Name: d.ID, Version: d.VersionID,
			Path: fi.Path, Layer: last.Layer,
		})
		return f
	}
	return f
}

// Parse reads os-release's shell-like KEY=value lines.
func Parse(r io.Reader) (*sbom.Distro, error) {
	vals := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: want KEY=value, got %q", n, clip(line))
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			if v[0] == '"' {
				if u, err := strconv.Unquote(v); err == nil {
					v = u
				} else {
					v = v[1 : len(v)-1]
				}
			} else {
				v = v[1 : len(v)-1]
			}
		}
		vals[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	d := &sbom.Distro{ID: vals["ID"], VersionID: vals["VERSION_ID"], Codename: vals["VERSION_CODENAME"], PrettyName: vals["PRETTY_NAME"]}
	if d.ID == "" {
		d.ID = "linux" // the default the os-release manual gives
	}
	if like := strings.Fields(vals["ID_LIKE"]); len(like) > 0 {
		d.IDLike = like
	}
	return d, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
