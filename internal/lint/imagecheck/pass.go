// Package imagecheck holds the image rules: the config (user, environment,
// ports, labels) and the files of the final filesystem (setuid, world-
// writable, file capabilities, shells, package managers, keys, .git, Go
// binaries). Its [Pass] rides the one walk over the layers, beside the
// SBOM catalogers: it records the few entries that matter while they
// stream by and decides at the end, against the final filesystem, what
// still holds. It also gathers the [Facts] the Kubernetes cross-checks
// need (the effective user, the entrypoint's file capabilities).
package imagecheck

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/lint/secret"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog"
	"github.com/redline-go/redline/internal/sbom/catalog/gobinary"
)

// Options configure a [Pass].
type Options struct {
	// AllowCaps are the file capabilities RL-IMG-005 accepts. The zero set
	// allows none; package lint passes NET_BIND_SERVICE by default.
	AllowCaps caps.Set
	// GoBinaries, when set, supplies the Go binaries another pass of the
	// same walk found (the binary components of its SBOM, with their
	// dependencies' Go and ELF details): the lint pass then reads no
	// executables itself. It is called from Finish.
	GoBinaries func() []sbom.Component
	// MaxPerRule bounds the findings of one file rule (setuid, world-
	// writable); the rest are counted in one more finding. Default 50.
	MaxPerRule int
}

// Pass is the image side of one walk.
type Pass struct {
	o    Options
	bins *gobinary.Cataloger

	setid, writable []cand
	fcaps           catalog.Versions[capAttr]
	keys            []cand
	git             map[cand]bool
	passwd          catalog.Versions[[]byte]
	group           catalog.Versions[[]byte]
	warnings        []rule.Warning
}

type cand struct {
	path  string
	layer int
	mode  int64
	kind  image.Kind
	what  string
}

type capAttr struct {
	f   caps.File
	err error
}

const maxSmallFile = 1 << 20

// NewPass returns the image rules ready to ride a walk.
func NewPass(o Options) *Pass {
	if o.MaxPerRule <= 0 {
		o.MaxPerRule = 50
	}
	p := &Pass{o: o, git: map[cand]bool{}}
	if o.GoBinaries == nil {
		p.bins = gobinary.New()
	}
	return p
}

// Visitors returns the visitors to pass to image.Walk.
func (p *Pass) Visitors() []image.Visitor {
	if p.bins != nil {
		return []image.Visitor{p, p.bins}
	}
	return []image.Visitor{p}
}

// Visit records the entries the rules care about. It runs for every entry
// of every layer, so it only looks at the header and the first bytes.
func (p *Pass) Visit(e *image.Entry) bool {
	switch e.Kind {
	case image.KindWhiteout, image.KindOpaque, image.KindSymlink:
		return false
	}
	h := e.Header
	if h.Mode&0o6000 != 0 && e.Kind != image.KindDir {
		p.setid = append(p.setid, cand{path: e.Path, layer: e.Layer, mode: h.Mode, kind: e.Kind})
	}
	if h.Mode&0o002 != 0 && h.Mode&0o1000 == 0 && e.Kind != image.KindOther {
		p.writable = append(p.writable, cand{path: e.Path, layer: e.Layer, mode: h.Mode, kind: e.Kind})
	}
	if len(h.PAXRecords) > 0 {
		if v, ok := h.PAXRecords[caps.PAXRecord]; ok {
			f, err := caps.ParseXattr([]byte(v))
			p.fcaps.Add(e.Path, e.Layer, capAttr{f, err})
		}
	}
	if i := strings.Index(e.Path, "/.git"); i >= 0 {
		if rest := e.Path[i+5:]; rest == "" || rest[0] == '/' {
			p.git[cand{path: e.Path[:i+5], layer: e.Layer}] = true
		}
	}
	if e.Kind != image.KindFile {
		return false
	}
	switch e.Path {
	case "/etc/passwd", "/etc/group":
		return e.Size <= maxSmallFile
	}
	if secret.HasPrivateKey(e.Magic) {
		p.keys = append(p.keys, cand{path: e.Path, layer: e.Layer, what: "a PEM or OpenSSH private key"})
		return false
	}
	read, byName := secret.KeyFileName(path.Base(e.Path))
	if byName && e.Size > 0 {
		p.keys = append(p.keys, cand{path: e.Path, layer: e.Layer, what: "a PKCS#12 bundle (usually a private key and its certificate)"})
	}
	return read && e.Size > int64(len(e.Magic)) && e.Size <= maxSmallFile
}

// Content reads /etc/passwd, /etc/group and possible key files.
func (p *Pass) Content(e *image.Entry, r io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(r, maxSmallFile))
	if err != nil {
		return err
	}
	switch e.Path {
	case "/etc/passwd":
		p.passwd.Add(e.Path, e.Layer, b)
		return nil
	case "/etc/group":
		p.group.Add(e.Path, e.Layer, b)
		return nil
	}
	if secret.HasPrivateKey(b) {
		p.keys = append(p.keys, cand{path: e.Path, layer: e.Layer, what: "a PEM private key"})
	}
	return nil
}

// Result is what the image rules found.
type Result struct {
	Findings []rule.Finding
	Warnings []rule.Warning
	Facts    *Facts
}

// final reports whether the final filesystem shows path as written by
// layer.
func final(t *image.Tree, path string, layer int) (image.FileInfo, bool) {
	fi, ok := t.Lookup(path)
	return fi, ok && fi.Layer == layer
}

// Finish decides the findings of img from what the walk saw.
func (p *Pass) Finish(img *image.Image, res *image.Result) *Result {
	t := res.Tree
	r := &Result{Warnings: p.warnings}
	bins := p.goBinaries(t)
	facts := p.facts(img, t, r, bins)
	r.Facts = facts
	add := func(rl *rule.Rule, loc rule.Location, object, msg, fix string) {
		f := rl.New(loc, object, msg)
		f.Fix = fix
		r.Findings = append(r.Findings, f)
	}
	cfgObj := "image config"

	// Identity.
	switch {
	case facts.UID == 0:
		why := "USER is not set"
		if facts.User != "" {
			why = fmt.Sprintf("USER is %q", facts.User)
		}
		add(&RunsAsRoot, rule.Location{}, cfgObj, why+": containers run as root (UID 0)", "end the Dockerfile with `USER 65532:65532` (a numeric non-root user)")
	case facts.UserName && facts.UID < 0:
		add(&NamedUser, rule.Location{}, cfgObj, fmt.Sprintf("USER %q names a user or group /etc/passwd and /etc/group do not hold: the container fails to start", facts.User), "write the numeric UID:GID")
	case facts.UserName:
		add(&NamedUser, rule.Location{}, cfgObj, fmt.Sprintf("USER %q is not numeric: Kubernetes runAsNonRoot cannot verify it", facts.User), fmt.Sprintf("write `USER %d:%d`", facts.UID, max(facts.GID, 0)))
	}

	// Files of the final filesystem.
	capped := func(rl *rule.Rule, cs []cand, msg func(c cand) (string, string)) {
		n := 0
		var more []cand
		for _, c := range cs {
			fi, ok := final(t, c.path, c.layer)
			if !ok || fi.Kind == image.KindDir && rl == &SetID {
				continue
			}
			if n >= p.o.MaxPerRule {
				more = append(more, c)
				continue
			}
			n++
			m, fix := msg(c)
			add(rl, rule.InImage(c.path, c.layer), "", m, fix)
		}
		if len(more) > 0 {
			add(rl, rule.InImage(more[0].path, more[0].layer), "", fmt.Sprintf("and %d more paths (%s, ...): only the first %d are listed", len(more), more[0].path, p.o.MaxPerRule), "")
		}
	}
	sortCands(p.setid)
	sortCands(p.writable)
	capped(&SetID, p.setid, func(c cand) (string, string) {
		bits := []string{}
		if c.mode&0o4000 != 0 {
			bits = append(bits, "setuid")
		}
		if c.mode&0o2000 != 0 {
			bits = append(bits, "setgid")
		}
		return fmt.Sprintf("%s is %s (mode %04o)", c.path, strings.Join(bits, " and "), c.mode&0o7777), fmt.Sprintf("`chmod a-s %s` in the layer that adds it, or leave it out", c.path)
	})
	capped(&WorldWritable, p.writable, func(c cand) (string, string) {
		what := "file"
		if c.kind == image.KindDir {
			what = "directory without the sticky bit"
		}
		return fmt.Sprintf("%s is a world-writable %s (mode %04o)", c.path, what, c.mode&0o7777), fmt.Sprintf("`chmod o-w %s`", c.path)
	})

	// File capabilities.
	capPaths := p.fcaps.Paths()
	sort.Strings(capPaths)
	for _, cp := range capPaths {
		vs := p.fcaps.Final(t, cp)
		if len(vs) == 0 {
			continue
		}
		v := vs[len(vs)-1]
		if v.Value.err != nil {
			r.Warnings = append(r.Warnings, rule.Warning{Location: rule.InImage(cp, v.Layer), Message: v.Value.err.Error()})
			continue
		}
		if extra := v.Value.f.Permitted &^ p.o.AllowCaps; extra != 0 {
			add(&FileCaps, rule.InImage(cp, v.Layer), "", fmt.Sprintf("%s carries %s: %s is not on the allow-list (%s)", cp, v.Value.f, extra, p.o.AllowCaps), fmt.Sprintf("`setcap -r %s`, or grant only what it needs", cp))
		}
	}

	// Shells and package managers, by where they live.
	if found := present(t, shells); len(found) > 0 {
		add(&Shell, rule.InImage(found[0].Path, found[0].Layer), "", "the final filesystem holds a shell: "+listFiles(found), "use a base without a shell (scratch, distroless static)")
	}
	if found := present(t, packageManagers); len(found) > 0 {
		add(&PackageManager, rule.InImage(found[0].Path, found[0].Layer), "", "the final filesystem holds a package manager: "+listFiles(found), "copy the binary into a minimal final stage")
	}

	// Environment.
	for _, kv := range envList(img) {
		k, v, _ := strings.Cut(kv, "=")
		if ok, why := secret.Env(k, v); ok {
			add(&EnvSecret, rule.Location{}, cfgObj, fmt.Sprintf("ENV %s: %s (value not shown)", k, why), "pass it at run time (a Secret, --env-file, a mounted file) and rotate it")
		}
	}

	// Keys and .git in any layer, deleted or not.
	sortCands(p.keys)
	seen := map[cand]bool{}
	for _, k := range p.keys {
		key := cand{path: k.path, layer: k.layer}
		if seen[key] {
			continue
		}
		seen[key] = true
		msg := fmt.Sprintf("%s holds %s", k.path, k.what)
		if _, ok := final(t, k.path, k.layer); !ok {
			msg += " (a later layer deletes or replaces it, but the layer still ships it)"
		}
		add(&PrivateKey, rule.InImage(k.path, k.layer), "", msg, "keep keys out of the build context; use build secrets and mounted Secrets; rotate the key")
	}
	var gits []cand
	for g := range p.git {
		gits = append(gits, g)
	}
	sortCands(gits)
	for _, g := range gits {
		msg := fmt.Sprintf("layer %d holds %s", g.layer, g.path)
		if _, ok := t.Lookup(g.path); !ok {
			msg += " (deleted later, but the layer still ships it)"
		}
		add(&GitDir, rule.InImage(g.path, g.layer), "", msg, "add .git to .dockerignore")
	}

	// Ports.
	if facts.UID > 0 {
		var low []string
		for _, port := range facts.Ports {
			if port < 1024 {
				low = append(low, strconv.Itoa(port))
			}
		}
		hasCap := facts.FileCaps != nil && facts.FileCaps.Effective && facts.FileCaps.Permitted.Has(caps.NetBindService)
		if len(low) > 0 && !hasCap {
			add(&LowPort, rule.Location{}, cfgObj, fmt.Sprintf("EXPOSE %s as UID %d without NET_BIND_SERVICE: binds on Docker ≥ 20.10 and containerd 2 (they lower ip_unprivileged_port_start), fails with EACCES on podman and CRI-O", strings.Join(low, ", "), facts.UID), "listen on a port ≥ 1024 and map the low port outside")
		}
	}

	// Go binaries.
	for _, c := range bins {
		for _, f := range BinaryFindings(c) {
			f.Location = rule.InImage(c.Path, c.Layer)
			r.Findings = append(r.Findings, f)
		}
	}

	// What dev.redline labels promise.
	r.Findings = append(r.Findings, promises(facts)...)
	return r
}

func sortCands(cs []cand) {
	slices.SortFunc(cs, func(a, b cand) int {
		if a.path != b.path {
			return strings.Compare(a.path, b.path)
		}
		return a.layer - b.layer
	})
}

// goBinaries returns the Go binaries of the final filesystem.
func (p *Pass) goBinaries(t *image.Tree) []sbom.Component {
	var comps []sbom.Component
	if p.o.GoBinaries != nil {
		comps = p.o.GoBinaries()
	} else {
		comps = p.bins.Results(t, &catalog.Env{}).Components
	}
	var out []sbom.Component
	for _, c := range comps {
		if c.Type == sbom.TypeBinary && c.Go != nil && !c.Go.NoBuildInfo {
			out = append(out, c)
		}
	}
	return out
}

// BinaryFindings applies the Go build rules to one binary component (from
// an image, or a single file). Locations are left to the caller.
func BinaryFindings(c sbom.Component) []rule.Finding {
	var fs []rule.Finding
	g := c.Go
	if g == nil {
		return nil
	}
	obj := c.Path
	if c.Name != "" && c.Name != path.Base(c.Path) {
		obj = c.Path + " (" + c.Name + ")"
	}
	if g.Get("CGO_ENABLED") == "1" {
		f := GoCgo.New(rule.Location{}, obj, fmt.Sprintf("%s was built with CGO_ENABLED=1", c.Path))
		if c.ELF != nil && !c.ELF.Static {
			f.Message += " and links libc dynamically"
		}
		f.Fix = "build with CGO_ENABLED=0"
		fs = append(fs, f)
	}
	if c.ELF != nil && !c.ELF.Stripped {
		f := GoNotStripped.New(rule.Location{}, obj, fmt.Sprintf("%s has a symbol table", c.Path))
		f.Fix = `build with -ldflags="-s -w"`
		fs = append(fs, f)
	}
	if g.Get("-trimpath") != "true" {
		f := GoNoTrimpath.New(rule.Location{}, obj, fmt.Sprintf("%s was built without -trimpath", c.Path))
		f.Fix = "build with -trimpath"
		fs = append(fs, f)
	}
	var weak []string
	for _, v := range g.GODEBUG {
		if v.Insecure {
			weak = append(weak, v.Name+"="+v.Value)
		}
	}
	if len(weak) > 0 {
		msg := fmt.Sprintf("%s runs with %s, weaker than %s's defaults", c.Path, strings.Join(weak, ","), g.GoVersion)
		if g.GoLine != "" {
			msg += fmt.Sprintf(" (its module's go line is %s or older)", g.GoLine)
		}
		f := GoInsecureGODEBUG.New(rule.Location{}, obj, msg)
		f.Fix = "raise the go line in go.mod, or pin the setting with a godebug line to waive it on purpose"
		fs = append(fs, f)
	}
	return fs
}

var shells = []string{"/bin/sh", "/bin/bash", "/bin/ash", "/bin/dash", "/bin/zsh", "/bin/ksh", "/bin/busybox",
	"/usr/bin/sh", "/usr/bin/bash", "/usr/bin/dash", "/usr/bin/zsh", "/usr/bin/ash", "/usr/bin/busybox"}

var packageManagers = []string{"/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/dpkg", "/sbin/apk", "/usr/sbin/apk", "/usr/bin/apk",
	"/usr/bin/yum", "/usr/bin/dnf", "/usr/bin/microdnf", "/usr/bin/rpm", "/bin/rpm", "/usr/bin/pip", "/usr/bin/pip3", "/usr/local/bin/pip", "/usr/local/bin/pip3"}

// present returns the files of names that the final filesystem holds
// (following symlinks), each resolved file once.
func present(t *image.Tree, names []string) []image.FileInfo {
	var out []image.FileInfo
	seen := map[string]bool{}
	for _, n := range names {
		fi, err := t.Resolve(n)
		if err != nil || fi.Kind == image.KindDir || seen[fi.Path] {
			continue
		}
		seen[fi.Path] = true
		fi.Path = n
		out = append(out, fi)
	}
	return out
}

func listFiles(fs []image.FileInfo) string {
	var ps []string
	for _, f := range fs {
		ps = append(ps, f.Path)
	}
	return strings.Join(ps, ", ")
}

func envList(img *image.Image) []string {
	if img.Config == nil {
		return nil
	}
	return img.Config.Config.Env
}

// passwdEntry is one /etc/passwd line.
type passwdEntry struct {
	name     string
	uid, gid int
}

func parsePasswd(b []byte) []passwdEntry {
	var out []passwdEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, passwdEntry{f[0], uid, gid})
	}
	return out
}

func parseGroup(b []byte) map[string]int {
	out := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 3 {
			continue
		}
		if gid, err := strconv.Atoi(f[2]); err == nil {
			out[f[0]] = gid
		}
	}
	return out
}

// Shells returns the shells of the final filesystem (what RL-IMG-006
// reports), by the path a user would type.
func Shells(t *image.Tree) []string {
	var out []string
	for _, f := range present(t, shells) {
		out = append(out, f.Path)
	}
	return out
}
