package kube

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/redline-go/redline/internal/lint/edit"
	"github.com/redline-go/redline/internal/lint/imagecheck"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/lint/yamlx"
)

// HardenOptions say what harden may write beyond the fixed values.
type HardenOptions struct {
	// UID and GID are written as runAsUser and runAsGroup where those are
	// missing or 0; -1 (or 0) lets harden take the image's (Image), and
	// leave them alone when it has none.
	UID, GID int
	// Image returns the facts of a container's image (--image).
	Image func(c *Container) *imagecheck.Facts
}

// ErrJSON reports a JSON manifest: harden splices YAML text.
var ErrJSON = errors.New("harden rewrites YAML manifests; this one is JSON (convert it, or fix it by hand)")

// pair is a key and its value to write: a scalar (or flow text) or nested
// pairs.
type pair struct {
	key, val string
	kids     []pair
	rule     string
}

// Harden returns the edits that clear the fixable findings of f that are
// not suppressed. It only adds keys and replaces the values of the keys
// it fixes; every other byte stays.
func Harden(f *File, findings []rule.Finding, o HardenOptions) ([]edit.Edit, error) {
	if t := bytes.TrimSpace(f.Src); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return nil, ErrJSON
	}
	// Findings are matched to objects by name and by the document their
	// line is in (two documents may hold objects of the same name).
	type key struct {
		doc    int
		object string
	}
	docOf := func(line int) int {
		for _, d := range f.Docs {
			if line >= d.StartLine && line <= d.EndLine {
				return d.Index
			}
		}
		return -1
	}
	want := map[key]map[string]bool{}
	for _, fd := range findings {
		if fd.Suppressed != nil || fd.File != f.Name {
			continue
		}
		k := key{docOf(fd.Line), fd.Object}
		if want[k] == nil {
			want[k] = map[string]bool{}
		}
		want[k][fd.Rule] = true
	}
	h := &hardener{f: f, o: o, podFSGroup: map[*Pod]bool{}}
	for _, obj := range f.Objects {
		p := obj.Pod
		if p == nil {
			continue
		}
		for _, c := range p.Containers {
			h.container(c, want[key{obj.Doc.Index, c.Object()}])
		}
		if w := want[key{obj.Doc.Index, obj.String()}]; w[Automount.ID] && p.ServiceAccount == "" {
			h.set(obj.Doc, p.Spec, []pair{{key: "automountServiceAccountToken", val: "false", rule: Automount.ID}})
		}
	}
	return h.edits, nil
}

type hardener struct {
	f          *File
	o          HardenOptions
	edits      []edit.Edit
	podFSGroup map[*Pod]bool
}

// podSC writes pairs into the pod's securityContext.
func (h *hardener) podSC(p *Pod, ps []pair) {
	doc := p.Object.Doc
	k, v := yamlx.Get(p.Spec, "securityContext")
	switch {
	case p.SC != nil:
		h.set(doc, p.SC, ps)
	case k != nil:
		h.fillNull(doc, k, v, ps)
	default:
		h.insert(doc, p.Spec, []pair{{key: "securityContext", kids: ps, rule: ps[0].rule}})
	}
}

func (h *hardener) container(c *Container, w map[string]bool) {
	if len(w) == 0 {
		return
	}
	var img *imagecheck.Facts
	if h.o.Image != nil {
		img = h.o.Image(c)
	}
	e := c.Eff
	var ps []pair
	uid, gid := h.o.UID, h.o.GID
	if uid <= 0 && img != nil && img.UID > 0 {
		uid = img.UID
	}
	// runAsNonRoot with an explicit runAsUser: 0 would stop the pod from
	// starting; without a user to write instead, both are left to a person.
	rootKept := e.RunAsUser != nil && e.RunAsUser.V == 0 && uid <= 0
	if w[RunAsNonRoot.ID] && !rootKept {
		ps = append(ps, pair{key: "runAsNonRoot", val: "true", rule: RunAsNonRoot.ID})
	}
	setUser := false
	if (w[RunAsUser.ID] || w[NamedUserNonRoot.ID] || w[RootImage.ID]) && uid > 0 {
		ps = append(ps, pair{key: "runAsUser", val: strconv.Itoa(uid), rule: RunAsUser.ID})
		setUser = true
	}
	if gid <= 0 && img != nil {
		u := uid
		if !setUser && e.RunAsUser != nil {
			u = int(e.RunAsUser.V)
		}
		if g, ok := img.PrimaryGID[u]; ok && g > 0 {
			gid = g
		} else if img.GID > 0 && u == img.UID {
			gid = img.GID
		}
	}
	if (w[RunAsGroup.ID] || w[GID0.ID] || setUser && e.RunAsGroup == nil) && gid > 0 {
		ps = append(ps, pair{key: "runAsGroup", val: strconv.Itoa(gid), rule: RunAsGroup.ID})
	}
	if w[PrivEsc.ID] {
		ps = append(ps, pair{key: "allowPrivilegeEscalation", val: "false", rule: PrivEsc.ID})
	}
	if w[Privileged.ID] {
		ps = append(ps, pair{key: "privileged", val: "false", rule: Privileged.ID})
	}
	if w[ReadOnlyRoot.ID] {
		ps = append(ps, pair{key: "readOnlyRootFilesystem", val: "true", rule: ReadOnlyRoot.ID})
	}
	if w[DropAll.ID] {
		ps = append(ps, pair{key: "capabilities", kids: []pair{{key: "drop", val: `["ALL"]`, rule: DropAll.ID}}, rule: DropAll.ID})
	}
	if w[Seccomp.ID] {
		ps = append(ps, pair{key: "seccompProfile", kids: []pair{{key: "type", val: "RuntimeDefault", rule: Seccomp.ID}}, rule: Seccomp.ID})
	}
	if w[FSGroup.ID] {
		g := gid
		if g <= 0 && e.RunAsGroup != nil {
			g = int(e.RunAsGroup.V)
		}
		if g > 0 && !h.podFSGroup[c.Pod] {
			h.podFSGroup[c.Pod] = true
			h.podSC(c.Pod, []pair{{key: "fsGroup", val: strconv.Itoa(g), rule: FSGroup.ID}})
		}
	}
	if len(ps) == 0 {
		return
	}
	doc := c.Pod.Object.Doc
	switch {
	case c.SC != nil:
		h.set(doc, c.SC, ps)
	case c.SCKey != nil:
		// securityContext: with a null value.
		h.fillNull(doc, c.SCKey, yamlx.Value(c.Node, "securityContext"), ps)
	default:
		h.insert(doc, c.Node, []pair{{key: "securityContext", kids: ps}})
	}
}

// set writes pairs into mapping m: replacing scalar values that differ,
// descending into nested mappings, and adding missing keys at the end.
func (h *hardener) set(doc *yamlx.Doc, m *yaml.Node, ps []pair) {
	var missing []pair
	for _, p := range ps {
		k, v := yamlx.Get(m, p.key)
		switch {
		case k == nil:
			missing = append(missing, p)
		case yamlx.IsNull(v):
			h.fillNull(doc, k, v, pairOrKids(p))
		case p.kids != nil && v.Kind == yaml.MappingNode:
			h.set(doc, v, p.kids)
		case p.key == "drop" && v.Kind == yaml.SequenceNode:
			h.addAll(v)
		case p.kids == nil && v.Kind == yaml.ScalarNode && v.Value != p.val:
			h.edits = append(h.edits, edit.Edit{Start: h.f.Offset(v), End: h.f.ScalarEnd(v), Text: p.val, Rule: p.rule})
		}
	}
	if len(missing) > 0 {
		h.insert(doc, m, missing)
	}
}

func pairOrKids(p pair) []pair {
	if p.kids != nil {
		return p.kids
	}
	return []pair{p}
}

// fillNull gives a key whose value is null (written or empty) a value.
func (h *hardener) fillNull(doc *yamlx.Doc, k, v *yaml.Node, ps []pair) {
	text := ps[0].val
	if len(ps) > 1 || ps[0].kids != nil || ps[0].key != k.Value {
		text = "{" + renderFlow(ps) + "}"
	}
	if v != nil && v.Line > 0 && h.f.ScalarEnd(v) > h.f.Offset(v) && v.Line == k.Line {
		h.edits = append(h.edits, edit.Edit{Start: h.f.Offset(v), End: h.f.ScalarEnd(v), Text: text, Rule: ps[0].rule})
		return
	}
	// Nothing written after the colon: add the value there.
	at := h.f.ScalarEnd(k)
	src := h.f.Src
	for at < len(src) && src[at] != ':' && src[at] != '\n' {
		at++
	}
	if at < len(src) && src[at] == ':' {
		at++
	}
	h.edits = append(h.edits, edit.Edit{Start: at, End: at, Text: " " + text, Rule: ps[0].rule})
}

// addAll puts ALL first in a drop list.
func (h *hardener) addAll(seq *yaml.Node) {
	if seq.Style&yaml.FlowStyle != 0 {
		at := h.f.Offset(seq) + 1
		text := `"ALL", `
		if len(seq.Content) == 0 {
			text = `"ALL"`
		}
		h.edits = append(h.edits, edit.Edit{Start: at, End: at, Text: text, Rule: DropAll.ID})
		return
	}
	first := seq.Content[0]
	// The dash of the first item sits before its node.
	l := first.Line
	line := h.f.Line(l)
	dash := strings.Index(line, "-")
	if dash < 0 {
		return
	}
	at := h.f.LineStart(l)
	h.edits = append(h.edits, edit.Edit{Start: at, End: at, Text: strings.Repeat(" ", dash) + "- ALL" + h.f.Newline(), Rule: DropAll.ID})
}

// insert adds pairs at the end of mapping m, in its style.
func (h *hardener) insert(doc *yamlx.Doc, m *yaml.Node, ps []pair) {
	if m.Style&yaml.FlowStyle != 0 {
		end := h.f.FlowEnd(m) - 1 // the closing brace
		text := renderFlow(ps)
		if len(m.Content) > 0 {
			text = ", " + text
		}
		h.edits = append(h.edits, edit.Edit{Start: end, End: end, Text: text, Rule: ps[0].rule})
		return
	}
	indent := m.Column - 1
	if len(m.Content) > 0 {
		indent = m.Content[0].Column - 1
	}
	nl := h.f.Newline()
	var b strings.Builder
	renderBlock(&b, ps, indent, h.step(doc), nl)
	e := h.f.EndLine(doc, m)
	at := h.f.LineEnd(e)
	text := b.String()
	if at == len(h.f.Src) && len(h.f.Src) > 0 && h.f.Src[len(h.f.Src)-1] != '\n' {
		text = nl + text
	}
	h.edits = append(h.edits, edit.Edit{Start: at, End: at, Text: text, Rule: ps[0].rule})
}

// step is the document's indentation unit: the first nested block
// mapping's offset from its key, else 2.
func (h *hardener) step(doc *yamlx.Doc) int {
	var find func(n *yaml.Node) int
	find = func(n *yaml.Node) int {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && v.Line > k.Line && v.Column > k.Column {
					return v.Column - k.Column
				}
				if s := find(v); s > 0 {
					return s
				}
			}
		}
		for _, c := range n.Content {
			if n.Kind != yaml.MappingNode {
				if s := find(c); s > 0 {
					return s
				}
			}
		}
		return 0
	}
	if s := find(doc.Root); s > 0 {
		return s
	}
	return 2
}

func renderBlock(b *strings.Builder, ps []pair, indent, step int, nl string) {
	pad := strings.Repeat(" ", indent)
	for _, p := range ps {
		if p.kids != nil {
			fmt.Fprintf(b, "%s%s:%s", pad, p.key, nl)
			renderBlock(b, p.kids, indent+step, step, nl)
			continue
		}
		fmt.Fprintf(b, "%s%s: %s%s", pad, p.key, p.val, nl)
	}
}

func renderFlow(ps []pair) string {
	var parts []string
	for _, p := range ps {
		if p.kids != nil {
			parts = append(parts, p.key+": {"+renderFlow(p.kids)+"}")
			continue
		}
		parts = append(parts, p.key+": "+p.val)
	}
	return strings.Join(parts, ", ")
}
