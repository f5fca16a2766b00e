package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Output is one parsed -o FORMAT[=PATH].
type Output struct {
	Format string
	// Path is empty for stdout.
	Path string
}

// ParseOutputs checks -o values against the formats a command offers:
// known names only, at most one without a path (stdout), no path twice.
// With no -o at all the result is def on stdout.
func ParseOutputs(specs []string, formats []string, def string) ([]Output, error) {
	if len(specs) == 0 {
		return []Output{{Format: def}}, nil
	}
	var outs []Output
	stdout := 0
	seen := map[string]bool{}
	for _, s := range specs {
		f, p, hasPath := strings.Cut(s, "=")
		if !slices.Contains(formats, f) {
			return nil, usageErrorf("-o %s: unknown format %q (this command writes: %s)", s, f, strings.Join(formats, ", "))
		}
		if hasPath {
			if p == "" {
				return nil, usageErrorf("-o %s: empty path after '='", s)
			}
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, usageErrorf("-o %s: %v", s, err)
			}
			if seen[abs] {
				return nil, usageErrorf("-o %s: %s is the target of two outputs", s, p)
			}
			seen[abs] = true
		} else {
			stdout++
			if stdout > 1 {
				return nil, usageErrorf("-o %s: only one output may go to stdout; give the others a path (-o FORMAT=PATH)", s)
			}
		}
		outs = append(outs, Output{Format: f, Path: p})
	}
	return outs, nil
}

// WriteOutputs renders every output. Files are written atomically: each is
// rendered into a temporary file beside its target and renamed over it, so
// an error or an interrupt never leaves a half-written report, and nothing
// is written outside the named paths.
func WriteOutputs(outs []Output, stdout io.Writer, render func(w io.Writer, format string) error) error {
	for _, o := range outs {
		if o.Path == "" {
			// Render fully before writing so a failing renderer prints
			// nothing partial.
			var buf bytes.Buffer
			if err := render(&buf, o.Format); err != nil {
				return err
			}
			if _, err := stdout.Write(buf.Bytes()); err != nil {
				return err
			}
			continue
		}
		if err := WriteFileAtomic(o.Path, func(w io.Writer) error { return render(w, o.Format) }); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic writes a file through a temporary file in the same
// directory and a rename.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("writing %s: is a directory", path)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, errors.Unwrap(err))
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
