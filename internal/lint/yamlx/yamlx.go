// Package yamlx reads multi-document YAML (Kubernetes manifests, Helm
// output, CI files) into go.yaml.in/yaml/v3 node trees whose lines are
// those of the file, and answers the questions lint and harden ask of
// them: a key's value, where a node ends, the bytes of a scalar or a flow
// collection, and which lines an inline directive covers.
//
// Documents are split on "---" lines before parsing, so one broken
// document is reported with its line and the others are still read.
package yamlx

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// DefaultMaxDocBytes bounds one document; larger ones are skipped with an
// error (yaml.v3 builds the whole tree in memory).
const DefaultMaxDocBytes = 8 << 20

// File is a parsed YAML file.
type File struct {
	Name string
	Src  []byte
	Docs []*Doc
	// Errors are the documents that could not be parsed.
	Errors []Error

	lineStarts []int
}

// Error is a document that could not be parsed. yaml.v3 names the line
// where the enclosing block starts when it has one, not always the line
// of the fault itself.
type Error struct {
	Line int
	Msg  string
	// TooLarge is set for documents over the size limit.
	TooLarge bool
}

// Doc is one document of a file.
type Doc struct {
	// Index counts documents from 0, empty ones included.
	Index int
	// StartLine and EndLine are the first and last lines of the document
	// (its "---" line included), 1-based.
	StartLine, EndLine int
	// Root is the top node (a mapping for Kubernetes objects); nil for an
	// empty document.
	Root *yaml.Node
	// HelmSource is the template named by a "# Source: " comment (helm
	// template output).
	HelmSource string

	order  []*yaml.Node       // pre-order
	index  map[*yaml.Node]int // position in order
	last   []int              // index of the last node of each node's subtree
	value  map[*yaml.Node]*yaml.Node
	parent map[*yaml.Node]*yaml.Node
}

var errLine = regexp.MustCompile(`^yaml: line (\d+): `)

// docSep reports a "---" document separator line.
func docSep(l []byte) bool {
	return bytes.HasPrefix(l, []byte("---")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r')
}

// helmSource returns the template a "# Source: " line names (helm
// template output), "" when there is none.
func helmSource(chunk []byte) string {
	const marker = "# Source: "
	for off := 0; ; {
		i := bytes.Index(chunk[off:], []byte(marker))
		if i < 0 {
			return ""
		}
		i += off
		if i == 0 || chunk[i-1] == '\n' {
			rest := chunk[i+len(marker):]
			if j := bytes.IndexByte(rest, '\n'); j >= 0 {
				rest = rest[:j]
			}
			return string(bytes.TrimSpace(rest))
		}
		off = i + len(marker)
	}
}

// Parse splits src into documents and parses each. Documents over maxDoc
// bytes (0: DefaultMaxDocBytes) are skipped with an error.
func Parse(name string, src []byte, maxDoc int) *File {
	if maxDoc <= 0 {
		maxDoc = DefaultMaxDocBytes
	}
	f := &File{Name: name, Src: src, lineStarts: []int{0}}
	for i, b := range src {
		if b == '\n' {
			f.lineStarts = append(f.lineStarts, i+1)
		}
	}
	nlines := len(f.lineStarts)
	if len(src) > 0 && src[len(src)-1] == '\n' {
		nlines--
	}
	// Document boundaries: lines starting with "---".
	starts := []int{1}
	for l := 1; l <= nlines; l++ {
		if l > 1 && docSep(f.line(l)) {
			starts = append(starts, l)
		}
	}
	for i, s := range starts {
		e := nlines
		if i+1 < len(starts) {
			e = starts[i+1] - 1
		}
		d := &Doc{Index: i, StartLine: s, EndLine: e}
		lo, hi := f.offset(s), f.offset(e+1)
		chunk := src[lo:hi]
		d.HelmSource = helmSource(chunk)
		if len(chunk) > maxDoc {
			f.Errors = append(f.Errors, Error{Line: s, Msg: fmt.Sprintf("document is %d bytes, above the limit of %d: skipped", len(chunk), maxDoc), TooLarge: true})
			continue
		}
		if len(bytes.TrimSpace(chunk)) == 0 {
			f.Docs = append(f.Docs, d)
			continue
		}
		var n yaml.Node
		if err := yaml.Unmarshal(chunk, &n); err != nil {
			line := s
			msg := err.Error()
			rel := 0
			if m := errLine.FindStringSubmatch(msg); m != nil {
				rel, _ = strconv.Atoi(m[1])
				msg = msg[len(m[0]):]
			} else {
				msg = strings.TrimPrefix(msg, "yaml: ")
			}
			// yaml.v3 numbers lines from 1 for scanner errors and from 0
			// (the line where the enclosing collection starts) for parser
			// errors.
			if parserError(msg) {
				rel++
			}
			if rel > 0 {
				line = s + rel - 1
			}
			f.Errors = append(f.Errors, Error{Line: line, Msg: msg})
			continue
		}
		if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
			d.Root = n.Content[0]
			shift(d.Root, s-1, 0)
		}
		f.Docs = append(f.Docs, d)
	}
	return f
}

// parserError tells yaml.v3's parser errors (0-based lines) from its
// scanner errors (1-based).
func parserError(msg string) bool {
	for _, p := range []string{"did not find expected ',' or", "did not find expected <document start>", "did not find expected '-' indicator",
		"did not find expected key", "did not find expected node content", "found undefined tag handle", "found duplicate %", "found incompatible YAML document"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// shift moves the lines of a tree to the file's numbering. Alias nodes
// are leaves here, so every node is moved once.
func shift(n *yaml.Node, off, depth int) {
	n.Line += off
	if n.Kind == yaml.AliasNode || depth > 10000 {
		return
	}
	for _, c := range n.Content {
		shift(c, off, depth+1)
	}
}

// indexed builds, on first use, the pre-order and the maps EndLine and
// Scope need (most files never need them: they are for harden and
// directives).
func (d *Doc) indexed() {
	if d.index != nil || d.Root == nil {
		return
	}
	d.index = map[*yaml.Node]int{}
	d.value = map[*yaml.Node]*yaml.Node{}
	d.parent = map[*yaml.Node]*yaml.Node{}
	d.flatten(d.Root)
}

// flatten records the pre-order.
func (d *Doc) flatten(n *yaml.Node) {
	if _, seen := d.index[n]; seen {
		return
	}
	i := len(d.order)
	d.order = append(d.order, n)
	d.index[n] = i
	d.last = append(d.last, i)
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			d.value[n.Content[j]] = n.Content[j+1]
		}
	}
	if n.Kind != yaml.AliasNode {
		for _, c := range n.Content {
			if _, seen := d.parent[c]; !seen {
				d.parent[c] = n
			}
			d.flatten(c)
		}
	}
	d.last[i] = len(d.order) - 1
}

// line returns line l (1-based) without its newline.
func (f *File) line(l int) []byte {
	if l < 1 || l > len(f.lineStarts) {
		return nil
	}
	lo := f.lineStarts[l-1]
	hi := len(f.Src)
	if l < len(f.lineStarts) {
		hi = f.lineStarts[l] - 1
	}
	if lo > hi {
		return nil
	}
	return bytes.TrimSuffix(f.Src[lo:hi], []byte("\r"))
}

// Line returns the text of line l (1-based), without its newline.
func (f *File) Line(l int) string { return string(f.line(l)) }

// Lines counts the lines of the file.
func (f *File) Lines() int {
	n := len(f.lineStarts)
	if len(f.Src) > 0 && f.Src[len(f.Src)-1] == '\n' {
		n--
	}
	return n
}

// offset returns the byte offset of the start of line l; past the end it
// returns len(Src).
func (f *File) offset(l int) int {
	if l-1 < len(f.lineStarts) && l >= 1 {
		return f.lineStarts[l-1]
	}
	return len(f.Src)
}

// LineStart returns the byte offset where line l starts.
func (f *File) LineStart(l int) int { return f.offset(l) }

// LineEnd returns the byte offset just after line l's newline (or the end
// of the file).
func (f *File) LineEnd(l int) int { return f.offset(l + 1) }

// Offset returns the byte offset of a node's first character (yaml.v3
// columns count characters from 1).
func (f *File) Offset(n *yaml.Node) int {
	start := f.offset(n.Line)
	l := f.line(n.Line)
	i := 0
	for c := 1; c < n.Column && i < len(l); c++ {
		_, size := utf8.DecodeRune(l[i:])
		i += size
	}
	return start + i
}

// Indent returns the number of leading spaces of line l.
func (f *File) Indent(l int) int {
	s := f.line(l)
	return len(s) - len(bytes.TrimLeft(s, " "))
}

// blankOrComment reports whether line l holds nothing but a comment.
func (f *File) blankOrComment(l int) bool {
	s := bytes.TrimSpace(f.line(l))
	return len(s) == 0 || s[0] == '#'
}

// Get returns the key and value nodes of key in mapping m (aliases
// resolved); nils when m is not a mapping or lacks the key.
func Get(m *yaml.Node, key string) (k, v *yaml.Node) {
	m = Deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], Deref(m.Content[i+1])
		}
	}
	return nil, nil
}

// Value returns the value node of key in m, nil when absent.
func Value(m *yaml.Node, key string) *yaml.Node {
	_, v := Get(m, key)
	return v
}

// Path follows keys through nested mappings.
func Path(m *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		m = Value(m, k)
		if m == nil {
			return nil
		}
	}
	return m
}

// Deref resolves an alias node.
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 32; i++ {
		n = n.Alias
	}
	return n
}

// IsNull reports a missing node or an explicit null.
func IsNull(n *yaml.Node) bool {
	n = Deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// EndLine returns the last line of n's subtree: the line before the next
// node of the document, less trailing blank and comment lines; never
// before n's own line. For a mapping key, pass its value.
func (f *File) EndLine(d *Doc, n *yaml.Node) int {
	d.indexed()
	i, ok := d.index[n]
	if !ok {
		return n.Line
	}
	end := d.EndLine
	if j := d.last[i] + 1; j < len(d.order) {
		end = d.order[j].Line - 1
	}
	// A subtree whose last node is a block scalar ends where the scalar
	// does, which is where the next node starts; otherwise trailing
	// comments and blank lines belong to what follows.
	for end > n.Line && f.blankOrComment(end) {
		end--
	}
	if last := d.order[d.last[i]]; last.Line > end {
		end = last.Line
	}
	if end < n.Line {
		end = n.Line
	}
	return end
}

// Outermost returns the node a directive above line l means, and the
// node whose subtree says where it ends (the value, for a mapping key): a
// document's root mapping or a list item's mapping whole, else the key
// that starts on l with its value. A block sequence shares its line with
// its first item and is never meant: the item is.
func (d *Doc) Outermost(l int) (start, span *yaml.Node) {
	d.indexed()
	for _, n := range d.order {
		if n.Line > l {
			break
		}
		if n.Line != l {
			continue
		}
		switch {
		case n.Kind == yaml.SequenceNode && n.Style&yaml.FlowStyle == 0:
			continue
		case n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0:
			if p := d.parent[n]; p != nil && p.Kind != yaml.SequenceNode {
				continue // a key's value: the directive means its first key
			}
			return n, n
		}
		if v, ok := d.value[n]; ok {
			return n, v
		}
		return n, n
	}
	return nil, nil
}

// Scope returns the lines an ignore directive on line l covers: the node
// on the next line that holds content (or, for a trailing directive, the
// node on line l) with everything under it. A directive before a
// document's first key covers the document.
func (f *File) Scope(l int, trailing bool) (from, to int) {
	target := l
	if !trailing {
		target = l + 1
		for target <= f.Lines() && f.blankOrComment(target) {
			target++
		}
	}
	for _, d := range f.Docs {
		if d.Root == nil || target < d.StartLine || target > d.EndLine {
			continue
		}
		start, span := d.Outermost(target)
		if start == nil {
			return target, target
		}
		return target, f.EndLine(d, span)
	}
	return target, target
}

// ScalarEnd returns the byte offset just after a single-line scalar's
// text as written (quotes included).
func (f *File) ScalarEnd(n *yaml.Node) int {
	start := f.Offset(n)
	src := f.Src
	switch n.Style {
	case yaml.DoubleQuotedStyle:
		for i := start + 1; i < len(src); i++ {
			switch src[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(src)
	case yaml.SingleQuotedStyle:
		for i := start + 1; i < len(src); i++ {
			if src[i] == '\'' {
				if i+1 < len(src) && src[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
		return len(src)
	}
	end := f.LineEnd(n.Line)
	i := start
	for ; i < end; i++ {
		c := src[i]
		if c == '\n' || c == '\r' || c == ',' || c == ']' || c == '}' {
			break
		}
		if c == '#' && i > start && (src[i-1] == ' ' || src[i-1] == '\t') {
			break
		}
	}
	for i > start && (src[i-1] == ' ' || src[i-1] == '\t') {
		i--
	}
	return i
}

// FlowEnd returns the byte offset just after the closing bracket of a flow
// mapping or sequence.
func (f *File) FlowEnd(n *yaml.Node) int {
	src := f.Src
	depth := 0
	for i := f.Offset(n); i < len(src); i++ {
		switch src[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"':
			for i++; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '\'':
			for i++; i < len(src); i++ {
				if src[i] == '\'' {
					if i+1 < len(src) && src[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '#':
			if i > 0 && (src[i-1] == ' ' || src[i-1] == '\t') {
				for i < len(src) && src[i] != '\n' {
					i++
				}
			}
		}
	}
	return len(src)
}

// Newline returns the file's line ending: "\r\n" when its first line ends
// so, else "\n".
func (f *File) Newline() string {
	if i := bytes.IndexByte(f.Src, '\n'); i > 0 && f.Src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}
