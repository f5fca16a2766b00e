// Package policy holds a project's red lines: the limits `redline check`
// holds an image against. A policy is read from redline.yaml (validated
// against an embedded JSON schema, errors with line and column), merged
// over documented defaults that encode redline's three promises (slim,
// CVE-zero, least privilege), and evaluated against what one check
// measured ([Evaluate]) into a verdict.
package policy

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/layers"
)

// FileName is the policy file looked up next to a package and in the
// working directory.
const FileName = "redline.yaml"

// Schema is the JSON schema of the policy file (docs/policy.md).
//
//go:embed schema.json
var Schema []byte

// MaxFileBytes bounds a policy file.
const MaxFileBytes = 1 << 20

// Level is how a crossed line counts.
type Level string

// Levels.
const (
	Error   Level = "error"
	Warning Level = "warning"
	Off     Level = "off"
)

// Line names, stable: they key waivers, report.json and the summary.
const (
	LineSize            = "size"
	LineEfficiency      = "efficiency"
	LineSlimming        = "slimming"
	LineVulnerabilities = "vulnerabilities"
	LineLint            = "lint"
	LineUser            = "user"
	LineCapabilities    = "capabilities"
	LineShell           = "shell"
	LineReproducible    = "reproducible"
	LineData            = "data"
	LineGODEBUG         = "godebug"
	LineToolchain       = "toolchain"
	LineWaivers         = "waivers"
)

// LineTitles name the lines for people (reports, the HTML page).
var LineTitles = map[string]string{
	LineSize:            "Image size",
	LineEfficiency:      "Layer efficiency",
	LineSlimming:        "Slimming vs. baseline",
	LineVulnerabilities: "Vulnerabilities",
	LineLint:            "Lint findings",
	LineUser:            "Non-root user",
	LineCapabilities:    "Capabilities",
	LineShell:           "No shell",
	LineReproducible:    "Reproducible build",
	LineData:            "Vulnerability data age",
	LineGODEBUG:         "GODEBUG defaults",
	LineToolchain:       "Go toolchain",
	LineWaivers:         "Waivers",
}

// LineNames lists the lines in the order reports show them.
var LineNames = []string{LineSize, LineEfficiency, LineSlimming, LineVulnerabilities, LineLint, LineUser, LineCapabilities, LineShell, LineReproducible, LineData, LineGODEBUG, LineToolchain}

// Policy is a parsed and defaulted policy.
type Policy struct {
	// Path is the file it came from; empty for the defaults alone.
	Path    string
	Build   Build
	Lines   Lines
	Waivers []Waiver
}

// Build is how check builds a package target.
type Build struct {
	Toolchain string
	Caps      []caps.Cap
	Ports     []string
	User      string
	TZData    bool
	// Baseline is an image reference (relative paths resolved against
	// the policy's directory when they exist there).
	Baseline string
	// Manifests are files or directories linted with the image, resolved
	// against the policy's directory.
	Manifests []string
}

// Lines are the red lines with their limits.
type Lines struct {
	Size            SizeLine
	Efficiency      MinLine
	Slimming        MinLine
	Vulnerabilities VulnLine
	Lint            LintLine
	User            Common
	Capabilities    CapsLine
	Shell           Common
	Reproducible    Common
	Data            DataLine
	GODEBUG         Common
	Toolchain       Common
}

// Common is what every line has.
type Common struct{ Level Level }

// SizeLine caps the compressed image: Binary set means "the entrypoint
// binary's size times Factor plus Add"; otherwise Bytes is absolute.
type SizeLine struct {
	Common
	Expr   string
	Binary bool
	Factor float64
	Add    int64
	Bytes  int64
}

// Limit returns the ceiling for a binary of size bin.
func (s SizeLine) Limit(bin int64) int64 {
	if !s.Binary {
		return s.Bytes
	}
	return int64(float64(bin)*s.Factor) + s.Add
}

// MinLine is a floor (efficiency 0..1, slimming percent).
type MinLine struct {
	Common
	Min float64
}

// VulnLine gates findings by reachability and severity.
type VulnLine struct {
	Common
	// Reachability is called, imported, required or any.
	Reachability string
	// Severity is low, medium, high or critical.
	Severity              string
	IgnoreUnknownSeverity bool
}

// LintLine gates lint findings by severity.
type LintLine struct {
	Common
	Severity string
}

// CapsLine is the capability allow-list.
type CapsLine struct {
	Common
	Allow []caps.Cap
}

// DataLine bounds the age of the vulnerability data.
type DataLine struct {
	Common
	MaxAgeDays int
}

// Waiver accepts a crossed line (or one finding of it) until Expires.
type Waiver struct {
	Line   string
	ID     string
	Reason string
	// Expires is the last day the waiver holds (through 23:59:59 UTC).
	Expires time.Time
	// Pos is where the waiver is written, "redline.yaml:12".
	Pos string
}

// Expired reports whether the waiver no longer holds at now.
func (w Waiver) Expired(now time.Time) bool { return !now.Before(w.Expires.Add(24 * time.Hour)) }

// Default returns the default red lines (docs/policy.md).
func Default() *Policy {
	return &Policy{Lines: Lines{
		Size:            SizeLine{Common: Common{Error}, Expr: "binary+1MiB", Binary: true, Factor: 1, Add: 1 << 20},
		Efficiency:      MinLine{Common: Common{Error}, Min: 0.95},
		Slimming:        MinLine{Common: Common{Error}, Min: 80},
		Vulnerabilities: VulnLine{Common: Common{Error}, Reachability: "called", Severity: "low"},
		Lint:            LintLine{Common: Common{Error}, Severity: "high"},
		User:            Common{Error},
		Capabilities:    CapsLine{Common: Common{Error}, Allow: []caps.Cap{caps.NetBindService}},
		Shell:           Common{Error},
		Reproducible:    Common{Error},
		Data:            DataLine{Common: Common{Error}, MaxAgeDays: 7},
		GODEBUG:         Common{Error},
		Toolchain:       Common{Error},
	}}
}

// Level returns the level of the named line.
func (p *Policy) Level(line string) Level {
	switch line {
	case LineSize:
		return p.Lines.Size.Level
	case LineEfficiency:
		return p.Lines.Efficiency.Level
	case LineSlimming:
		return p.Lines.Slimming.Level
	case LineVulnerabilities:
		return p.Lines.Vulnerabilities.Level
	case LineLint:
		return p.Lines.Lint.Level
	case LineUser:
		return p.Lines.User.Level
	case LineCapabilities:
		return p.Lines.Capabilities.Level
	case LineShell:
		return p.Lines.Shell.Level
	case LineReproducible:
		return p.Lines.Reproducible.Level
	case LineData:
		return p.Lines.Data.Level
	case LineGODEBUG:
		return p.Lines.GODEBUG.Level
	case LineToolchain:
		return p.Lines.Toolchain.Level
	case LineWaivers:
		return Error
	}
	return Off
}

// Find looks for the policy file: explicit (when non-empty, it must
// exist), else dir/redline.yaml, else ./redline.yaml. It returns "" when
// there is none (the defaults apply).
func Find(explicit, dir string) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("--policy: %w", err)
		}
		return explicit, nil
	}
	for _, d := range []string{dir, "."} {
		if d == "" {
			continue
		}
		p := filepath.Join(d, FileName)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", nil
}

// Load reads and validates a policy file; "" gives the defaults.
func Load(path string) (*Policy, error) {
	if path == "" {
		return Default(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileBytes+1)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if buf.Len() > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a policy file", path, MaxFileBytes)
	}
	p, err := Parse(path, buf.Bytes())
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	for i, m := range p.Build.Manifests {
		if !filepath.IsAbs(m) {
			p.Build.Manifests[i] = filepath.Join(dir, m)
		}
	}
	if b := p.Build.Baseline; b != "" && !strings.Contains(b, ":") {
		if _, err := os.Stat(filepath.Join(dir, b)); err == nil {
			p.Build.Baseline = filepath.Join(dir, b)
		}
	}
	return p, nil
}

// ErrInvalid marks a policy file that does not parse or validate.
var ErrInvalid = errors.New("invalid policy")

// PosError is one problem at a position of the file.
type PosError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *PosError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors are all problems of one file.
type Errors []*PosError

func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

func (es Errors) Is(target error) bool { return target == ErrInvalid }

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	const id = "https://redline.dev/schema/policy-v1.json"
	if err := c.AddResource(id, doc); err != nil {
		return nil, err
	}
	return c.Compile(id)
})

// Parse validates src (YAML; JSON is YAML too) against the schema and
// returns the policy over the defaults. Every error names file, line and
// column.
func Parse(name string, src []byte) (*Policy, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return Default(), nil // an empty file: the defaults
		}
		return nil, Errors{yamlError(name, err)}
	}
	doc := root.Content[0]
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		return Default(), nil
	}
	inst, err := toJSON(doc)
	if err != nil {
		return nil, Errors{{File: name, Line: err.node.Line, Col: err.node.Column, Msg: err.msg}}
	}
	s, cerr := compiled()
	if cerr != nil {
		return nil, fmt.Errorf("policy schema: %w", cerr) // a bug, not bad input
	}
	if verr := s.Validate(inst); verr != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(verr, &ve) {
			return nil, Errors{{File: name, Msg: verr.Error()}}
		}
		return nil, schemaErrors(name, doc, ve)
	}
	p := Default()
	p.Path = name
	if es := p.apply(name, doc); len(es) > 0 {
		return nil, es
	}
	return p, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(name string, err error) *PosError {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &PosError{File: name, Line: n, Col: 1, Msg: m[2]}
	}
	return &PosError{File: name, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

type nodeError struct {
	node *yaml.Node
	msg  string
}

// toJSON turns a YAML node into the values JSON decoding would give, so
// the schema sees what a JSON file with the same content would be.
func toJSON(n *yaml.Node) (any, *nodeError) {
	switch n.Kind {
	case yaml.AliasNode:
		return nil, &nodeError{n, "aliases are not allowed in a policy file"}
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, &nodeError{k, "a key must be a plain string"}
			}
			if k.Value == "<<" {
				return nil, &nodeError{k, "merge keys are not allowed in a policy file"}
			}
			if _, dup := m[k.Value]; dup {
				return nil, &nodeError{k, fmt.Sprintf("key %q appears twice", k.Value)}
			}
			v, err := toJSON(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		a := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := toJSON(c)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		return a, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, &nodeError{n, err.Error()}
			}
			return b, nil
		case "!!int", "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, &nodeError{n, err.Error()}
			}
			if f == float64(int64(f)) && n.ShortTag() == "!!int" {
				return json.Number(strconv.FormatInt(int64(f), 10)), nil
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
		case "!!timestamp":
			return n.Value, nil // dates are strings in the schema
		default:
			return n.Value, nil
		}
	}
	return nil, &nodeError{n, "unexpected YAML node"}
}

// schemaErrors turns a validation error into positioned messages, one
// per failing leaf, each at the key or value it is about.
func schemaErrors(name string, doc *yaml.Node, ve *jsonschema.ValidationError) Errors {
	var leaves []*jsonschema.ValidationError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	var out Errors
	seen := map[string]bool{}
	add := func(n *yaml.Node, msg string) {
		pe := &PosError{File: name, Line: n.Line, Col: n.Column, Msg: msg}
		if !seen[pe.Error()] {
			seen[pe.Error()] = true
			out = append(out, pe)
		}
	}
	// A key whose value fails its own schema is also "unevaluated" to
	// unevaluatedProperties; report only the real fault.
	faulty := map[string]bool{}
	for _, l := range leaves {
		if _, ok := l.ErrorKind.(*kind.FalseSchema); !ok {
			for i := 1; i <= len(l.InstanceLocation); i++ {
				faulty[strings.Join(l.InstanceLocation[:i], "\x00")] = true
			}
		}
	}
	for _, l := range leaves {
		if _, ok := l.ErrorKind.(*kind.FalseSchema); ok && faulty[strings.Join(l.InstanceLocation, "\x00")] {
			continue
		}
		where := strings.Join(l.InstanceLocation, ".")
		switch k := l.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			parent := locate(doc, l.InstanceLocation, false)
			for _, p := range k.Properties {
				add(keyNode(parent, p), fmt.Sprintf("unknown key %q%s (see docs/policy.md)", p, in(where)))
			}
			continue
		case *kind.FalseSchema:
			// unevaluatedProperties: false — the location is the key.
			add(locate(doc, l.InstanceLocation, true), fmt.Sprintf("unknown key %q%s (see docs/policy.md)", l.InstanceLocation[len(l.InstanceLocation)-1], in(strings.Join(l.InstanceLocation[:len(l.InstanceLocation)-1], "."))))
			continue
		}
		msg := l.ErrorKind.LocalizedString(printer)
		if where != "" {
			msg = where + ": " + msg
		}
		add(locate(doc, l.InstanceLocation, false), msg)
	}
	slices.SortStableFunc(out, func(a, b *PosError) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return out
}

var printer = message.NewPrinter(language.English)

func in(where string) string {
	if where == "" {
		return ""
	}
	return " in " + where
}

// locate finds the node at a JSON pointer (the key's node for the last
// element when key is set); it stops at the deepest node that exists.
func locate(n *yaml.Node, path []string, key bool) *yaml.Node {
	for i, seg := range path {
		switch n.Kind {
		case yaml.MappingNode:
			k := keyNode(n, seg)
			if k == n {
				return n
			}
			if key && i == len(path)-1 {
				return k
			}
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j] == k {
					n = n.Content[j+1]
					break
				}
			}
		case yaml.SequenceNode:
			j, err := strconv.Atoi(seg)
			if err != nil || j < 0 || j >= len(n.Content) {
				return n
			}
			n = n.Content[j]
		default:
			return n
		}
	}
	return n
}

// keyNode returns the key node named k of mapping m, or m itself.
func keyNode(m *yaml.Node, k string) *yaml.Node {
	if m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				return m.Content[i]
			}
		}
	}
	return m
}

// apply decodes the validated document over the defaults. The schema has
// checked shapes; what remains are meanings (sizes, dates, capability
// names).
func (p *Policy) apply(name string, doc *yaml.Node) Errors {
	var es Errors
	bad := func(n *yaml.Node, format string, args ...any) {
		es = append(es, &PosError{File: name, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)})
	}
	get := func(m *yaml.Node, key string) *yaml.Node {
		if m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		return nil
	}
	str := func(n *yaml.Node) string {
		if n == nil {
			return ""
		}
		return n.Value
	}
	capList := func(n *yaml.Node) []caps.Cap {
		if n == nil {
			return nil
		}
		out := []caps.Cap{}
		for _, c := range n.Content {
			v, err := caps.Parse(c.Value)
			if err != nil {
				bad(c, "%v", err)
				continue
			}
			out = append(out, v)
		}
		return out
	}
	if b := get(doc, "build"); b != nil {
		p.Build.Toolchain = str(get(b, "toolchain"))
		p.Build.Caps = capList(get(b, "caps"))
		for _, n := range seq(get(b, "ports")) {
			p.Build.Ports = append(p.Build.Ports, n.Value)
		}
		p.Build.User = str(get(b, "user"))
		p.Build.TZData = str(get(b, "tzdata")) == "true"
		p.Build.Baseline = str(get(b, "baseline"))
		for _, n := range seq(get(b, "manifests")) {
			p.Build.Manifests = append(p.Build.Manifests, n.Value)
		}
	}
	lines := get(doc, "lines")
	level := func(c *Common, line string) *yaml.Node {
		n := get(lines, line)
		if l := get(n, "level"); l != nil {
			c.Level = Level(l.Value)
		}
		return n
	}
	l := &p.Lines
	if n := level(&l.Size.Common, LineSize); n != nil {
		if m := get(n, "max"); m != nil {
			s, err := ParseSize(m.Value)
			if err != nil {
				bad(m, "lines.size.max: %v", err)
			} else {
				s.Common = l.Size.Common
				l.Size = s
			}
		}
	}
	if n := level(&l.Efficiency.Common, LineEfficiency); n != nil {
		if m := get(n, "min"); m != nil {
			l.Efficiency.Min, _ = strconv.ParseFloat(m.Value, 64)
		}
	}
	if n := level(&l.Slimming.Common, LineSlimming); n != nil {
		if m := get(n, "min"); m != nil {
			l.Slimming.Min, _ = strconv.ParseFloat(m.Value, 64)
		}
	}
	if n := level(&l.Vulnerabilities.Common, LineVulnerabilities); n != nil {
		if m := get(n, "reachability"); m != nil {
			l.Vulnerabilities.Reachability = m.Value
		}
		if m := get(n, "severity"); m != nil {
			l.Vulnerabilities.Severity = m.Value
		}
		l.Vulnerabilities.IgnoreUnknownSeverity = str(get(n, "ignoreUnknownSeverity")) == "true"
	}
	if n := level(&l.Lint.Common, LineLint); n != nil {
		if m := get(n, "severity"); m != nil {
			l.Lint.Severity = m.Value
		}
	}
	level(&l.User, LineUser)
	if n := level(&l.Capabilities.Common, LineCapabilities); n != nil {
		if m := get(n, "allow"); m != nil {
			l.Capabilities.Allow = capList(m)
		}
	}
	level(&l.Shell, LineShell)
	level(&l.Reproducible, LineReproducible)
	if n := level(&l.Data.Common, LineData); n != nil {
		if m := get(n, "maxAge"); m != nil {
			d, err := strconv.Atoi(strings.TrimSuffix(m.Value, "d"))
			if err != nil {
				bad(m, "lines.data.maxAge %q: want days, e.g. 7d", m.Value)
			}
			l.Data.MaxAgeDays = d
		}
	}
	level(&l.GODEBUG, LineGODEBUG)
	level(&l.Toolchain, LineToolchain)
	for _, w := range seq(get(doc, "waivers")) {
		exp := get(w, "expires")
		t, err := time.Parse(time.DateOnly, exp.Value)
		if err != nil {
			bad(exp, "waivers: expires %q: not a date (YYYY-MM-DD)", exp.Value)
			continue
		}
		p.Waivers = append(p.Waivers, Waiver{
			Line: str(get(w, "line")), ID: str(get(w, "id")), Reason: str(get(w, "reason")),
			Expires: t, Pos: fmt.Sprintf("%s:%d", name, w.Line),
		})
	}
	return es
}

func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

var sizeRE = regexp.MustCompile(`^([0-9.]+)\s*([KMG]i?B|B)?$`)

// ParseSize reads a size ceiling: "binary", "binary+1MiB", "binary*1.5",
// "20MiB", "500KB". KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024.
func ParseSize(s string) (SizeLine, error) {
	s = strings.TrimSpace(s)
	out := SizeLine{Expr: s, Factor: 1}
	rest, isBin := strings.CutPrefix(s, "binary")
	if isBin {
		out.Binary = true
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return out, nil
		}
		op := rest[0]
		rest = strings.TrimSpace(rest[1:])
		switch op {
		case '+':
			n, err := bytesOf(rest)
			if err != nil {
				return out, err
			}
			out.Add = n
		case '*':
			f, err := strconv.ParseFloat(rest, 64)
			if err != nil || f <= 0 {
				return out, fmt.Errorf("%q: want binary*FACTOR with a positive factor", s)
			}
			out.Factor = f
		default:
			return out, fmt.Errorf("%q: want binary+SIZE or binary*FACTOR", s)
		}
		return out, nil
	}
	n, err := bytesOf(s)
	if err != nil {
		return out, err
	}
	out.Bytes = n
	return out, nil
}

// bytesOf reads a size in the forms the schema allows (1MiB, 500KB,
// 2048B) with the units layers.ParseBytes gives them.
func bytesOf(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if !sizeRE.MatchString(s) {
		return 0, fmt.Errorf("%q: want a size such as 1MiB, 500KB or 2048B", s)
	}
	return layers.ParseBytes(s)
}
