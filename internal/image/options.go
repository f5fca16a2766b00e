package image

import (
	"fmt"
	"log/slog"
	"runtime"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Options configure [Open]. The zero value is usable: host platform, the
// docker config keychain, default limits, no logging.
type Options struct {
	// Platform picks a manifest from a multi-platform index. Default:
	// linux on the host's architecture (container images are Linux images
	// even when redline runs on a Mac).
	Platform *v1.Platform
	// Insecure lists registries (host[:port]) reached over plain HTTP, for
	// loopback registries in tests and development.
	Insecure []string
	// Keychain resolves registry credentials. Default: authn.DefaultKeychain
	// (docker config and credential helpers).
	Keychain authn.Keychain
	// DockerHost and PodmanHost override the engine sockets. Defaults come
	// from DOCKER_HOST / CONTAINER_HOST and the engines' usual paths.
	DockerHost, PodmanHost string
	// TempDir is where engine exports are spooled; default os.TempDir().
	TempDir string
	// Limits bound what a hostile image can make redline do.
	Limits Limits
	// Logger receives the resolution of bare targets and other notes.
	// Default: discard.
	Logger *slog.Logger
}

func (o *Options) platform() v1.Platform {
	if o.Platform != nil {
		return *o.Platform
	}
	return v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (o *Options) keychain() authn.Keychain {
	if o.Keychain != nil {
		return o.Keychain
	}
	return authn.DefaultKeychain
}

// ParsePlatform parses os/arch[/variant] as used by --platform.
func ParsePlatform(s string) (*v1.Platform, error) {
	p, err := v1.ParsePlatform(s)
	if err != nil {
		return nil, fmt.Errorf("platform %q: %w", s, err)
	}
	if p.OS == "" || p.Architecture == "" {
		return nil, fmt.Errorf("platform %q: want os/arch[/variant], e.g. linux/amd64", s)
	}
	return p, nil
}

// Limits bound the work a single image may cause. Zero fields take the
// defaults of [DefaultLimits]; a negative field disables that limit.
type Limits struct {
	// TotalBytes caps the uncompressed bytes of all layers together.
	// Default 64 GiB.
	TotalBytes int64
	// EntryBytes caps the size of one tar entry. Default 16 GiB.
	EntryBytes int64
	// Entries caps the number of tar entries of all layers together.
	// Default 2,000,000.
	Entries int64
	// PathLen caps the length of an entry path in bytes. Default 4096
	// (Linux PATH_MAX).
	PathLen int64
	// Ratio caps uncompressed/compressed bytes of a layer once it has
	// expanded past 256 MiB, which stops gzip and zstd bombs early. Real
	// layers stay far below it. Default 200.
	Ratio int64
	// MetadataBytes caps manifests, indexes and configs. Default 64 MiB.
	MetadataBytes int64
}

// DefaultLimits are generous enough for any real image.
var DefaultLimits = Limits{
	TotalBytes:    64 << 30,
	EntryBytes:    16 << 30,
	Entries:       2_000_000,
	PathLen:       4096,
	Ratio:         200,
	MetadataBytes: 64 << 20,
}

// ratioGrace is how far a layer may expand before Ratio applies.
const ratioGrace = 256 << 20

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v, def int64) int64 {
		if v == 0 {
			return def
		}
		return v
	}
	return Limits{
		TotalBytes:    pick(l.TotalBytes, d.TotalBytes),
		EntryBytes:    pick(l.EntryBytes, d.EntryBytes),
		Entries:       pick(l.Entries, d.Entries),
		PathLen:       pick(l.PathLen, d.PathLen),
		Ratio:         pick(l.Ratio, d.Ratio),
		MetadataBytes: pick(l.MetadataBytes, d.MetadataBytes),
	}
}

// LimitError reports a crossed limit: which one, its value, and the flag
// that raises it.
type LimitError struct {
	Limit string // e.g. "total uncompressed bytes"
	Value int64
	Flag  string // e.g. "--max-total-bytes"
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s exceed the limit of %d (raise it with %s)", e.Limit, e.Value, e.Flag)
}
