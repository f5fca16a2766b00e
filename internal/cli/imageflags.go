package cli

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/layers"
)

// ImageFlags are the flags of every command that reads images.
type ImageFlags struct {
	// Platform picks from multi-platform indexes (os/arch[/variant]);
	// default: the host's.
	Platform string
	// Insecure lists registries reached over plain HTTP.
	Insecure []string
	// Limits against hostile images; sizes take units (64GiB, 500MB).
	MaxTotalBytes, MaxEntryBytes, MaxMetadataBytes string
	MaxEntries, MaxPathLength, MaxRatio            int64
	// Prefetch bounds the next layer inflated ahead to a temporary file;
	// "0" turns it off.
	Prefetch string
}

func (f *ImageFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	d := image.DefaultLimits
	fl.StringVar(&f.Platform, "platform", "", "platform to pick from a multi-platform image, os/arch[/variant] (default: the host's)")
	fl.StringArrayVar(&f.Insecure, "insecure-registry", nil, "registry host[:port] to reach over plain HTTP (repeatable; for loopback registries)")
	fl.StringVar(&f.MaxTotalBytes, "max-total-bytes", layers.HumanBytes(d.TotalBytes), "limit: uncompressed bytes of all layers")
	fl.StringVar(&f.MaxEntryBytes, "max-entry-bytes", layers.HumanBytes(d.EntryBytes), "limit: bytes of one file")
	fl.StringVar(&f.MaxMetadataBytes, "max-metadata-bytes", layers.HumanBytes(d.MetadataBytes), "limit: bytes of a manifest, index or config")
	fl.Int64Var(&f.MaxEntries, "max-entries", d.Entries, "limit: tar entries of all layers")
	fl.Int64Var(&f.MaxPathLength, "max-path-length", d.PathLen, "limit: bytes of one entry path")
	fl.Int64Var(&f.MaxRatio, "max-ratio", d.Ratio, "limit: uncompressed/compressed ratio of a layer past 256 MiB (stops decompression bombs)")
	fl.StringVar(&f.Prefetch, "prefetch", layers.HumanBytes(image.DefaultPrefetchBytes), "inflate up to this much of the next layer ahead, into an unlinked temporary file, while the current one is read (0: off)")
}

// options translates the flags into the image library's options.
func (f *ImageFlags) options(log *slog.Logger) (image.Options, image.PassOptions, error) {
	o := image.Options{Insecure: f.Insecure, Logger: log}
	if f.Platform != "" {
		p, err := image.ParsePlatform(f.Platform)
		if err != nil {
			return o, image.PassOptions{}, usageErrorf("--platform: %v", err)
		}
		o.Platform = p
	}
	var lim image.Limits
	for _, s := range []struct {
		flag string
		v    string
		dst  *int64
	}{
		{"--max-total-bytes", f.MaxTotalBytes, &lim.TotalBytes},
		{"--max-entry-bytes", f.MaxEntryBytes, &lim.EntryBytes},
		{"--max-metadata-bytes", f.MaxMetadataBytes, &lim.MetadataBytes},
	} {
		n, err := layers.ParseBytes(s.v)
		if err != nil || n <= 0 {
			return o, image.PassOptions{}, usageErrorf("%s %s: want a positive size such as 64GiB", s.flag, s.v)
		}
		*s.dst = n
	}
	for _, s := range []struct {
		flag string
		v    int64
		dst  *int64
	}{
		{"--max-entries", f.MaxEntries, &lim.Entries},
		{"--max-path-length", f.MaxPathLength, &lim.PathLen},
		{"--max-ratio", f.MaxRatio, &lim.Ratio},
	} {
		if s.v <= 0 {
			return o, image.PassOptions{}, usageErrorf("%s %d: want a positive number", s.flag, s.v)
		}
		*s.dst = s.v
	}
	o.Limits = lim
	po := image.PassOptions{Limits: lim}
	if f.Prefetch != "" {
		n, err := layers.ParseBytes(f.Prefetch)
		if err != nil || n < 0 {
			return o, po, usageErrorf("--prefetch %s: want a size such as 1GiB, or 0 for off", f.Prefetch)
		}
		po.PrefetchBytes = n
		if n == 0 {
			po.PrefetchBytes = -1
		}
	}
	return o, po, nil
}
