package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// openRegistry reads the manifest and config of ref from its registry. The
// layers are not fetched here: each layer's opener streams its blob when
// [Walk] reaches it.
func openRegistry(ctx context.Context, ref string, o *Options) (*Image, error) {
	r, err := parseRegistryRef(ref, o.Insecure)
	if err != nil {
		return nil, err
	}
	lim := o.Limits.withDefaults()
	want := o.platform()
	// One Puller authenticates once per repository and is reused for the
	// manifests, the config and every layer. Retries are redline's own
	// (retryTransport): remote's sleep through a cancelled context, ignore
	// Retry-After and cannot resume a blob cut off mid-body, so they are
	// turned off (one attempt, no retried status codes).
	p, err := remote.NewPuller(
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(o.keychain()),
		remote.WithPlatform(want),
		remote.WithTransport(newRetryTransport(remote.DefaultTransport, registryRetry, lim.MetadataBytes)),
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithRetryStatusCodes(),
	)
	if err != nil {
		return nil, err
	}
	host := r.Context().RegistryStr()
	desc, err := fetchManifest(ctx, p, r, -1, lim)
	if err != nil {
		return nil, accessErr(err, host)
	}
	var chosen *v1.Descriptor // the index entry picked, if ref is an index
	for depth := 0; ; depth++ {
		kind, err := manifestKind(desc)
		if err != nil {
			return nil, err
		}
		if kind == kindImage {
			break
		}
		if depth >= maxIndexDepth {
			return nil, fmt.Errorf("indexes nest deeper than %d levels (a loop?)", maxIndexDepth)
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", desc.Digest, err)
		}
		d, err := PickManifest(idx.Manifests, want)
		if err != nil {
			return nil, err
		}
		if !validHash(d.Digest) {
			return nil, fmt.Errorf("index %s: invalid digest %q", desc.Digest, d.Digest)
		}
		if d.Size < 0 {
			return nil, fmt.Errorf("index %s: manifest %s has a negative size", desc.Digest, d.Digest)
		}
		desc, err = fetchManifest(ctx, p, r.Context().Digest(d.Digest.String()), d.Size, lim)
		if err != nil {
			return nil, accessErr(err, host)
		}
		if int64(len(desc.Manifest)) != d.Size {
			return nil, fmt.Errorf("manifest %s is %d bytes, the index says %d", d.Digest, len(desc.Manifest), d.Size)
		}
		chosen = &d
	}

	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	repo := r.Context()
	img, err := imageFromManifest(m, func(h v1.Hash) ([]byte, error) {
		if m.Config.Size > lim.MetadataBytes {
			return nil, &LimitError{Limit: fmt.Sprintf("metadata bytes (%d)", m.Config.Size), Value: lim.MetadataBytes, Flag: "--max-metadata-bytes"}
		}
		b, err := fetchSmallBlob(ctx, p, repo, h, lim.MetadataBytes)
		return b, accessErr(err, host)
	})
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	img.Digest = desc.Digest
	img.Name = ref
	img.referrers = registryReferrers{p: p, ref: r, lim: lim}
	if img.MediaType == "" {
		img.MediaType = desc.MediaType
	}
	if chosen != nil && chosen.Platform != nil {
		plat := *chosen.Platform
		img.Platform = &plat
	}
	for _, l := range img.Layers {
		dg := repo.Digest(l.Digest.String())
		size := l.Size
		l.open = func(ctx context.Context) (io.ReadCloser, error) {
			rl, err := p.Layer(ctx, dg)
			if err != nil {
				return nil, accessErr(err, host)
			}
			rc, err := rl.Compressed()
			if err != nil {
				return nil, accessErr(err, host)
			}
			// remote fetches a layer without its size and so reads to
			// whatever end the registry chooses; one byte more than the
			// manifest says is enough for the pass to report the lie.
			if size >= 0 {
				return limitedBlob{io.LimitReader(remoteBlob{rc}, size+1), rc}, nil
			}
			return remoteBlob{rc}, nil
		}
	}
	return img, nil
}

// parseRegistryRef parses ref, reaching its registry over plain HTTP only
// when the registry is listed in insecure.
func parseRegistryRef(ref string, insecure []string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("not an image reference: %w", err)
	}
	host := r.Context().RegistryStr()
	for _, h := range insecure {
		norm := h
		if reg, err := name.NewRegistry(h); err == nil {
			norm = reg.RegistryStr()
		}
		if h == host || norm == host {
			return name.ParseReference(ref, name.Insecure)
		}
	}
	return r, nil
}

// fetchManifest fetches a manifest or index, refusing it before the fetch
// when its size is over the limit: size comes from the index entry that
// names it, or for the top reference (size < 0) from a HEAD request.
func fetchManifest(ctx context.Context, p *remote.Puller, ref name.Reference, size int64, lim Limits) (*remote.Descriptor, error) {
	if size < 0 {
		// A failed HEAD carries no error body; the GET below reports it.
		if d, err := p.Head(ctx, ref); err == nil {
			size = d.Size
		}
	}
	if size > lim.MetadataBytes {
		return nil, manifestLimitError(ref, size, lim)
	}
	d, err := p.Get(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("fetching manifest: %w", err)
	}
	if int64(len(d.Manifest)) > lim.MetadataBytes {
		return nil, manifestLimitError(ref, int64(len(d.Manifest)), lim)
	}
	return d, nil
}

func manifestLimitError(ref name.Reference, size int64, lim Limits) error {
	return fmt.Errorf("manifest %s: %w", ref.Identifier(), &LimitError{Limit: fmt.Sprintf("metadata bytes (%d)", size), Value: lim.MetadataBytes, Flag: "--max-metadata-bytes"})
}

type manifestKindT int

const (
	kindImage manifestKindT = iota
	kindIndex
)

// manifestKind tells an image manifest from an index by the media type the
// registry sent, or when that is missing or generic by the document's own
// mediaType field and shape (some static registries send no usable
// Content-Type).
func manifestKind(d *remote.Descriptor) (manifestKindT, error) {
	mt := d.MediaType
	switch {
	case mt == types.DockerManifestSchema1 || mt == types.DockerManifestSchema1Signed:
		return 0, fmt.Errorf("manifest %s is a Docker schema 1 manifest, which is not supported (push the image again with a current tool)", d.Digest)
	case mt.IsIndex():
		return kindIndex, nil
	case mt.IsImage():
		return kindImage, nil
	}
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
		Config    json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(d.Manifest, &probe); err != nil {
		return 0, fmt.Errorf("manifest %s (media type %q): %w", d.Digest, mt, err)
	}
	switch {
	case probe.MediaType.IsIndex():
		return kindIndex, nil
	case probe.MediaType.IsImage():
		return kindImage, nil
	case probe.MediaType == "" && probe.Manifests != nil:
		return kindIndex, nil
	case probe.MediaType == "" && probe.Config != nil:
		return kindImage, nil
	}
	if mt == "" {
		mt = probe.MediaType
	}
	return 0, fmt.Errorf("manifest %s: media type %q is neither an image nor an index", d.Digest, mt)
}

// fetchSmallBlob reads a config blob whole, bounded by max, and checks its
// digest.
func fetchSmallBlob(ctx context.Context, p *remote.Puller, repo name.Repository, h v1.Hash, max int64) ([]byte, error) {
	l, err := p.Layer(ctx, repo.Digest(h.String()))
	if err != nil {
		return nil, fmt.Errorf("fetching: %w", err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetching: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(remoteBlob{rc}, max+1))
	if err != nil {
		return nil, fmt.Errorf("fetching: %w", err)
	}
	if int64(len(b)) > max {
		return nil, &LimitError{Limit: "metadata bytes", Value: max, Flag: "--max-metadata-bytes"}
	}
	if err := checkDigest(b, h); err != nil {
		return nil, err
	}
	return b, nil
}

// remoteBlob passes a blob from go-containerregistry through unchanged but
// for one thing. remote checks a blob's digest and size when the stream
// ends and reports a mismatch with an error type from its internal package,
// which no caller can test for. Every reader of these blobs here ([Walk],
// fetchSmallBlob) hashes and counts the bytes itself and reports a mismatch
// as *DigestError, so remote's report becomes a plain end of stream and the
// typed one surfaces. The test of a corrupt registry blob guards the match
// on the message.
type remoteBlob struct{ io.ReadCloser }

// limitedBlob is a blob read through a limit.
type limitedBlob struct {
	io.Reader
	io.Closer
}

func (b remoteBlob) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && strings.HasPrefix(err.Error(), "error verifying ") {
		err = io.EOF
	}
	return n, err
}

// accessErr turns a registry's refusal (401, 403) into an error that says
// how to get access; other errors pass through.
func accessErr(err error, host string) error {
	var te *transport.Error
	if err == nil || !errors.As(err, &te) {
		return err
	}
	switch te.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("registry %s wants credentials: log in with `docker login %s` or `podman login %s` (redline reads their auth files; REGISTRY_AUTH_FILE names another), then run again: %w", host, host, host, err)
	case http.StatusForbidden:
		return fmt.Errorf("registry %s refused access with the credentials in use: check that this account may pull the image (`docker login %s` to switch accounts): %w", host, host, err)
	}
	return err
}

// retryPolicy bounds how often and how long redline retries a registry.
type retryPolicy struct {
	// Attempts is the number of tries of one request (or one blob body),
	// the first included.
	Attempts int
	// Wait is the pause before the first retry; each next pause is three
	// times longer.
	Wait time.Duration
	// MaxRetryAfter is the longest Retry-After honoured; a registry asking
	// for more gets its error reported at once.
	MaxRetryAfter time.Duration
}

// registryRetry is the policy of every registry source: four tries, at
// most 0.25+0.75+2.25 s of backoff unless the registry asks for more with
// Retry-After. A variable so that tests can shorten the waits.
var registryRetry = retryPolicy{Attempts: 4, Wait: 250 * time.Millisecond, MaxRetryAfter: 10 * time.Second}

// retryTransport retries what is safe to retry: GET and HEAD requests
// (they change nothing) that failed in transit or got a transient status
// (408, 429, 5xx gateway and availability errors), and the body of a blob
// cut off mid-transfer, which is content-addressed and so can be resumed
// with a Range request (or fetched again and skipped) without risk: the
// digest check at the end still covers every byte. It sits under
// go-containerregistry's auth transports, so retried requests carry the
// same credentials. Waits end early when the request's context is done.
//
// Other GET bodies (manifests, indexes, tokens) are read whole inside the
// retry loop, at most maxBody+1 bytes of them (the metadata limit: a
// registry that announces a small manifest and streams an endless one
// meets the limit, not an out-of-memory kill), so a manifest cut off
// midway is fetched again rather than resumed: a tag may have moved.
type retryTransport struct {
	inner   http.RoundTripper
	policy  retryPolicy
	maxBody int64 // <0: no bound
}

func newRetryTransport(inner http.RoundTripper, p retryPolicy, maxBody int64) *retryTransport {
	return &retryTransport{inner: inner, policy: p, maxBody: maxBody}
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return t.inner.RoundTrip(req)
	}
	blob := isBlobRequest(req)
	resp, err := t.try(req, 1, !blob)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK || !blob {
		return resp, err
	}
	resp.Body = &resumeBody{t: t, req: req, body: resp.Body, size: resp.ContentLength}
	return resp, nil
}

// try sends req until it gets an answer not worth retrying or has made
// the policy's attempts, counting from attempt. With whole, the body is
// read inside the loop, so a body cut off midway is one more failed try.
func (t *retryTransport) try(req *http.Request, attempt int, whole bool) (*http.Response, error) {
	for ; ; attempt++ {
		resp, err := t.inner.RoundTrip(req)
		if err == nil && whole && req.Method == http.MethodGet {
			resp, err = t.readWhole(resp)
		}
		wait, again := t.policy.retry(req.Context(), resp, err, attempt)
		if !again {
			return resp, err
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
		}
		if err := sleepCtx(req.Context(), wait); err != nil {
			return nil, err
		}
	}
}

// readWhole replaces resp's body with its bytes, at most maxBody+1.
func (t *retryTransport) readWhole(resp *http.Response) (*http.Response, error) {
	defer resp.Body.Close()
	r := io.Reader(resp.Body)
	if t.maxBody >= 0 {
		r = io.LimitReader(r, t.maxBody+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// retry says whether a try that ended with resp or err is worth another,
// and after how long.
func (p retryPolicy) retry(ctx context.Context, resp *http.Response, err error, attempt int) (time.Duration, bool) {
	if attempt >= p.Attempts || ctx.Err() != nil {
		return 0, false
	}
	wait := p.Wait
	for range attempt - 1 {
		wait *= 3
	}
	if err != nil {
		return wait, transient(err)
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return 0, false
	}
	if ra, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
		if ra > p.MaxRetryAfter {
			return 0, false
		}
		wait = max(wait, ra)
	}
	return wait, true
}

// transient tells network failures that another try may not meet (a
// connection reset or cut short, a timeout) from those it will (a refused
// connection, a bad certificate, an unknown host, a cancelled context).
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && s >= 0 {
		return time.Duration(min(s, 1<<20)) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// isBlobRequest tells a blob GET, following redirects back to the request
// that started them (registries often send blobs from elsewhere).
func isBlobRequest(req *http.Request) bool {
	for r := req; r != nil; {
		if strings.Contains(r.URL.Path, "/blobs/sha256:") || strings.Contains(r.URL.Path, "/blobs/sha512:") {
			return true
		}
		if r.Response == nil {
			break
		}
		r = r.Response.Request
	}
	return false
}

// resumeBody is a blob body that, when the transfer fails midway, asks for
// the rest again and carries on where it stopped: the reader above sees
// one unbroken stream.
type resumeBody struct {
	t       *retryTransport
	req     *http.Request
	body    io.ReadCloser
	n       int64 // bytes delivered
	size    int64 // the whole body's length, -1 unknown
	tries   int   // failed transfers so far
	pending error // a failure that came with bytes, reported on the next Read
}

func (b *resumeBody) Read(p []byte) (int, error) {
	for {
		err := b.pending
		b.pending = nil
		n := 0
		if err == nil {
			n, err = b.body.Read(p)
			b.n += int64(n)
		}
		if err == nil || errors.Is(err, io.EOF) {
			return n, err
		}
		if n > 0 {
			b.pending = err
			return n, nil
		}
		b.tries++
		wait, again := b.t.policy.retry(b.req.Context(), nil, err, b.tries)
		if !again {
			return 0, err
		}
		b.body.Close()
		if rerr := b.resume(wait); rerr != nil {
			// The original failure is the one to report; the resume's
			// own is only context.
			if ctxErr := b.req.Context().Err(); ctxErr != nil {
				return 0, ctxErr
			}
			return 0, fmt.Errorf("%w (resuming after %d bytes: %v)", err, b.n, rerr)
		}
	}
}

// resume waits, then opens the body again at offset b.n.
func (b *resumeBody) resume(wait time.Duration) error {
	b.body = http.NoBody
	if err := sleepCtx(b.req.Context(), wait); err != nil {
		return err
	}
	req := b.req.Clone(b.req.Context())
	if b.n > 0 && b.size > b.n {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", b.n, b.size-1))
	}
	resp, err := b.t.try(req, b.tries+1, false)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusPartialContent && contentRangeStart(resp.Header.Get("Content-Range")) == b.n:
		b.body = resp.Body
	case resp.StatusCode == http.StatusOK:
		// The registry ignored the range: skip what was delivered.
		if _, err := io.CopyN(io.Discard, resp.Body, b.n); err != nil {
			resp.Body.Close()
			return fmt.Errorf("skipping %d bytes already read: %w", b.n, err)
		}
		b.body = resp.Body
	default:
		resp.Body.Close()
		return fmt.Errorf("unexpected answer %s", resp.Status)
	}
	return nil
}

// contentRangeStart is the first byte of "bytes START-END/SIZE", or -1.
func contentRangeStart(v string) int64 {
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return -1
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(start, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func (b *resumeBody) Close() error { return b.body.Close() }
