package image

import (
	"context"
	"fmt"
	"io"
	"os"
)

// Open opens the image a target names. Errors name the target and what
// failed. Targets that are not images (file:, go:) are refused.
func Open(ctx context.Context, t Target, o Options) (*Image, error) {
	img, err := open(ctx, t, &o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	if img.Ref == "" {
		img.Ref = t.String()
	}
	if img.Scheme == "" {
		img.Scheme = t.Scheme
	}
	return img, nil
}

func open(ctx context.Context, t Target, o *Options) (*Image, error) {
	if t.Resolved {
		o.logger().Info("resolved target", "arg", t.Value, "as", t.Scheme, "because", t.Why)
	}
	switch t.Scheme {
	case DockerArchive:
		file, ref, err := splitArchiveRef(t.Value)
		if err != nil {
			return nil, err
		}
		return openDockerArchive(file, ref, o)
	case OCIArchive:
		file, ref, err := splitArchiveRef(t.Value)
		if err != nil {
			return nil, err
		}
		s, err := openTarStore(file)
		return layoutFrom(s, err, ref, o)
	case OCIDir:
		dir, ref := splitDirRef(t.Value)
		s, err := openDirStore(dir)
		return layoutFrom(s, err, ref, o)
	case Registry:
		return openRegistry(ctx, t.Value, o)
	case Docker, Podman:
		return openEngine(ctx, t.Scheme, t.Value, o)
	case Engine:
		return openByName(ctx, t.Value, o)
	case Dir:
		return openDir(t.Value)
	case File:
		return nil, fmt.Errorf("a single file is not an image (use dir: for a root filesystem, or an image archive)")
	case GoSource:
		return nil, fmt.Errorf("Go source is not an image (build it first: redline build)")
	}
	return nil, fmt.Errorf("unknown target scheme %q", t.Scheme)
}

// openByName looks a bare image name up in podman, then docker, then a
// registry, and logs the choice.
func openByName(ctx context.Context, name string, o *Options) (*Image, error) {
	for _, eng := range []Scheme{Podman, Docker} {
		ok, err := engineHas(ctx, eng, name, o)
		if err != nil {
			o.logger().Debug("engine not usable", "engine", eng, "err", err)
			continue
		}
		if ok {
			o.logger().Info("resolved target", "arg", name, "as", eng, "because", "the image is in the local "+string(eng)+" engine")
			img, err := openEngine(ctx, eng, name, o)
			if err != nil {
				return nil, err
			}
			img.Ref = string(eng) + ":" + name
			img.Scheme = eng
			return img, nil
		}
	}
	o.logger().Info("resolved target", "arg", name, "as", Registry, "because", "no local engine has it")
	img, err := openRegistry(ctx, name, o)
	if err != nil {
		return nil, err
	}
	img.Ref = "registry:" + name
	img.Scheme = Registry
	return img, nil
}

// storeCloser is a store that holds a file or directory open.
type storeCloser interface {
	store
	io.Closer
}

// layoutFrom opens the OCI layout in a freshly opened store and hands the
// store to the image to close.
func layoutFrom[S storeCloser](s S, err error, ref string, o *Options) (*Image, error) {
	if err != nil {
		return nil, err
	}
	img, err := openLayout(s, ref, o)
	if err != nil {
		s.Close()
		return nil, err
	}
	img.closers = append(img.closers, s)
	return img, nil
}

// splitDirRef splits "DIR[:REF]": the longest prefix that is an existing
// directory is the layout, the rest names an image in its index.
func splitDirRef(v string) (dir, ref string) {
	if fi, err := os.Stat(v); err == nil && fi.IsDir() {
		return v, ""
	}
	for i := len(v) - 1; i > 0; i-- {
		if v[i] != ':' {
			continue
		}
		if fi, err := os.Stat(v[:i]); err == nil && fi.IsDir() {
			return v[:i], v[i+1:]
		}
	}
	return v, ""
}
