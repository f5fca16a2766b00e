package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Engines (docker:NAME, podman:NAME) are reached through their HTTP API on
// a unix socket. Both speak the Docker compat API; redline uses two calls of
// it: GET /images/{name}/json to learn whether an image is there, and
// GET /images/{name}/get to export it as a docker-archive, which is spooled
// to a temp file and read like docker-archive:FILE.

// engineClient talks to one engine's API socket.
type engineClient struct {
	eng  Scheme
	addr string // as configured, e.g. "unix:///run/podman/podman.sock"
	http *http.Client
}

// engineDialTimeout bounds connecting to the socket; reading the answer is
// bounded only by the caller's context (an export can take minutes).
const engineDialTimeout = 5 * time.Second

func newEngineClient(eng Scheme, o *Options) (*engineClient, error) {
	addr, err := engineAddr(eng, o)
	if err != nil {
		return nil, err
	}
	sock, ok := strings.CutPrefix(addr, "unix://")
	if !ok {
		return nil, fmt.Errorf("%s API address %q: only unix sockets are supported (unix:///path/to.sock)", eng, addr)
	}
	if sock == "" {
		return nil, fmt.Errorf("%s API address %q: no socket path", eng, addr)
	}
	d := &net.Dialer{Timeout: engineDialTimeout}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", sock)
		},
		DisableCompression: true,
		MaxIdleConns:       2,
		IdleConnTimeout:    30 * time.Second,
	}
	return &engineClient{eng: eng, addr: addr, http: &http.Client{Transport: tr}}, nil
}

// engineAddr returns the API address of an engine in unix:///path form:
// the option, else the engine's environment variable, else its usual
// socket. A bare absolute path is taken as a unix socket.
func engineAddr(eng Scheme, o *Options) (string, error) {
	var addr string
	switch eng {
	case Docker:
		addr = o.DockerHost
		if addr == "" {
			addr = os.Getenv("DOCKER_HOST")
		}
		if addr == "" {
			addr = "unix:///var/run/docker.sock"
		}
	case Podman:
		addr = o.PodmanHost
		if addr == "" {
			addr = os.Getenv("CONTAINER_HOST")
		}
		if addr == "" {
			addr = "unix://" + podmanDefaultSocket()
		}
	default:
		return "", fmt.Errorf("%q is not a container engine (want docker or podman)", eng)
	}
	if strings.HasPrefix(addr, "/") {
		addr = "unix://" + addr
	}
	return addr, nil
}

// podmanDefaultSocket is where `podman system service` listens by default:
// the rootful socket for root, else the user's runtime directory.
func podmanDefaultSocket() string {
	uid := os.Geteuid()
	if uid == 0 {
		return "/run/podman/podman.sock"
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = fmt.Sprintf("/run/user/%d", uid)
	}
	return filepath.Join(dir, "podman", "podman.sock")
}

// unreachable explains a failed connection and what to do about it.
func (c *engineClient) unreachable(err error) error {
	var hint string
	switch c.eng {
	case Podman:
		hint = "start it with `podman system service`, or set CONTAINER_HOST"
		if os.Geteuid() != 0 {
			hint = "start it with `systemctl --user start podman.socket` or `podman system service`, or set CONTAINER_HOST"
		}
	default:
		hint = "start the docker daemon, or set DOCKER_HOST"
	}
	return fmt.Errorf("cannot reach the %s API at %s: %w (%s)", c.eng, c.addr, err, hint)
}

// get issues GET /images/{name}/{what}.
func (c *engineClient) get(ctx context.Context, name, what string) (*http.Response, error) {
	u := "http://" + string(c.eng) + "/images/" + url.PathEscape(name) + "/" + what
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("image name %q: %w", name, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, c.unreachable(err)
	}
	return resp, nil
}

// apiError turns an unexpected answer into an error carrying the engine's
// message ({"message": "..."} in the compat API).
func (c *engineClient) apiError(resp *http.Response, what string) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var m struct {
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		msg = m.Message
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return fmt.Errorf("%s API: %s: %s (HTTP %d)", c.eng, what, msg, resp.StatusCode)
}

// has asks the engine whether it holds the image.
func (c *engineClient) has(ctx context.Context, name string) (bool, error) {
	resp, err := c.get(ctx, name, "json")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, c.apiError(resp, "inspecting image "+fmt.Sprintf("%q", name))
}

// engineHas reports whether the engine holds an image by that name. An
// engine that cannot be reached is an error, not a no.
func engineHas(ctx context.Context, eng Scheme, name string, o *Options) (bool, error) {
	c, err := newEngineClient(eng, o)
	if err != nil {
		return false, err
	}
	return c.has(ctx, name)
}

// openEngine exports the image from the engine into a temp file and reads
// it as a docker-archive. Closing the image removes the file.
func openEngine(ctx context.Context, eng Scheme, name string, o *Options) (*Image, error) {
	c, err := newEngineClient(eng, o)
	if err != nil {
		return nil, err
	}
	ok, err := c.has(ctx, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("image %q not found in %s", name, eng)
	}
	file, err := c.export(ctx, name, o)
	if err != nil {
		return nil, err
	}
	img, err := openDockerArchive(file, "", o)
	if err != nil {
		os.Remove(file)
		return nil, fmt.Errorf("reading the export of %s: %w", eng, err)
	}
	img.closers = append(img.closers, closeFunc(func() error {
		if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}))
	if img.Name == "" {
		img.Name = name
	}
	return img, nil
}

// export spools GET /images/{name}/get into a temp file, bounded by the
// total-bytes limit (the export holds the layers uncompressed, so its size
// is close to what the pass would read). It returns the file's path.
func (c *engineClient) export(ctx context.Context, name string, o *Options) (path string, err error) {
	resp, err := c.get(ctx, name, "get")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", c.apiError(resp, fmt.Sprintf("exporting image %q", name))
	}
	f, err := os.CreateTemp(o.TempDir, "redline-"+string(c.eng)+"-*.tar")
	if err != nil {
		return "", fmt.Errorf("spooling the export: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("spooling the export: %w", cerr)
		}
		if err != nil {
			os.Remove(f.Name())
			path = ""
		}
	}()
	var src io.Reader = resp.Body
	max := o.Limits.withDefaults().TotalBytes
	if max > 0 {
		src = io.LimitReader(resp.Body, max+1)
	}
	n, err := io.Copy(f, src)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", ctxErr
		}
		return "", fmt.Errorf("exporting image %q from %s after %d bytes: %w", name, c.eng, n, err)
	}
	if max > 0 && n > max {
		return "", fmt.Errorf("exporting image %q from %s: %w", name, c.eng, &LimitError{Limit: "export bytes", Value: max, Flag: "--max-total-bytes"})
	}
	return f.Name(), nil
}
