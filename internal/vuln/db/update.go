package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/redline-go/redline/internal/vuln/db/internal/osvpack"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// Default endpoints.
const (
	DefaultGOPROXY   = "https://proxy.golang.org,direct"
	DefaultVulnGoDev = "https://vuln.go.dev"
	DefaultOSVDev    = "https://osv-vulnerabilities.storage.googleapis.com"
)

// Download limits: what a hostile or broken server may make redline read.
const (
	maxSmallDoc = 1 << 20   // .info, @latest, index/db.json
	maxIndex    = 256 << 20 // index/modules.json
	maxZip      = 4 << 30   // module zips, vulndb.zip, all.zip
)

// UpdateOptions configure [Update].
type UpdateOptions struct {
	// CacheDir is where the data is stored; default [DefaultCacheDir].
	CacheDir string
	// Source is SourceVulnDB (default: the Go module golang.org/x/vulndb
	// through the module proxy), SourceVulnGoDev or SourceOSVDev.
	Source string
	// Version is the golang.org/x/vulndb version; default "latest".
	Version string
	// GOPROXY is the module proxy list, as in $GOPROXY (comma or pipe
	// separated; file:// URLs work; "direct" cannot be served);
	// default [DefaultGOPROXY]. See [ResolveGOPROXY].
	GOPROXY string
	// URL is the base URL of vuln.go.dev or osv.dev's bucket; default
	// [DefaultVulnGoDev] or [DefaultOSVDev].
	URL string
	// Ecosystems are the osv.dev ecosystems to fetch; default ["Go"].
	// "Go" replaces the Go data like the other sources; every other
	// ecosystem is stored as its own source.
	Ecosystems []string
	// HTTPClient fetches; default http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives progress notes; default: discarded.
	Logger *slog.Logger
	// Now stamps the stored data; default time.Now.
	Now func() time.Time
	// NoEmbedded compares fetched data with the cache only (tests).
	NoEmbedded bool
	// Strict stores nothing when any entry was skipped.
	Strict bool
}

// Fetched is one source an update fetched.
type Fetched struct {
	// Source is the data, as stored or as it would have been.
	Source Source
	// Written is false when the data in use was as new: nothing changed.
	Written bool
	// Note says why nothing was written.
	Note string
}

// UpdateResult is what [Update] did.
type UpdateResult struct {
	Fetched []Fetched
	// Warnings name the entries skipped as malformed.
	Warnings []string
}

// ResolveGOPROXY returns the module proxy list the go command would use:
// $GOPROXY, else `go env GOPROXY` (which sees `go env -w` settings) when a
// go command is on PATH, else [DefaultGOPROXY]. getenv nil means os.Getenv.
func ResolveGOPROXY(ctx context.Context, getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if p := getenv("GOPROXY"); p != "" {
		return p
	}
	if gocmd, err := exec.LookPath("go"); err == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, gocmd, "env", "GOPROXY").Output(); err == nil {
			if p := strings.TrimSpace(string(out)); p != "" {
				return p
			}
		}
	}
	return DefaultGOPROXY
}

// Update fetches newer data and stores it in the cache atomically. On any
// failure nothing in the cache changes and the error says what could not
// be fetched from where; the data in use stays as it was.
func Update(ctx context.Context, o UpdateOptions) (*UpdateResult, error) {
	if o.CacheDir == "" {
		var err error
		if o.CacheDir, err = DefaultCacheDir(nil); err != nil {
			return nil, err
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	u := &updater{o: o, client: o.HTTPClient}
	if u.client == nil {
		u.client = http.DefaultClient
	}
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	res := &UpdateResult{}
	switch o.Source {
	case "", SourceVulnDB, "proxy":
		f, err := u.vulnDBModule(ctx, res)
		if err != nil {
			return nil, err
		}
		res.Fetched = append(res.Fetched, f)
	case SourceVulnGoDev:
		s, err := u.vulnGoDev(ctx)
		if err != nil {
			return nil, err
		}
		res.Warnings = append(res.Warnings, s.warnings...)
		f, err := u.storeGo(s)
		if err != nil {
			return nil, err
		}
		res.Fetched = append(res.Fetched, f)
	case SourceOSVDev:
		ecos := o.Ecosystems
		if len(ecos) == 0 {
			ecos = []string{osv.EcosystemGo}
		}
		// Fetch everything before storing anything: one failure leaves
		// the whole cache as it was.
		var got []*fetchedData
		for _, eco := range ecos {
			s, err := u.osvDev(ctx, eco)
			if err != nil {
				return nil, err
			}
			res.Warnings = append(res.Warnings, s.warnings...)
			got = append(got, s)
		}
		for i, s := range got {
			var f Fetched
			var err error
			if ecos[i] == osv.EcosystemGo {
				f, err = u.storeGo(s)
			} else {
				f, err = u.storeSource(s, "osv.dev-"+stem(ecos[i]))
			}
			if err != nil {
				return nil, err
			}
			res.Fetched = append(res.Fetched, f)
		}
	default:
		return nil, fmt.Errorf("unknown source %q: use %s, %s or %s", o.Source, SourceVulnDB, SourceVulnGoDev, SourceOSVDev)
	}
	return res, nil
}

type updater struct {
	o      UpdateOptions
	client *http.Client
}

// fetchedData is data fetched and validated, not yet stored.
type fetchedData struct {
	meta     osvpack.Meta
	recs     []osvpack.Record
	warnings []string
}

func (u *updater) finish(s *osvpack.Set, name, version, origin string, date time.Time) (*fetchedData, error) {
	if s.Len() == 0 {
		msg := fmt.Sprintf("%s: no OSV entries", origin)
		if len(s.Warnings) > 0 {
			msg += fmt.Sprintf(" (%d skipped; the first: %s)", len(s.Warnings), s.Warnings[0])
		}
		return nil, errors.New(msg)
	}
	if u.o.Strict && len(s.Warnings) > 0 {
		return nil, fmt.Errorf("%s: %d entries skipped and strict: nothing stored (the first: %s)", origin, len(s.Warnings), s.Warnings[0])
	}
	recs := s.Records()
	m := osvpack.NewMeta(name, version, date, recs)
	m.Origin = origin
	m.Stored = u.o.Now().UTC().Truncate(time.Second)
	m.SetSkipped(s.Warnings)
	return &fetchedData{meta: m, recs: recs, warnings: s.Warnings}, nil
}

// current returns the Go data in use.
func (u *updater) current() (*osvpack.Meta, error) {
	m, _, err := chooseGoData(u.o.CacheDir, !u.o.NoEmbedded, u.o.Logger)
	return m, err
}

// storeGo stores s as the Go data unless the data in use is as new.
func (u *updater) storeGo(s *fetchedData) (Fetched, error) {
	cur, err := u.current()
	if err != nil {
		// A damaged cached update is replaced by the new one.
		u.o.Logger.Warn("replacing unreadable cached data", "err", err)
		cur = nil
	}
	if cur != nil && !s.meta.Date.After(cur.Date) {
		return Fetched{Source: sourceOf(s.meta, "", false), Note: fmt.Sprintf("the data in use (%s of %s) is as new", describe(*cur), cur.Date.Format(time.DateOnly))}, nil
	}
	p := filepath.Join(u.o.CacheDir, goPackName)
	if err := writePack(p, s.meta, s.recs); err != nil {
		return Fetched{}, err
	}
	return Fetched{Source: sourceOf(s.meta, p, false), Written: true}, nil
}

func (u *updater) storeSource(s *fetchedData, id string) (Fetched, error) {
	p := filepath.Join(u.o.CacheDir, sourcesDirName, id+packExt)
	if err := writePack(p, s.meta, s.recs); err != nil {
		return Fetched{}, err
	}
	return Fetched{Source: sourceOf(s.meta, p, false), Written: true}, nil
}

func describe(m osvpack.Meta) string {
	if m.Version != "" {
		return m.Name + " " + m.Version
	}
	return m.Name
}

// vulnDBModule fetches golang.org/x/vulndb through the module proxy
// protocol (https://go.dev/ref/mod#goproxy-protocol).
func (u *updater) vulnDBModule(ctx context.Context, res *UpdateResult) (Fetched, error) {
	mod := osvpack.VulnDBModule
	query := u.o.Version
	if query == "" {
		query = "latest"
	}
	proxies := u.o.GOPROXY
	if proxies == "" {
		proxies = DefaultGOPROXY
	}
	var errs []string
	for _, p := range parseGOPROXY(proxies) {
		switch p.url {
		case "off":
			errs = append(errs, "GOPROXY=off: module downloads are disabled")
			return Fetched{}, u.proxyErr(mod, query, proxies, errs)
		case "direct":
			errs = append(errs, "direct: redline reads golang.org/x/vulndb only through a module proxy (set GOPROXY, or use --source vuln.go.dev)")
			continue
		}
		f, err := u.fromProxy(ctx, p.url, mod, query, res)
		if err == nil {
			return f, nil
		}
		errs = append(errs, err.Error())
		if !p.fallAny && !errors.Is(err, errNotFound) {
			break
		}
	}
	return Fetched{}, u.proxyErr(mod, query, proxies, errs)
}

func (u *updater) proxyErr(mod, query, proxies string, errs []string) error {
	return fmt.Errorf("fetching %s@%s through GOPROXY=%s: %s", mod, query, proxies, strings.Join(errs, "; "))
}

func (u *updater) fromProxy(ctx context.Context, base, mod, query string, res *UpdateResult) (Fetched, error) {
	escMod, err := module.EscapePath(mod)
	if err != nil {
		return Fetched{}, err
	}
	info, err := u.resolve(ctx, base, escMod, mod, query)
	if err != nil {
		return Fetched{}, err
	}
	date := osvpack.VersionTime(info.Version)
	if date.IsZero() {
		date = info.Time.UTC()
	}
	// Skip the download (tens of MB) when the data in use is this version.
	if cur, err := u.current(); err == nil && cur != nil && !date.After(cur.Date) {
		m := osvpack.Meta{Name: mod, Version: info.Version, Date: date, Origin: base}
		return Fetched{Source: sourceOf(m, "", false), Note: fmt.Sprintf("the data in use (%s of %s) is as new", describe(*cur), cur.Date.Format(time.DateOnly))}, nil
	}
	escV, err := module.EscapeVersion(info.Version)
	if err != nil {
		return Fetched{}, err
	}
	zipURL := joinURL(base, escMod+"/@v/"+escV+".zip")
	u.o.Logger.Info("fetching", "url", zipURL)
	tmp, err := u.download(ctx, zipURL)
	if err != nil {
		return Fetched{}, err
	}
	defer os.Remove(tmp)
	sum, err := osvpack.HashZip(tmp)
	if err != nil {
		return Fetched{}, fmt.Errorf("%s: %w", zipURL, err)
	}
	s := &osvpack.Set{}
	if err := s.AddModuleZip(tmp, mod, info.Version); err != nil {
		return Fetched{}, fmt.Errorf("%s: %w", zipURL, err)
	}
	relabel(s.Warnings, tmp, zipURL)
	fd, err := u.finish(s, mod, info.Version, base, date)
	if err != nil {
		return Fetched{}, err
	}
	fd.meta.Sum = sum
	res.Warnings = append(res.Warnings, fd.warnings...)
	return u.storeGo(fd)
}

// versionInfo is the proxy's .info document.
type versionInfo struct {
	Version string
	Time    time.Time
}

// resolve asks a proxy for a version's info. "latest" is resolved as the
// go command does it, and so as mirrors serve it: the highest version of
// @v/list, or @latest (a pseudo-version, for an untagged module such as
// golang.org/x/vulndb) when that is newer or the list is empty.
func (u *updater) resolve(ctx context.Context, base, escMod, mod, query string) (versionInfo, error) {
	info := func(v string) (versionInfo, error) {
		escV, err := module.EscapeVersion(v)
		if err != nil {
			return versionInfo{}, fmt.Errorf("version %q: %w", v, err)
		}
		return u.getInfo(ctx, joinURL(base, escMod+"/@v/"+escV+".info"), mod)
	}
	if query != "latest" {
		return info(query)
	}
	listURL := joinURL(base, escMod+"/@v/list")
	u.o.Logger.Info("fetching", "url", listURL)
	b, _, err := u.getSmall(ctx, listURL, maxSmallDoc)
	if err != nil && !errors.Is(err, errNotFound) {
		return versionInfo{}, err
	}
	best := ""
	for _, v := range strings.Fields(string(b)) {
		if module.Check(mod, v) == nil && (best == "" || semver.Compare(v, best) > 0) {
			best = v
		}
	}
	latest, err := u.getInfo(ctx, joinURL(base, escMod+"/@latest"), mod)
	switch {
	case err == nil && (best == "" || semver.Compare(latest.Version, best) >= 0):
		return latest, nil
	case err != nil && !errors.Is(err, errNotFound):
		return versionInfo{}, err
	case best == "":
		return versionInfo{}, fmt.Errorf("%s: no versions: %w", joinURL(base, escMod), errNotFound)
	}
	if t := osvpack.VersionTime(best); !t.IsZero() {
		return versionInfo{Version: best, Time: t}, nil
	}
	return info(best)
}

func (u *updater) getInfo(ctx context.Context, infoURL, mod string) (versionInfo, error) {
	u.o.Logger.Info("fetching", "url", infoURL)
	b, _, err := u.getSmall(ctx, infoURL, maxSmallDoc)
	if err != nil {
		return versionInfo{}, err
	}
	var vi versionInfo
	if err := json.Unmarshal(b, &vi); err != nil {
		return versionInfo{}, fmt.Errorf("%s: %w", infoURL, err)
	}
	if err := module.Check(mod, vi.Version); err != nil {
		return versionInfo{}, fmt.Errorf("%s: %w", infoURL, err)
	}
	return vi, nil
}

// relabel replaces the temporary file's name by the URL in messages.
func relabel(msgs []string, tmp, label string) {
	for i, m := range msgs {
		msgs[i] = strings.Replace(m, tmp, label, 1)
	}
}

type proxyEntry struct {
	url string
	// fallAny: the next proxy is tried after any error ('|'), not only
	// after "not found" (',').
	fallAny bool
}

func parseGOPROXY(s string) []proxyEntry {
	var out []proxyEntry
	for s != "" {
		i := strings.IndexAny(s, ",|")
		item, sep := s, byte(0)
		if i >= 0 {
			item, sep, s = s[:i], s[i], s[i+1:]
		} else {
			s = ""
		}
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, proxyEntry{url: strings.TrimRight(item, "/"), fallAny: sep == '|'})
		}
	}
	return out
}

// vulnGoDev fetches the Go vulnerability database from a server with
// vuln.go.dev's layout: index/db.json for the date, then vulndb.zip, or
// when there is none index/modules.json and every ID/ID.json.
func (u *updater) vulnGoDev(ctx context.Context) (*fetchedData, error) {
	base := strings.TrimRight(u.o.URL, "/")
	if base == "" {
		base = DefaultVulnGoDev
	}
	dbURL := joinURL(base, "index/db.json")
	u.o.Logger.Info("fetching", "url", dbURL)
	b, _, err := u.getSmall(ctx, dbURL, maxSmallDoc)
	if err != nil {
		return nil, err
	}
	var dbMeta struct {
		Modified time.Time `json:"modified"`
	}
	if err := json.Unmarshal(b, &dbMeta); err != nil {
		return nil, fmt.Errorf("%s: %w", dbURL, err)
	}
	if dbMeta.Modified.IsZero() {
		return nil, fmt.Errorf("%s: no \"modified\" date", dbURL)
	}
	s := &osvpack.Set{}
	zipURL := joinURL(base, "vulndb.zip")
	u.o.Logger.Info("fetching", "url", zipURL)
	tmp, err := u.download(ctx, zipURL)
	switch {
	case err == nil:
		defer os.Remove(tmp)
		err := s.AddZipFile(tmp, func(name string) bool {
			rest, ok := strings.CutPrefix(name, layoutIDDir+"/")
			return ok && !strings.Contains(rest, "/") && strings.HasSuffix(rest, ".json")
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", zipURL, err)
		}
		relabel(s.Warnings, tmp, zipURL)
	case errors.Is(err, errNotFound):
		u.o.Logger.Info("no zip; fetching entry by entry", "url", joinURL(base, "index/modules.json"))
		if err := u.vulnGoDevEntries(ctx, base, s); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	return u.finish(s, SourceVulnGoDev, "", base, dbMeta.Modified.UTC())
}

func (u *updater) vulnGoDevEntries(ctx context.Context, base string, s *osvpack.Set) error {
	modURL := joinURL(base, "index/modules.json")
	b, _, err := u.getSmall(ctx, modURL, maxIndex)
	if err != nil {
		return err
	}
	var mods []struct {
		Path  string `json:"path"`
		Vulns []struct {
			ID string `json:"id"`
		} `json:"vulns"`
	}
	if err := json.Unmarshal(b, &mods); err != nil {
		return fmt.Errorf("%s: %w", modURL, err)
	}
	var ids []string
	for _, m := range mods {
		for _, v := range m.Vulns {
			if err := osvpack.CheckID(v.ID); err != nil || v.ID == "" {
				s.Warnings = append(s.Warnings, fmt.Sprintf("%s: skipped: unusable id %q", modURL, v.ID))
				continue
			}
			if !slices.Contains(ids, v.ID) {
				ids = append(ids, v.ID)
			}
		}
	}
	slices.Sort(ids)
	type result struct {
		data []byte
		err  error
	}
	results := make([]result, len(ids))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			b, _, err := u.getSmall(ctx, joinURL(base, layoutIDDir+"/"+id+".json"), osvpack.MaxEntrySize)
			results[i] = result{b, err}
		}()
	}
	wg.Wait()
	for i, id := range ids {
		r := results[i]
		idURL := joinURL(base, layoutIDDir+"/"+id+".json")
		switch {
		case errors.Is(r.err, errNotFound):
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s: skipped: listed in index/modules.json but not served", idURL))
		case r.err != nil:
			return r.err
		default:
			s.Add(idURL, r.data)
		}
	}
	return nil
}

// osvDev fetches one ecosystem's all.zip from osv.dev's bucket.
func (u *updater) osvDev(ctx context.Context, eco string) (*fetchedData, error) {
	if eco == "" || strings.ContainsAny(eco, "/\\") || strings.Contains(eco, "..") {
		return nil, fmt.Errorf("unusable ecosystem %q", eco)
	}
	base := strings.TrimRight(u.o.URL, "/")
	if base == "" {
		base = DefaultOSVDev
	}
	zipURL := joinURL(base, url.PathEscape(eco)+"/all.zip")
	u.o.Logger.Info("fetching", "url", zipURL)
	tmp, err := u.download(ctx, zipURL)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	s := &osvpack.Set{}
	if err := s.AddZipFile(tmp, osvpack.AllJSON); err != nil {
		return nil, fmt.Errorf("%s: %w", zipURL, err)
	}
	relabel(s.Warnings, tmp, zipURL)
	date := s.Newest
	if date.IsZero() {
		date = u.o.Now().UTC().Truncate(time.Second)
	}
	return u.finish(s, SourceOSVDev, "", zipURL, date)
}

// errNotFound reports a 404 or 410 (or a missing file:// file): the
// resource does not exist there, which is not a network failure.
var errNotFound = errors.New("not found")

// open GETs a URL; http(s) and file URLs work.
func (u *updater) open(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	pu, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if pu.Scheme == "file" {
		f, err := os.Open(filepath.FromSlash(pu.Path))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", rawURL, errNotFound)
		}
		return f, err
	}
	if pu.Scheme != "http" && pu.Scheme != "https" {
		return nil, fmt.Errorf("%s: unsupported URL scheme %q", rawURL, pu.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, err // *url.Error names the URL
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp.Body, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s: %w", rawURL, resp.Status, errNotFound)
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", rawURL, resp.Status)
	}
}

// getSmall reads a bounded document.
func (u *updater) getSmall(ctx context.Context, rawURL string, limit int64) ([]byte, string, error) {
	rc, err := u.open(ctx, rawURL)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", rawURL, err)
	}
	if int64(len(b)) > limit {
		return nil, "", fmt.Errorf("%s: more than %d bytes", rawURL, limit)
	}
	return b, rawURL, nil
}

// download stores a large document in a temporary file of the cache
// directory and returns its name; the caller removes it.
func (u *updater) download(ctx context.Context, rawURL string) (string, error) {
	rc, err := u.open(ctx, rawURL)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	f, err := os.CreateTemp(u.o.CacheDir, ".download-*")
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, io.LimitReader(rc, maxZip+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > maxZip {
		err = fmt.Errorf("more than %d bytes", int64(maxZip))
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("%s: %w", rawURL, err)
	}
	return f.Name(), nil
}

func joinURL(base, rel string) string { return strings.TrimRight(base, "/") + "/" + rel }
