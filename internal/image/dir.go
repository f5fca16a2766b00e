package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// openDir reads a root filesystem directory as an image of one layer with
// an empty config. Symlinks are reported, never followed, and every file is
// opened through os.Root, so nothing outside the directory is read.
func openDir(dir string) (*Image, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("not a directory")
	}
	img := &Image{
		Config: &v1.ConfigFile{OS: "linux"},
		Layers: []*Layer{{Index: 0, Size: -1, MediaType: "dir"}},
	}
	img.Layers[0].walk = func(ctx context.Context) (entryReader, error) {
		return newDirReader(ctx, dir)
	}
	return img, nil
}

type dirEntry struct {
	rel  string
	info fs.FileInfo
}

// dirReader presents a directory tree as tar entries, in lexical order.
type dirReader struct {
	ctx   context.Context
	root  *os.Root
	list  []dirEntry
	i     int
	cur   *os.File
	seen  map[fileID]string // inode -> first path, to report hard links
	left  int64
	_name string
}

func newDirReader(ctx context.Context, dir string) (*dirReader, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	r := &dirReader{ctx: ctx, root: root, seen: map[fileID]string{}}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s: %w", filepath.Join(dir, p), err)
		}
		if p == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		r.list = append(r.list, dirEntry{rel: p, info: info})
		return nil
	})
	if err != nil {
		root.Close()
		return nil, err
	}
	sort.Slice(r.list, func(i, j int) bool { return r.list[i].rel < r.list[j].rel })
	return r, nil
}

func (r *dirReader) Next() (*tar.Header, error) {
	if r.cur != nil {
		r.cur.Close()
		r.cur = nil
	}
	if r.i >= len(r.list) {
		return nil, io.EOF
	}
	de := r.list[r.i]
	r.i++
	link := ""
	if de.info.Mode()&fs.ModeSymlink != 0 {
		l, err := r.root.Readlink(de.rel)
		if err != nil {
			return nil, err
		}
		link = l
	}
	h, err := tar.FileInfoHeader(de.info, link)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", de.rel, err)
	}
	h.Name = filepath.ToSlash(de.rel)
	if de.info.IsDir() {
		h.Name += "/"
	}
	if de.info.Mode().IsRegular() {
		if id, ok := inode(de.info); ok {
			if first, dup := r.seen[id]; dup {
				h.Typeflag, h.Linkname, h.Size = tar.TypeLink, first, 0
				return h, nil
			}
			r.seen[id] = h.Name
		}
		r._name = de.rel
		r.left = h.Size
	}
	return h, nil
}

func (r *dirReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if r.cur == nil {
		f, err := r.root.Open(r._name)
		if err != nil {
			return 0, err
		}
		r.cur = f
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.cur.Read(p)
	r.left -= int64(n)
	if errors.Is(err, io.EOF) && r.left > 0 {
		return n, fmt.Errorf("%s shrank while being read: %w", r._name, io.ErrUnexpectedEOF)
	}
	if r.left == 0 && err == nil {
		err = nil
	}
	return n, err
}

func (r *dirReader) Close() error {
	if r.cur != nil {
		r.cur.Close()
	}
	return r.root.Close()
}
