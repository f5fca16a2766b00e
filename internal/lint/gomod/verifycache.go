package gomod

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
)

// CachedVerify returns a Verify function that remembers a successful `go
// mod verify` of a go.sum (by its hash) in cacheDir, so a loop that checks
// the same module again and again (redline check) pays the 4 s of hashing
// the module cache once per go.sum. A failure is never cached; a module
// whose go.sum changes is verified again. What it gives up: a module cache
// altered after a successful verification is not noticed until go.sum
// changes (the go command verifies each download when it fetches it).
func CachedVerify(cacheDir string) func(ctx context.Context, dir string) (string, error) {
	return func(ctx context.Context, dir string) (string, error) {
		sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
		if err != nil || cacheDir == "" {
			return runVerify(ctx, dir)
		}
		h := sha256.Sum256(append(sum, []byte("\x00"+os.Getenv("GOMODCACHE"))...))
		marker := filepath.Join(cacheDir, "modverify", hex.EncodeToString(h[:]))
		if b, err := os.ReadFile(marker); err == nil {
			return string(b), nil
		}
		out, err := runVerify(ctx, dir)
		if err == nil {
			if os.MkdirAll(filepath.Dir(marker), 0o755) == nil {
				tmp := marker + ".tmp"
				if os.WriteFile(tmp, []byte(out), 0o644) == nil {
					os.Rename(tmp, marker)
				}
			}
		}
		return out, err
	}
}
