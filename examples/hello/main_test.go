package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		addr    string
		guard   bool
		grace   time.Duration
		wantErr string
	}{
		{name: "defaults", addr: ":8080", grace: 10 * time.Second},
		{name: "all set", env: map[string]string{"ADDR": "127.0.0.1:80", "GUARD_ENDPOINT": "1", "SHUTDOWN_TIMEOUT": "25s"}, addr: "127.0.0.1:80", guard: true, grace: 25 * time.Second},
		{name: "empty values keep defaults", env: map[string]string{"ADDR": "", "GUARD_ENDPOINT": "", "SHUTDOWN_TIMEOUT": ""}, addr: ":8080", grace: 10 * time.Second},
		{name: "endpoint off", env: map[string]string{"GUARD_ENDPOINT": "false"}, addr: ":8080", grace: 10 * time.Second},
		{name: "host name", env: map[string]string{"ADDR": "localhost:9000"}, addr: "localhost:9000", grace: 10 * time.Second},
		{name: "no port", env: map[string]string{"ADDR": "8080"}, wantErr: `ADDR="8080": want HOST:PORT or :PORT`},
		{name: "port out of range", env: map[string]string{"ADDR": ":70000"}, wantErr: `port "70000" is not a number from 0 to 65535`},
		{name: "endpoint not a boolean", env: map[string]string{"GUARD_ENDPOINT": "yes please"}, wantErr: `GUARD_ENDPOINT="yes please": want 1 or 0`},
		{name: "negative timeout", env: map[string]string{"SHUTDOWN_TIMEOUT": "-1s"}, wantErr: "SHUTDOWN_TIMEOUT=\"-1s\": want a positive duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.addr != tt.addr || cfg.guardEndpoint != tt.guard || cfg.timeouts.shutdown != tt.grace {
				t.Errorf("got %q %v %v, want %q %v %v", cfg.addr, cfg.guardEndpoint, cfg.timeouts.shutdown, tt.addr, tt.guard, tt.grace)
			}
			if cfg.timeouts.readHeader <= 0 || cfg.timeouts.read <= 0 || cfg.timeouts.write <= 0 || cfg.timeouts.idle <= 0 {
				t.Errorf("a server timeout is unset: %+v", cfg.timeouts)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	report := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the report") })
	type resp struct {
		Code int
		Body string
	}
	tests := []struct {
		name, method, path string
		endpoint           bool
		want               resp
	}{
		{"root", "GET", "/", false, resp{200, "hello from redline\n"}},
		{"health", "GET", "/healthz", false, resp{200, "ok\n"}},
		{"health HEAD", "HEAD", "/healthz", false, resp{200, "ok\n"}}, // the server, not the recorder, drops a HEAD body
		{"health POST", "POST", "/healthz", false, resp{405, "Method Not Allowed\n"}},
		{"unknown path", "GET", "/nope", false, resp{404, "404 page not found\n"}},
		{"report off by default", "GET", "/debug/guard", false, resp{404, "404 page not found\n"}},
		{"report opted in", "GET", "/debug/guard", true, resp{200, "the report"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(config{guardEndpoint: tt.endpoint}, report)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if diff := cmp.Diff(tt.want, resp{rec.Code, rec.Body.String()}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestGracefulShutdown: a request in flight when the context ends completes; new
// connections are refused; serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, h, defaultTimeouts, quietLogger()) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{string(b), err}
	}()
	<-started
	cancel() // SIGTERM
	time.Sleep(50 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("a new connection was accepted during shutdown")
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request: %q, %v", r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

func TestShutdownTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(2 * time.Second)
	})
	to := defaultTimeouts
	to.shutdown = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, h, to, quietLogger()) }()
	go http.Get("http://" + ln.Addr().String() + "/")
	<-started
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "requests still running after 100ms") {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("serve did not give up after the shutdown timeout")
	}
}

// TestReadHeaderTimeout: a client that never finishes its headers is cut off.
func TestReadHeaderTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	to := defaultTimeouts
	to.readHeader = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go serve(ctx, ln, newHandler(config{}, nil), to, quietLogger())
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n") // and never the blank line
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(c)
	if err != nil {
		t.Fatalf("the server did not close the connection: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("closed after %v", d)
	}
}

// The binary, as a process: guard at start-up, the opt-in endpoint, SIGTERM, exit codes.
func TestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hello")
	if out, err := exec.Command(goTool(), "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	t.Run("serves and stops on SIGTERM", func(t *testing.T) {
		cmd := exec.Command(bin)
		// Outside a hardened container most checks fail; warn only.
		cmd.Env = []string{"ADDR=127.0.0.1:0", "GUARD_ENDPOINT=1", "REDLINE_GUARD_WARN=all"}
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		lines := make(chan map[string]any, 100)
		go func() {
			sc := bufio.NewScanner(stderr)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var m map[string]any
				if json.Unmarshal(sc.Bytes(), &m) == nil {
					lines <- m
				}
			}
			close(lines)
		}()
		var addr string
		var guardLine map[string]any
		for m := range lines {
			switch m["msg"] {
			case "guard: privileges within policy":
				guardLine = m
			case "hello: listening":
				addr = m["addr"].(string)
			}
			if addr != "" {
				break
			}
		}
		if addr == "" || guardLine == nil {
			t.Fatalf("no start-up logs (addr %q, guard %v)", addr, guardLine)
		}
		g := guardLine["guard"].(map[string]any)
		if g["ok"] != true || g["user"] == nil {
			t.Errorf("guard log: %v", g)
		}
		for path, want := range map[string]string{"/": "hello from redline\n", "/healthz": "ok\n"} {
			resp, err := http.Get("http://" + addr + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != want {
				t.Errorf("%s: %q, want %q", path, b, want)
			}
		}
		resp, err := http.Get("http://" + addr + "/debug/guard")
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			OK     bool `json:"ok"`
			Checks []struct {
				ID, Status string
				Waived     bool
			} `json:"checks"`
		}
		err = json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		if err != nil || !rep.OK || len(rep.Checks) < 10 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("/debug/guard: %v %+v", err, rep)
		}
		resp, err = http.Get("http://" + addr + "/debug/guard?format=text")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.HasPrefix(string(b), "guard: ok") {
				t.Errorf("/debug/guard?format=text: %q", b)
			}
		}

		cmd.Process.Signal(syscall.SIGTERM)
		stopped := false
		for m := range lines {
			stopped = stopped || m["msg"] == "hello: stopped"
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
		if !stopped {
			t.Error("no graceful stop logged")
		}
	})

	t.Run("refuses more privilege than the policy allows", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("runs as root to have too much privilege")
		}
		cmd := exec.Command(bin)
		cmd.Env = []string{"ADDR=127.0.0.1:0"}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 78 {
			t.Fatalf("exit: %v, want 78\n%s", err, out)
		}
		if !strings.Contains(string(out), `"msg":"guard: refusing to start: `) || strings.Contains(string(out), "hello: listening") {
			t.Errorf("log:\n%s", out)
		}
	})

	t.Run("bad configuration", func(t *testing.T) {
		cmd := exec.Command(bin)
		cmd.Env = []string{"ADDR=8080"}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "want HOST:PORT") {
			t.Errorf("exit %v\n%s", err, out)
		}
	})
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}
