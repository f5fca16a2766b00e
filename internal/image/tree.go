package image

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Kind classifies an entry.
type Kind uint8

// Entry kinds. Whiteout and Opaque are the OCI deletion markers; the pass
// reports them as entries and applies them in the [Tree].
const (
	KindFile Kind = iota
	KindDir
	KindSymlink
	KindHardlink
	KindOther // devices, fifos
	KindWhiteout
	KindOpaque
)

func (k Kind) String() string {
	return [...]string{"file", "dir", "symlink", "hardlink", "other", "whiteout", "opaque"}[k]
}

// Version is one write of a path by one layer.
type Version struct {
	Layer int
	Kind  Kind
	Size  int64       // bytes of a regular file; 0 for everything else
	Mode  fs.FileMode // permission and special bits (setuid, setgid, sticky)
	Link  string      // symlink target as written, or hard link target path
	UID   int
	GID   int
}

// node is one path in the tree. It is kept small: an image of 100,000
// entries must fit in DESIGN.md's memory budget.
type node struct {
	name     string
	parent   *node
	children map[string]*node
	// events in layer order: writes (Kind file..other) and deletions
	// (whiteout of this path, opaque marker on this directory).
	events []event
}

type event struct {
	size  int64
	mode  uint32
	link  uint32 // index into Tree.links, 0 = none
	uid   uint32
	gid   uint32
	layer uint16
	kind  Kind
}

// Tree is the filesystem of an image as the layers build it: every path
// with each layer's write or deletion of it. It answers what is visible
// after any layer, and so what the final filesystem holds and which copies
// were shadowed or deleted.
type Tree struct {
	root    node
	links   []string
	changes []Changes
	layers  int
	nodes   int
	// lastDir and lastNode are the directory of the last path added:
	// entries come grouped by directory, so the next one usually starts
	// there instead of at the root. Only the walk, which adds from one
	// goroutine, reads and writes them.
	lastDir  string
	lastNode *node
}

func newTree() *Tree {
	return &Tree{links: []string{""}}
}

// Nodes returns the number of distinct paths the tree holds.
func (t *Tree) Nodes() int { return t.nodes }

// LayerCount returns the number of layers applied.
func (t *Tree) LayerCount() int { return t.layers }

// lookup returns the node for a clean absolute path, creating it (and its
// parents) when create is set.
func (t *Tree) lookup(p string, create bool) *node {
	n := &t.root
	if p == "/" {
		return n
	}
	rest := p[1:]
	dir := strings.LastIndexByte(p, '/')
	if create && dir > 0 && t.lastNode != nil && p[:dir] == t.lastDir {
		n, rest = t.lastNode, p[dir+1:]
	}
	for rest != "" {
		seg, after, _ := strings.Cut(rest, "/")
		rest = after
		c := n.children[seg]
		if c == nil {
			if !create {
				return nil
			}
			if n.children == nil {
				n.children = make(map[string]*node, 1)
			}
			c = &node{name: strings.Clone(seg), parent: n}
			n.children[c.name] = c
			t.nodes++
		}
		n = c
	}
	if create && dir > 0 {
		t.lastDir, t.lastNode = p[:dir], n.parent
	}
	return n
}

// add records one entry of layer l and counts what it changes.
func (t *Tree) add(p string, layer int, k Kind, v Version) {
	n := t.lookup(p, true)
	e := event{size: v.Size, mode: uint32(v.Mode), uid: uint32(v.UID), gid: uint32(v.GID), layer: uint16(layer), kind: k}
	if v.Link != "" {
		e.link = uint32(len(t.links))
		t.links = append(t.links, v.Link)
	}
	for len(t.changes) <= layer {
		t.changes = append(t.changes, Changes{})
	}
	c := &t.changes[layer]
	// A path repeated inside one layer: the later entry wins, as when the
	// layer is extracted. Deletion markers never replace writes.
	if k < KindWhiteout {
		for i := len(n.events) - 1; i >= 0 && int(n.events[i].layer) == layer; i-- {
			if n.events[i].kind < KindWhiteout {
				c.RewrittenBytes += n.events[i].size
				n.events[i] = e
				return
			}
		}
	}
	switch k {
	case KindDir:
	case KindWhiteout:
		files, bytes := t.countVisible(n, n.ancestorsCut(layer, true), layer)
		c.Removed += files
		c.RemovedBytes += bytes
	case KindOpaque:
		ccut := n.childCut(n.ancestorsCut(layer, true), layer, true)
		for _, ch := range n.children {
			files, bytes := t.countVisible(ch, ccut, layer)
			c.Removed += files
			c.RemovedBytes += bytes
		}
	default:
		if prev, ok := n.visible(n.ancestorsCut(layer, true), layer); ok && prev.kind != KindDir {
			c.Modified++
		} else {
			c.Added++
		}
	}
	n.events = append(n.events, e)
}

// Changes counts what one layer did to the filesystem below it. Files are
// every non-directory entry (files, links, devices).
type Changes struct {
	Added, Modified, Removed int
	// RemovedBytes are the bytes of the files the layer deleted.
	RemovedBytes int64
	// RewrittenBytes are bytes of files the layer itself wrote twice.
	RewrittenBytes int64
}

// Changes returns what layer i added, modified and removed.
func (t *Tree) Changes(i int) Changes {
	if i < 0 || i >= len(t.changes) {
		return Changes{}
	}
	return t.changes[i]
}

// countVisible counts the non-directory paths under n (n included) that
// show after layers [0, upto), and their bytes.
func (t *Tree) countVisible(n *node, cut, upto int) (files int, bytes int64) {
	if e, ok := n.visible(cut, upto); ok && e.kind != KindDir {
		files++
		bytes += e.size
	}
	if len(n.children) == 0 {
		return files, bytes
	}
	ccut := n.childCut(cut, upto, true)
	for _, c := range n.children {
		f, b := t.countVisible(c, ccut, upto)
		files += f
		bytes += b
	}
	return files, bytes
}

// SubtreeBytes returns the bytes of regular files at or under p that show
// after layers [0, upto), and whether p itself then shows as a directory
// (an implied one included). ignoreOpaque applies dive's view, which does
// not know opaque markers.
func (t *Tree) SubtreeBytes(p string, upto int, ignoreOpaque bool) (bytes int64, dir bool) {
	n := t.lookup(path.Clean("/"+p), false)
	if n == nil {
		return 0, false
	}
	var sum func(n *node, cut int) int64
	sum = func(n *node, cut int) int64 {
		var b int64
		if e, ok := n.visible(cut, upto); ok && e.kind == KindFile {
			b += e.size
		}
		ccut := n.childCut(cut, upto, !ignoreOpaque)
		for _, c := range n.children {
			b += sum(c, ccut)
		}
		return b
	}
	cut := n.ancestorsCut(upto, !ignoreOpaque)
	if e, ok := n.visible(cut, upto); ok {
		dir = e.kind == KindDir
	} else {
		dir = len(n.children) > 0
	}
	return sum(n, cut), dir
}

func (t *Tree) version(e event) Version {
	return Version{Layer: int(e.layer), Kind: e.kind, Size: e.size, Mode: fs.FileMode(e.mode), Link: t.links[e.link], UID: int(e.uid), GID: int(e.gid)}
}

// cutFor returns, for the children of n, the lowest layer whose writes
// still show after layers [0, upto): deletions of n or an ancestor, opaque
// markers, and n turning into a non-directory hide everything below them.
func (n *node) childCut(inherited, upto int, opaque bool) int {
	cut := inherited
	for _, e := range n.events {
		if int(e.layer) >= upto {
			break
		}
		switch {
		case e.kind == KindWhiteout:
			cut = max(cut, int(e.layer))
		case e.kind == KindOpaque:
			if opaque {
				cut = max(cut, int(e.layer))
			}
		case e.kind != KindDir:
			cut = max(cut, int(e.layer)+1)
		}
	}
	return cut
}

// visible returns the write of n that shows after layers [0, upto), given
// the cut inherited from its ancestors.
func (n *node) visible(cut, upto int) (event, bool) {
	for _, e := range n.events {
		if int(e.layer) < upto && e.kind == KindWhiteout {
			cut = max(cut, int(e.layer))
		}
	}
	for i := len(n.events) - 1; i >= 0; i-- {
		e := n.events[i]
		if int(e.layer) >= upto || e.kind >= KindWhiteout {
			continue
		}
		if int(e.layer) < cut {
			return event{}, false
		}
		return e, true
	}
	return event{}, false
}

// ancestorsCut computes the cut that n's ancestors impose after [0, upto).
func (n *node) ancestorsCut(upto int, opaque bool) int {
	var chain []*node
	for a := n.parent; a != nil; a = a.parent {
		chain = append(chain, a)
	}
	cut := 0
	for i := len(chain) - 1; i >= 0; i-- {
		cut = chain[i].childCut(cut, upto, opaque)
	}
	return cut
}

// visibleBefore returns what path p shows after layers [0, upto).
func (t *Tree) visibleBefore(n *node, upto int) (event, bool) {
	return n.visible(n.ancestorsCut(upto, true), upto)
}

// Path returns the absolute path of n.
func (n *node) path() string {
	if n.parent == nil {
		return "/"
	}
	var segs []string
	for a := n; a.parent != nil; a = a.parent {
		segs = append(segs, a.name)
	}
	slices.Reverse(segs)
	return "/" + strings.Join(segs, "/")
}

// PathHistory is everything the layers did to one path.
type PathHistory struct {
	Path string
	// Events are the writes and deletions of the path in layer order;
	// deletions have Kind KindWhiteout or KindOpaque.
	Events []Version
	// Final is the version visible in the final filesystem (or after
	// WalkOptions.Upto); nil when the path is gone: deleted, hidden by an
	// opaque directory or by an ancestor that became a file, or a
	// directory that only its children imply.
	Final *Version
}

// WalkOptions choose the view of [Tree.Walk].
type WalkOptions struct {
	// Upto applies only layers [0, Upto); 0 means all.
	Upto int
	// IgnoreOpaque treats opaque markers as if absent, as dive does.
	IgnoreOpaque bool
	// Post, when set, is called after a path's descendants, with the same
	// history as the first call.
	Post func(h *PathHistory) error
}

// Walk calls fn for every path in the tree, the root and directories that
// only their children imply included, in lexical order, parents before
// children. fn must not keep h or its slices.
func (t *Tree) Walk(o WalkOptions, fn func(h *PathHistory) error) error {
	upto := o.Upto
	if upto <= 0 {
		upto = t.layers
	}
	var names []string
	var walk func(n *node, p string, cut int) error
	walk = func(n *node, p string, cut int) error {
		h := &PathHistory{Path: p}
		for _, e := range n.events {
			if int(e.layer) >= upto {
				break
			}
			if e.kind == KindOpaque && o.IgnoreOpaque {
				continue
			}
			h.Events = append(h.Events, t.version(e))
		}
		if e, ok := n.visible(cut, upto); ok {
			v := t.version(e)
			h.Final = &v
		}
		if err := fn(h); err != nil {
			return err
		}
		if len(n.children) > 0 {
			ccut := n.childCut(cut, upto, !o.IgnoreOpaque)
			start := len(names)
			for name := range n.children {
				names = append(names, name)
			}
			kids := names[start:]
			slices.Sort(kids)
			for i := range kids {
				name := names[start+i]
				cp := p + "/" + name
				if p == "/" {
					cp = "/" + name
				}
				if err := walk(n.children[name], cp, ccut); err != nil {
					return err
				}
			}
			names = names[:start]
		}
		if o.Post != nil {
			return o.Post(h)
		}
		return nil
	}
	return walk(&t.root, "/", 0)
}

// FileInfo describes a path of the final filesystem.
type FileInfo struct {
	Path string
	Version
}

// Lookup returns the final version of a path, without following symlinks.
func (t *Tree) Lookup(p string) (FileInfo, bool) {
	p = path.Clean("/" + p)
	n := t.lookup(p, false)
	if n == nil {
		return FileInfo{}, false
	}
	e, ok := n.visible(n.ancestorsCut(t.layers, true), t.layers)
	if !ok {
		// A directory implied by its children exists without an entry.
		if n == &t.root || t.hasVisibleChild(n) {
			return FileInfo{Path: p, Version: Version{Kind: KindDir, Mode: fs.ModeDir | 0o755, Layer: -1}}, true
		}
		return FileInfo{}, false
	}
	return FileInfo{Path: p, Version: t.version(e)}, true
}

func (t *Tree) hasVisibleChild(n *node) bool {
	for _, c := range n.children {
		if _, ok := t.visibleBefore(c, t.layers); ok {
			return true
		}
		if t.hasVisibleChild(c) {
			return true
		}
	}
	return false
}

// Resolve follows symlinks in every component of p inside the image's
// root (never outside it, as a container sees it) and returns the final
// file. A chain of more than 40 links fails with [ErrLinkLoop].
func (t *Tree) Resolve(p string) (FileInfo, error) {
	hops := 0
	cur := "/"
	rest := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	for len(rest) > 0 {
		seg := rest[0]
		rest = rest[1:]
		if seg == "" || seg == "." {
			continue
		}
		if seg == ".." {
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, seg)
		fi, ok := t.Lookup(next)
		if !ok {
			return FileInfo{}, &fs.PathError{Op: "resolve", Path: p, Err: fs.ErrNotExist}
		}
		if fi.Kind == KindSymlink {
			hops++
			if hops > maxLinkHops {
				return FileInfo{}, &fs.PathError{Op: "resolve", Path: p, Err: ErrLinkLoop}
			}
			target := fi.Link
			base := cur
			if strings.HasPrefix(target, "/") {
				base = "/"
			}
			rest = append(strings.Split(strings.Trim(path.Join(base, target), "/"), "/"), rest...)
			cur = "/"
			continue
		}
		if len(rest) > 0 && fi.Kind != KindDir {
			return FileInfo{}, &fs.PathError{Op: "resolve", Path: p, Err: fmt.Errorf("%s is not a directory", next)}
		}
		cur = next
	}
	fi, ok := t.Lookup(cur)
	if !ok {
		return FileInfo{}, &fs.PathError{Op: "resolve", Path: p, Err: fs.ErrNotExist}
	}
	return fi, nil
}
