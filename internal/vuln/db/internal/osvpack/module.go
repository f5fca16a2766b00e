package osvpack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
)

// VulnDBModule is the Go module holding the Go vulnerability database's
// OSV entries under data/osv.
const VulnDBModule = "golang.org/x/vulndb"

// ModuleZip is a module version's zip on disk.
type ModuleZip struct {
	Path    string
	Version string
	// Time is the version's commit time (the .info file's Time).
	Time time.Time
	// Zip is the file.
	Zip string
	// Sum is the go.sum hash of the zip (h1:...).
	Sum string
}

// GoModDownload runs `go mod download -json PATH@QUERY` with env (nil:
// the process's) in a temporary directory, so that no go.mod around is
// read or changed, and returns the zip in the module cache.
func GoModDownload(ctx context.Context, goCmd string, env []string, modPath, query string) (ModuleZip, error) {
	tmp, err := os.MkdirTemp("", "redline-gomod-")
	if err != nil {
		return ModuleZip{}, err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", modPath+"@"+query)
	cmd.Dir = tmp
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env, "GOWORK=off", "GO111MODULE=on")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var out struct {
		Path, Version, Info, Zip, Sum, Error string
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if runErr != nil && msg != "" {
			return ModuleZip{}, fmt.Errorf("go mod download %s@%s: %s", modPath, query, msg)
		}
		if runErr != nil {
			return ModuleZip{}, fmt.Errorf("go mod download %s@%s: %w", modPath, query, runErr)
		}
		return ModuleZip{}, fmt.Errorf("go mod download %s@%s: reading its output: %w", modPath, query, err)
	}
	if out.Error != "" {
		return ModuleZip{}, fmt.Errorf("go mod download: %s", out.Error)
	}
	if runErr != nil {
		return ModuleZip{}, fmt.Errorf("go mod download %s@%s: %w: %s", modPath, query, runErr, strings.TrimSpace(stderr.String()))
	}
	info, err := os.ReadFile(out.Info)
	if err != nil {
		return ModuleZip{}, fmt.Errorf("go mod download %s@%s: %w", modPath, query, err)
	}
	var vi struct {
		Version string
		Time    time.Time
	}
	if err := json.Unmarshal(info, &vi); err != nil {
		return ModuleZip{}, fmt.Errorf("%s: %w", out.Info, err)
	}
	return ModuleZip{Path: out.Path, Version: out.Version, Time: vi.Time.UTC(), Zip: out.Zip, Sum: out.Sum}, nil
}

// HashZip returns the go.sum hash of a module zip.
func HashZip(zipPath string) (string, error) {
	return dirhash.HashZip(zipPath, dirhash.Hash1)
}

// VersionTime returns the commit time a pseudo-version records, or the
// zero time for other versions.
func VersionTime(v string) time.Time {
	if !module.IsPseudoVersion(v) {
		return time.Time{}
	}
	t, err := module.PseudoVersionTime(v)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// OSVDataFilter selects data/osv/*.json of a module zip of
// golang.org/x/vulndb at version. Every other file of the module (reports,
// code) is not data.
func OSVDataFilter(modPath, version string) ZipFilter {
	prefix := modPath + "@" + version + "/data/osv/"
	return func(name string) bool {
		rest, ok := strings.CutPrefix(name, prefix)
		return ok && !strings.Contains(rest, "/") && strings.HasSuffix(rest, ".json")
	}
}

// AddModuleZip reads data/osv/*.json of a module zip of modPath at
// version. Every member must lie under PATH@VERSION/, as the module zip
// format requires: a zip that does not is not the module asked for.
func (s *Set) AddModuleZip(zipPath, modPath, version string) error {
	prefix := modPath + "@" + version + "/"
	data := OSVDataFilter(modPath, version)
	bad := ""
	err := s.AddZipFile(zipPath, func(name string) bool {
		if !strings.HasPrefix(name, prefix) && bad == "" {
			bad = name
		}
		return data(name)
	})
	if err != nil {
		return err
	}
	if bad != "" {
		return fmt.Errorf("%s: %w: member %q is not under %s", zipPath, ErrNotModuleZip, bad, prefix)
	}
	return nil
}

// ErrNotModuleZip reports a zip that is not the module version asked for.
var ErrNotModuleZip = errors.New("osvpack: not a module zip")
