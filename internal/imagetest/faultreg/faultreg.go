// Package faultreg is an in-process container registry on loopback that
// misbehaves on request. It wraps go-containerregistry's registry (which
// stores what is pushed and serves it back) in a handler that applies
// rules: a rule matches requests by method and path and answers them with
// a fault instead of, or on top of, the real response.
//
// # Faults
//
//   - [Status]: a 5xx (or any) status, with or without Retry-After.
//   - [Reset]: the real headers and the first N body bytes, then a TCP
//     reset.
//   - [Truncate]: the real headers, whose Content-Length promises the whole
//     body, the first N bytes, then a clean close.
//   - [Delay]: wait, then the real response.
//   - [Slow]: the real response a chunk at a time with a pause between
//     chunks; a pause longer than the test stalls the body.
//   - [Corrupt]: the real response with its body rewritten (wrong bytes for
//     a digest).
//
// Credentials are a mode of the whole server: [Server.RequireBasic] and
// [Server.RequireBearer] answer unauthenticated /v2/ requests with 401 and
// a WWW-Authenticate challenge; the bearer realm is a token endpoint on the
// same server that hands out a token for the right user and password.
//
// Every request is logged ([Server.Requests]) so a test can count retries
// and see Range headers.
package faultreg

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Server is a fault-injecting registry on loopback. Its zero value is not
// usable; call [New].
type Server struct {
	// Host is host:port, for image references ("HOST/repo:tag").
	Host string
	// URL is the base URL, http://HOST.
	URL string

	srv *httptest.Server
	reg http.Handler

	mu    sync.Mutex
	rules []*rule
	reqs  []Request
	auth  *auth
}

// Request is one request the server saw.
type Request struct {
	Method string
	Path   string
	// Range is the Range header, if any.
	Range string
	// Fault names the fault applied ("" when served normally or refused
	// for want of credentials).
	Fault string
	// Unauthorized is set when the request was answered with a 401.
	Unauthorized bool
	// At is when the request arrived.
	At time.Time
}

// Rule selects requests and the fault that answers them.
type Rule struct {
	// Method matches the request method; "" matches any.
	Method string
	// Path matches when it is a substring of the URL path (e.g. a blob
	// digest, "/manifests/"); "" matches any.
	Path string
	// Times is how many matching requests get the fault; 0 means all.
	Times int
	// Fault answers the matching requests.
	Fault Fault
}

type rule struct {
	Rule
	left int // requests still to fault; <0 unlimited
}

// A Fault answers a request instead of the registry, usually using the
// registry's real response.
type Fault interface {
	// Name says what the fault does, for the request log.
	Name() string
	serve(s *Server, w http.ResponseWriter, r *http.Request)
}

// New starts a registry on loopback; it stops when the test ends.
func New(t interface {
	Helper()
	Cleanup(func())
}) *Server {
	t.Helper()
	s := &Server{reg: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.Close)
	s.URL = s.srv.URL
	s.Host = strings.TrimPrefix(s.srv.URL, "http://")
	return s
}

// Close stops the server and closes every connection, waiting for handlers
// (a stalled [Slow] handler returns when its client goes away).
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Add installs rules; the first matching rule with requests left wins.
func (s *Server) Add(rules ...Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rules {
		left := r.Times
		if left == 0 {
			left = -1
		}
		s.rules = append(s.rules, &rule{Rule: r, left: left})
	}
}

// Clear removes all rules.
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Count counts logged requests with the method ("" any) whose path
// contains path.
func (s *Server) Count(method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && strings.Contains(r.Path, path) {
			n++
		}
	}
	return n
}

// ResetLog empties the request log.
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}

// Handler is the registry without faults or credentials, for pushing test
// images through a second server or directly.
func (s *Server) Handler() http.Handler { return s.reg }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	entry := Request{Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"), At: time.Now()}
	if r.URL.Path == tokenPath {
		s.log(entry)
		s.serveToken(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/v2") && !s.authorized(r) {
		entry.Unauthorized = true
		s.log(entry)
		s.challenge(w)
		return
	}
	f := s.match(r)
	if f == nil {
		s.log(entry)
		s.reg.ServeHTTP(w, r)
		return
	}
	entry.Fault = f.Name()
	s.log(entry)
	f.serve(s, w, r)
}

func (s *Server) log(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r)
}

func (s *Server) match(r *http.Request) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ru := range s.rules {
		if ru.left == 0 {
			continue
		}
		if ru.Method != "" && ru.Method != r.Method {
			continue
		}
		if ru.Path != "" && !strings.Contains(r.URL.Path, ru.Path) {
			continue
		}
		if ru.left > 0 {
			ru.left--
		}
		return ru.Fault
	}
	return nil
}

// record runs the real registry on r.
func (s *Server) record(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.reg.ServeHTTP(rec, r)
	return rec
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = append([]string(nil), v...)
	}
}

// Status answers with code and a registry error body; retryAfter, when
// not empty, is sent as the Retry-After header (seconds or an HTTP date).
func Status(code int, retryAfter string) Fault { return status{code, retryAfter} }

type status struct {
	code       int
	retryAfter string
}

func (f status) Name() string {
	if f.retryAfter != "" {
		return fmt.Sprintf("status %d, Retry-After %s", f.code, f.retryAfter)
	}
	return fmt.Sprintf("status %d", f.code)
}

func (f status) serve(_ *Server, w http.ResponseWriter, _ *http.Request) {
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.code)
	fmt.Fprintf(w, `{"errors":[{"code":"UNAVAILABLE","message":"faultreg: injected %d"}]}`, f.code)
}

// Reset sends the real status, headers and the first n body bytes, then
// resets the connection (SO_LINGER 0), as a proxy or load balancer dying
// mid-transfer does.
func Reset(n int64) Fault { return cut{n: n, reset: true} }

// Truncate sends the real status and headers, whose Content-Length
// promises the whole body, then only the first n body bytes and a clean
// close: the body is shorter than announced.
func Truncate(n int64) Fault { return cut{n: n} }

type cut struct {
	n     int64
	reset bool
}

func (f cut) Name() string {
	if f.reset {
		return fmt.Sprintf("reset after %d bytes", f.n)
	}
	return fmt.Sprintf("truncate after %d bytes", f.n)
}

func (f cut) serve(s *Server, w http.ResponseWriter, r *http.Request) {
	rec := s.record(r)
	body := rec.Body.Bytes()
	conn, bw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	h := rec.Header().Clone()
	h.Set("Content-Length", fmt.Sprint(len(body)))
	h.Set("Connection", "close")
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	h.Write(bw)
	bw.WriteString("\r\n")
	if r.Method != http.MethodHead {
		bw.Write(body[:min(f.n, int64(len(body)))])
	}
	bw.Flush()
	if !f.reset {
		return
	}
	// Give the client a moment to read what was sent: a reset discards
	// data the peer has received but not yet read, and the point is a
	// failure mid-body, not before the headers.
	time.Sleep(20 * time.Millisecond)
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
}

// Delay waits d (or until the client goes away), then serves the real
// response.
func Delay(d time.Duration) Fault { return delay(d) }

type delay time.Duration

func (f delay) Name() string { return fmt.Sprintf("delay %s", time.Duration(f)) }

func (f delay) serve(s *Server, w http.ResponseWriter, r *http.Request) {
	t := time.NewTimer(time.Duration(f))
	defer t.Stop()
	select {
	case <-t.C:
		s.reg.ServeHTTP(w, r)
	case <-r.Context().Done():
	}
}

// Slow sends the real response chunk bytes at a time, pausing between
// chunks; it stops when the client goes away. A pause longer than the
// test stalls the body after its first chunk.
func Slow(chunk int, pause time.Duration) Fault { return slow{chunk, pause} }

type slow struct {
	chunk int
	pause time.Duration
}

func (f slow) Name() string { return fmt.Sprintf("slow: %d bytes every %s", f.chunk, f.pause) }

func (f slow) serve(s *Server, w http.ResponseWriter, r *http.Request) {
	rec := s.record(r)
	copyHeader(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	body := rec.Body.Bytes()
	if r.Method == http.MethodHead {
		return
	}
	fl, _ := w.(http.Flusher)
	for len(body) > 0 {
		n := min(f.chunk, len(body))
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		body = body[n:]
		if fl != nil {
			fl.Flush()
		}
		if len(body) == 0 {
			return
		}
		t := time.NewTimer(f.pause)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
}

// Corrupt serves the real response with its body passed through rewrite
// (the Content-Length follows the new body). Rewriting a blob's bytes
// without changing its length is a wrong digest that passes every size
// check.
func Corrupt(rewrite func([]byte) []byte) Fault { return corrupt{rewrite} }

// FlipByte is a [Corrupt] rewrite that inverts the byte at offset i (from
// the end when i is negative), keeping the length.
func FlipByte(i int) func([]byte) []byte {
	return func(b []byte) []byte {
		b = bytes.Clone(b)
		j := i
		if j < 0 {
			j += len(b)
		}
		if j >= 0 && j < len(b) {
			b[j] ^= 0xff
		}
		return b
	}
}

type corrupt struct{ rewrite func([]byte) []byte }

func (corrupt) Name() string { return "corrupt body" }

func (f corrupt) serve(s *Server, w http.ResponseWriter, r *http.Request) {
	rec := s.record(r)
	body := f.rewrite(rec.Body.Bytes())
	copyHeader(w.Header(), rec.Header())
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(rec.Code)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// Credentials.

const tokenPath = "/token"

type auth struct {
	bearer     bool
	user, pass string
	token      string
}

// RequireBasic makes every /v2/ request need HTTP Basic credentials user
// and pass; without them the answer is 401 with a Basic challenge.
func (s *Server) RequireBasic(user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = &auth{user: user, pass: pass}
}

// RequireBearer makes every /v2/ request need a bearer token; without one
// the answer is 401 with a Bearer challenge whose realm is this server's
// token endpoint, which gives a token only for user and pass.
func (s *Server) RequireBearer(user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = &auth{bearer: true, user: user, pass: pass, token: "faultreg-" + base64.RawURLEncoding.EncodeToString([]byte(user))}
}

func (s *Server) authorized(r *http.Request) bool {
	s.mu.Lock()
	a := s.auth
	s.mu.Unlock()
	if a == nil {
		return true
	}
	if a.bearer {
		return r.Header.Get("Authorization") == "Bearer "+a.token
	}
	u, p, ok := r.BasicAuth()
	return ok && u == a.user && p == a.pass
}

func (s *Server) challenge(w http.ResponseWriter) {
	s.mu.Lock()
	a := s.auth
	s.mu.Unlock()
	if a.bearer {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="faultreg"`, s.URL+tokenPath))
	} else {
		w.Header().Set("WWW-Authenticate", `Basic realm="faultreg"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a := s.auth
	s.mu.Unlock()
	if a == nil || !a.bearer {
		http.NotFound(w, r)
		return
	}
	u, p, ok := r.BasicAuth()
	if !ok || u != a.user || p != a.pass {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad or missing credentials"}]}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token": a.token, "access_token": a.token, "expires_in": 300})
}
