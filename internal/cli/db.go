package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/redline-go/redline/internal/vuln/db"
)

// DBOptions are the flags every `redline db` command shares.
type DBOptions struct {
	// CacheDir holds updates and imports; default $REDLINE_CACHE_DIR, else
	// the user cache directory's redline/vulndb.
	CacheDir string
}

// DBStatusOptions are the flags of `redline db status`.
type DBStatusOptions struct {
	// Outputs are -o FORMAT[=PATH] values; formats: table (default), json.
	Outputs []string
}

// DBUpdateOptions are the flags of `redline db update`.
type DBUpdateOptions struct {
	// Source is golang.org/x/vulndb (default), vuln.go.dev or osv.dev.
	Source string
	// Version pins the golang.org/x/vulndb version; default latest.
	Version string
	// Proxy is a GOPROXY list; default $GOPROXY, else `go env GOPROXY`.
	Proxy string
	// URL is the base URL of vuln.go.dev or osv.dev's bucket.
	URL string
	// Ecosystems are osv.dev ecosystems; default Go.
	Ecosystems []string
	// Strict stores nothing when an entry had to be skipped.
	Strict bool
}

// DBImportOptions are the flags of `redline db import`.
type DBImportOptions struct {
	// Name names the imported source; default the file name.
	Name string
	// Date is the data's date (YYYY-MM-DD or RFC 3339); default the
	// newest date of the entries.
	Date string
	// List lists the cached sources instead of importing.
	List bool
	// Remove deletes a cached source by its ID.
	Remove string
	// Strict stores nothing when an entry had to be skipped.
	Strict bool
}

var dbStatusFormats = []string{"table", "json"}

func newDB(env *Env, g *global) *cobra.Command {
	o := &DBOptions{}
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Show, update and extend the vulnerability data (OSV)",
		Long: `Db manages the vulnerability data that scan and check use: OSV entries from
the Go vulnerability database, embedded in redline and refreshed with
'db update', plus any OSV data of other ecosystems added with 'db import'.
Everything fetched or imported is stored in the cache directory
($REDLINE_CACHE_DIR, default the user cache directory's redline/vulndb).

Data older than 7 days is reported with a warning.`,
	}
	cmd.PersistentFlags().StringVar(&o.CacheDir, "cache-dir", "", "where updates and imports are stored (default $"+db.CacheDirEnv+" or the user cache directory)")
	cmd.AddCommand(newDBStatus(env, g, o), newDBUpdate(env, g, o), newDBImport(env, g, o))
	return cmd
}

func (o *DBOptions) cacheDir(env *Env) (string, error) {
	if o.CacheDir != "" {
		return o.CacheDir, nil
	}
	return db.DefaultCacheDir(env.Getenv)
}

func newDBStatus(env *Env, g *global, do *DBOptions) *cobra.Command {
	o := &DBStatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the vulnerability data in use: sources, dates, age, entries per ecosystem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return RunDBStatus(cmd.Context(), env, g, do, o, time.Now())
		},
	}
	cmd.Flags().StringArrayVarP(&o.Outputs, "output", "o", nil, "output FORMAT[=PATH]; formats: table (default), json")
	return cmd
}

// RunDBStatus is `redline db status` as of now.
func RunDBStatus(ctx context.Context, env *Env, g *global, do *DBOptions, o *DBStatusOptions, now time.Time) error {
	outs, err := ParseOutputs(o.Outputs, dbStatusFormats, dbStatusFormats[0])
	if err != nil {
		return err
	}
	log := g.logger(env.Stderr)
	dir, err := do.cacheDir(env)
	if err != nil {
		return err
	}
	d, err := db.Open(db.Options{CacheDir: dir, Logger: log})
	if err != nil {
		return err
	}
	st := d.Status(now)
	st.CacheDir = dir
	if st.Stale {
		log.Warn(fmt.Sprintf("vulnerability data is %d days old (older than 7 days): run `redline db update`", st.AgeDays))
	}
	return WriteOutputs(outs, env.Stdout, func(w io.Writer, format string) error {
		if format == "json" {
			return db.WriteStatusJSON(w, st)
		}
		return db.WriteStatusTable(w, st)
	})
}

func newDBUpdate(env *Env, g *global, do *DBOptions) *cobra.Command {
	o := &DBUpdateOptions{}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Fetch newer vulnerability data (Go module proxy, vuln.go.dev or osv.dev)",
		Long: `Update fetches the newest Go vulnerability database and stores it in the
cache, where it replaces the embedded snapshot while it is newer.

By default it fetches the Go module golang.org/x/vulndb through the module
proxy ($GOPROXY, else 'go env GOPROXY', else proxy.golang.org), so a mirror
of the module proxy is all it needs. --source vuln.go.dev reads the Go
vulnerability database's own server; --source osv.dev reads osv.dev's
export bucket, for Go and for other ecosystems (--ecosystem Debian:12).

Nothing changes when the fetch fails: the data in use stays, and the error
says what could not be reached.`,
		Example: `  redline db update
  GOPROXY=https://goproxy.example.com redline db update
  redline db update --source vuln.go.dev
  redline db update --source osv.dev --ecosystem Go --ecosystem Debian:12`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return RunDBUpdate(cmd.Context(), env, g, do, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Source, "source", db.SourceVulnDB, "where to fetch from: golang.org/x/vulndb (through GOPROXY), vuln.go.dev or osv.dev")
	f.StringVar(&o.Version, "version", "", "golang.org/x/vulndb version (default latest)")
	f.StringVar(&o.Proxy, "proxy", "", "module proxy list, as GOPROXY (default $GOPROXY, else go env GOPROXY)")
	f.StringVar(&o.URL, "url", "", "base URL of vuln.go.dev or of osv.dev's bucket (default "+db.DefaultVulnGoDev+", "+db.DefaultOSVDev+")")
	f.StringArrayVar(&o.Ecosystems, "ecosystem", nil, "osv.dev ecosystem to fetch, repeatable (default Go)")
	f.BoolVar(&o.Strict, "strict", false, "store nothing when an entry is malformed")
	return cmd
}

// RunDBUpdate is `redline db update`.
func RunDBUpdate(ctx context.Context, env *Env, g *global, do *DBOptions, o *DBUpdateOptions) error {
	log := g.logger(env.Stderr)
	dir, err := do.cacheDir(env)
	if err != nil {
		return err
	}
	switch {
	case o.Source != db.SourceVulnDB && o.Version != "":
		return usageErrorf("--version applies to --source %s only", db.SourceVulnDB)
	case o.Source != db.SourceOSVDev && len(o.Ecosystems) > 0:
		return usageErrorf("--ecosystem applies to --source %s only", db.SourceOSVDev)
	case o.Source == db.SourceVulnDB && o.URL != "":
		return usageErrorf("--url applies to --source %s and %s; give the module proxy with --proxy", db.SourceVulnGoDev, db.SourceOSVDev)
	}
	uo := db.UpdateOptions{
		CacheDir: dir, Source: o.Source, Version: o.Version, URL: o.URL,
		Ecosystems: o.Ecosystems, Logger: log, Strict: o.Strict,
	}
	if o.Source == db.SourceVulnDB {
		uo.GOPROXY = o.Proxy
		if uo.GOPROXY == "" {
			uo.GOPROXY = db.ResolveGOPROXY(ctx, env.Getenv)
		}
	}
	res, err := db.Update(ctx, uo)
	if err != nil {
		return fmt.Errorf("db update: %w\n%s", err, keptData(dir))
	}
	for _, w := range res.Warnings {
		log.Warn(w)
	}
	for _, f := range res.Fetched {
		s := f.Source
		what := s.Name
		if s.Version != "" {
			what += " " + s.Version
		}
		if f.Written {
			fmt.Fprintf(env.Stdout, "updated: %s of %s, %d entries (%s) in %s\n", what, s.Date.Format(time.DateOnly), s.Entries, ecosystems(s.Ecosystems), s.Path)
		} else {
			fmt.Fprintf(env.Stdout, "up to date: fetched %s of %s; %s\n", what, s.Date.Format(time.DateOnly), f.Note)
		}
	}
	return nil
}

// keptData says which data stays in use after a failed update.
func keptData(dir string) string {
	d, err := db.Open(db.Options{CacheDir: dir})
	if err != nil {
		return fmt.Sprintf("The cache holds no usable data either: %v", err)
	}
	s := d.Sources()[0]
	what := s.Name
	if s.Version != "" {
		what += " " + s.Version
	}
	if s.Embedded {
		what += " (embedded)"
	}
	return fmt.Sprintf("The data in use is kept: %s of %s, %d days old. Check the network and GOPROXY, or add data with `redline db import`.",
		what, s.Date.Format(time.DateOnly), db.AgeDays(d.Date(), time.Now()))
}

func ecosystems(m map[string]int) string {
	var parts []string
	for _, e := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", e, m[e]))
	}
	return strings.Join(parts, ", ")
}

func newDBImport(env *Env, g *global, do *DBOptions) *cobra.Command {
	o := &DBImportOptions{}
	cmd := &cobra.Command{
		Use:   "import [flags] PATH...",
		Short: "Add OSV data of any ecosystem (zips or directories, e.g. Debian or Alpine exports)",
		Long: `Import validates the OSV entries at each PATH (a directory of OSV JSON files,
read recursively; a zip of them, such as osv.dev's ECOSYSTEM/all.zip; or
one JSON file) and stores the valid ones in the cache as a source that scan
and check use from then on. Importing a name again replaces it.

A malformed entry is skipped with a warning naming its file; --strict
stores nothing then. Entries of ecosystems redline does not match are kept
and counted (see 'db status'). A zip with a member name that leaves the
archive (.., absolute) is refused.`,
		Example: `  redline db import debian-12-all.zip --name debian-12
  redline db import ./osv/alpine
  redline db import --list
  redline db import --remove debian-12`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunDBImport(cmd.Context(), env, g, do, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "name of the imported source (default the file name)")
	f.StringVar(&o.Date, "date", "", "the data's date, YYYY-MM-DD or RFC 3339 (default the newest date of its entries)")
	f.BoolVar(&o.List, "list", false, "list the cached sources")
	f.StringVar(&o.Remove, "remove", "", "delete the cached source with this ID (see --list)")
	f.BoolVar(&o.Strict, "strict", false, "store nothing when an entry is malformed")
	return cmd
}

// RunDBImport is `redline db import`.
func RunDBImport(ctx context.Context, env *Env, g *global, do *DBOptions, o *DBImportOptions, paths []string) error {
	log := g.logger(env.Stderr)
	dir, err := do.cacheDir(env)
	if err != nil {
		return err
	}
	switch {
	case o.List && (o.Remove != "" || len(paths) > 0):
		return usageErrorf("--list takes no PATH and no --remove")
	case o.Remove != "" && len(paths) > 0:
		return usageErrorf("--remove takes no PATH")
	case o.List:
		return listSources(env.Stdout, dir)
	case o.Remove != "":
		if err := db.RemoveSource(dir, o.Remove); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "removed %s\n", o.Remove)
		return nil
	case len(paths) == 0:
		return usageErrorf("give a PATH to import (or --list, --remove ID)")
	case o.Name != "" && len(paths) > 1:
		return usageErrorf("--name names one PATH; import the others separately")
	}
	iopts := db.ImportOptions{CacheDir: dir, Name: o.Name, Strict: o.Strict}
	if o.Date != "" {
		if iopts.Date, err = parseDate(o.Date); err != nil {
			return usageErrorf("--date %s: %v", o.Date, err)
		}
	}
	for _, p := range paths {
		cs, warnings, err := db.Import(p, iopts)
		for _, w := range warnings {
			log.Warn(w)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "imported %s: %d entries (%s) of %s from %s", cs.ID, cs.Entries, ecosystems(cs.Ecosystems), cs.Date.Format(time.DateOnly), p)
		if len(warnings) > 0 {
			fmt.Fprintf(env.Stdout, "; %d malformed entries skipped", len(warnings))
		}
		fmt.Fprintln(env.Stdout)
		for _, eco := range slices.Sorted(maps.Keys(cs.Ecosystems)) {
			if !db.Matched(eco) {
				log.Warn(fmt.Sprintf("ecosystem %s is not matched by redline: its %d entries are kept and counted only", eco, cs.Ecosystems[eco]), "path", p)
			}
		}
	}
	return nil
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func listSources(w io.Writer, dir string) error {
	list, err := db.ListSources(dir)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintf(w, "no cached sources in %s: the embedded data is used\n", dir)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSOURCE\tDATE\tENTRIES\tECOSYSTEMS\tORIGIN")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", s.ID, s.Name, s.Date.Format(time.DateOnly), s.Entries, ecosystems(s.Ecosystems), s.Origin)
	}
	return tw.Flush()
}
