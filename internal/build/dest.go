package build

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// DestKind is a kind of image destination.
type DestKind string

// The destinations of `redline build --to`.
const (
	OCIDir        DestKind = "oci-dir"
	OCIArchive    DestKind = "oci-archive"
	DockerArchive DestKind = "docker-archive"
	Registry      DestKind = "registry"
)

// Destination is where a built image is written.
type Destination struct {
	Kind DestKind
	// Value is a path, or a registry reference.
	Value string
}

func (d Destination) String() string { return string(d.Kind) + ":" + d.Value }

// ParseDestination parses oci-dir:DIR, oci-archive:FILE,
// docker-archive:FILE or registry:REF.
func ParseDestination(s string) (Destination, error) {
	for _, k := range []DestKind{OCIDir, OCIArchive, DockerArchive, Registry} {
		if v, ok := strings.CutPrefix(s, string(k)+":"); ok {
			if v == "" {
				return Destination{}, fmt.Errorf("--to %s: nothing after %q", s, k+":")
			}
			if k == Registry {
				ref, err := name.ParseReference(v)
				if err != nil {
					return Destination{}, fmt.Errorf("--to %s: %v", s, err)
				}
				if _, ok := ref.(name.Digest); ok {
					return Destination{}, fmt.Errorf("--to %s: push to a tag, not a digest", s)
				}
			}
			return Destination{Kind: k, Value: v}, nil
		}
	}
	return Destination{}, fmt.Errorf("--to %s: say where: oci-dir:DIR, oci-archive:FILE, docker-archive:FILE or registry:REF", s)
}

// staging is a destination written beside its final place, waiting for
// the rename that makes it visible.
type staging struct {
	dest    Destination
	tmp     string // staged file or directory
	final   string
	created []string // directories made for it, removed on abort
	// siblings are extra files staged for a docker archive (attachments).
	siblings map[string]string // final -> tmp
}

// abort removes what was staged and the directories made for it.
func (s *staging) abort() {
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
	for _, tmp := range s.siblings {
		os.Remove(tmp)
	}
	for i := len(s.created) - 1; i >= 0; i-- {
		os.Remove(s.created[i]) // only if still empty
	}
}

// commit renames the staged output over the final path. An oci-dir is
// swapped: the old directory is moved aside, the new one renamed in, the
// old one removed.
func (s *staging) commit() error {
	if s.tmp == "" {
		return nil
	}
	if s.dest.Kind == OCIDir {
		if _, err := os.Lstat(s.final); err == nil {
			old := s.tmp + ".old"
			if err := os.Rename(s.final, old); err != nil {
				return fmt.Errorf("%s: %w", s.dest, err)
			}
			if err := os.Rename(s.tmp, s.final); err != nil {
				os.Rename(old, s.final)
				return fmt.Errorf("%s: %w", s.dest, err)
			}
			return os.RemoveAll(old)
		}
	}
	if err := os.Rename(s.tmp, s.final); err != nil {
		return fmt.Errorf("%s: %w", s.dest, err)
	}
	for final, tmp := range s.siblings {
		if err := os.Rename(tmp, final); err != nil {
			return fmt.Errorf("%s: %w", s.dest, err)
		}
	}
	return nil
}

// mkdirAll makes dir and its missing parents, remembering which it made.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	slices.Reverse(missing)
	var made []string
	for _, d := range missing {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			for i := len(made) - 1; i >= 0; i-- {
				os.Remove(made[i])
			}
			return nil, err
		}
		made = append(made, d)
	}
	return made, nil
}

// stage writes a file destination beside its final path. Registry
// destinations stage nothing: they are pushed after every file is staged.
func (b *Builder) stage(d Destination, art *artifact, mtime time.Time) (st *staging, err error) {
	st = &staging{dest: d}
	if d.Kind == Registry {
		return st, nil
	}
	final, err := filepath.Abs(d.Value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	st.final = final
	fi, err := os.Lstat(final)
	switch {
	case err == nil && d.Kind == OCIDir:
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s: %s exists and is not a directory; refusing to replace it", d, d.Value)
		}
		if err := replaceableLayout(final); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
	case err == nil && fi.IsDir():
		return nil, fmt.Errorf("%s: %s is a directory", d, d.Value)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: cannot be written: %w", d, err)
	}
	if st.created, err = mkdirAll(filepath.Dir(final)); err != nil {
		return nil, fmt.Errorf("%s: cannot be written: %w", d, err)
	}
	defer func() {
		if err != nil {
			st.abort()
		}
	}()
	prefix := "." + filepath.Base(final) + ".redline-"
	switch d.Kind {
	case OCIDir:
		if st.tmp, err = os.MkdirTemp(filepath.Dir(final), prefix); err != nil {
			return nil, fmt.Errorf("%s: cannot be written: %w", d, err)
		}
		if err := os.Chmod(st.tmp, 0o755); err != nil {
			return nil, err
		}
		if err := copyTree(art.layout, st.tmp); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
	case OCIArchive:
		err = st.writeFile(prefix, func(w io.Writer) error { return tarTree(w, art.layout, mtime) })
	case DockerArchive:
		tag, terr := name.NewTag(art.tag)
		if terr != nil {
			return nil, fmt.Errorf("%s: tag %q: %w", d, art.tag, terr)
		}
		err = st.writeFile(prefix, func(w io.Writer) error { return tarball.Write(tag, art.images[0], w) })
		if err == nil {
			err = st.stageSiblings(art)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	return st, nil
}

func (st *staging) writeFile(prefix string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(st.final), prefix)
	if err != nil {
		return fmt.Errorf("cannot be written: %w", err)
	}
	st.tmp = f.Name()
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// stageSiblings writes attachments next to a docker archive: NAME.SUFFIX
// for an archive NAME.tar.
func (st *staging) stageSiblings(art *artifact) error {
	base := strings.TrimSuffix(st.final, filepath.Ext(st.final))
	for _, a := range art.attachments {
		if a.Suffix == "" {
			continue
		}
		if st.siblings == nil {
			st.siblings = map[string]string{}
		}
		final := base + a.Suffix
		f, err := os.CreateTemp(filepath.Dir(final), "."+filepath.Base(final)+".redline-")
		if err != nil {
			return err
		}
		st.siblings[final] = f.Name()
		_, err = f.Write(a.Data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(f.Name(), 0o644)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// replaceableLayout accepts an existing directory as the target of an
// oci-dir destination only when it is an OCI layout or empty: replacing
// anything else would delete the user's files.
func replaceableLayout(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err == nil {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(ents) == 0 {
		return nil
	}
	return fmt.Errorf("%s exists and is not an OCI layout; refusing to replace it (remove it or pick another directory)", dir)
}

// push writes the artifact and its attachments to a registry.
func (b *Builder) push(ctx context.Context, d Destination, art *artifact) error {
	ref, err := b.registryRef(d.Value)
	if err != nil {
		return fmt.Errorf("%s: %w", d, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(b.o.Keychain)}
	if art.index != nil {
		err = remote.WriteIndex(ref, art.index, opts...)
	} else {
		err = remote.Write(ref, art.images[0], opts...)
	}
	if err != nil {
		return fmt.Errorf("%s: pushing: %w", d, err)
	}
	for _, a := range art.referrers {
		if err := remote.Write(ref.Context().Digest(a.digest.String()), a.image, opts...); err != nil {
			return fmt.Errorf("%s: pushing the %s attachment: %w", d, a.artifactType, err)
		}
	}
	return nil
}

func (b *Builder) registryRef(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, err
	}
	if slices.Contains(b.o.Insecure, ref.Context().RegistryStr()) {
		return name.ParseReference(s, name.Insecure)
	}
	return ref, nil
}

// copyTree copies the regular files and directories of src into dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.Mkdir(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// tarTree writes dir as a tar with reproducible headers: sorted names,
// one timestamp, root owners.
func tarTree(w io.Writer, dir string, mtime time.Time) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, err := filepath.Rel(dir, p); err == nil && rel != "." {
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	tw := tar.NewWriter(w)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: n, ModTime: mtime.UTC().Truncate(time.Second), Format: tar.FormatPAX}
		if fi.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, n+"/", 0o755
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			continue
		}
		h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, fi.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return tw.Close()
}
