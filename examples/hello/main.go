// Command hello is redline's reference service: a small HTTP server built and run the
// way redline recommends. It checks its own privileges with package guard before it
// serves, bounds every phase of a request with a timeout, answers health probes, and
// shuts down gracefully on SIGTERM.
//
// Environment:
//
//	ADDR              listen address (default ":8080"; ":80" needs CAP_NET_BIND_SERVICE)
//	GUARD_ENDPOINT    "1" serves guard's start-up report at GET /debug/guard
//	                  (JSON; ?format=text for people). Default off: it shows how the
//	                  process is confined, which is not for everyone to read.
//	SHUTDOWN_TIMEOUT  how long in-flight requests may take after SIGTERM (default 10s;
//	                  keep it below the pod's terminationGracePeriodSeconds)
//	REDLINE_GUARD_*   the privilege policy recorded in the image labels (package guard)
//
// Exit codes: 0 after a graceful shutdown, 1 when serving fails, 2 for a bad
// configuration, 78 (EX_CONFIG) when guard finds more privilege than the policy allows.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		logger.Error("hello: bad configuration", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	// Check privileges before binding the port or serving anything; exits 78 on failure.
	report := startupCheck(ctx, logger)

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		logger.Error("hello: cannot listen", "addr", cfg.addr, "err", err)
		os.Exit(1)
	}
	if err := serve(ctx, ln, newHandler(cfg, report), cfg.timeouts, logger); err != nil {
		logger.Error("hello: serving failed", "err", err)
		os.Exit(1)
	}
}

// config is what the environment sets.
type config struct {
	addr          string // listen address; default ":8080"
	guardEndpoint bool   // serve GET /debug/guard; default false
	timeouts      timeouts
}

// timeouts bound the phases of a connection. Without ReadHeaderTimeout a client that
// sends headers slowly (slowloris) holds a connection and a goroutine for ever.
type timeouts struct {
	readHeader, read, write, idle, shutdown time.Duration
}

var defaultTimeouts = timeouts{
	readHeader: 5 * time.Second,
	read:       15 * time.Second,
	write:      15 * time.Second,
	idle:       60 * time.Second,
	shutdown:   10 * time.Second,
}

func loadConfig(lookup func(string) (string, bool)) (config, error) {
	cfg := config{addr: ":8080", timeouts: defaultTimeouts}
	if v, ok := lookup("ADDR"); ok && v != "" {
		_, port, err := net.SplitHostPort(v)
		if err != nil {
			return config{}, fmt.Errorf("ADDR=%q: want HOST:PORT or :PORT: %w", v, err)
		}
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return config{}, fmt.Errorf("ADDR=%q: port %q is not a number from 0 to 65535", v, port)
		}
		cfg.addr = v
	}
	if v, ok := lookup("GUARD_ENDPOINT"); ok && v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return config{}, fmt.Errorf("GUARD_ENDPOINT=%q: want 1 or 0", v)
		}
		cfg.guardEndpoint = on
	}
	if v, ok := lookup("SHUTDOWN_TIMEOUT"); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return config{}, fmt.Errorf("SHUTDOWN_TIMEOUT=%q: want a positive duration such as 10s", v)
		}
		cfg.timeouts.shutdown = d
	}
	return cfg, nil
}

// newHandler routes the service's endpoints. report serves guard's start-up report.
func newHandler(cfg config, report http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "hello from redline")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	})
	if cfg.guardEndpoint {
		mux.Handle("GET /debug/guard", report)
	}
	return mux
}

// serve serves on ln until ctx is done, then stops accepting connections and waits up to
// t.shutdown for the requests in flight.
func serve(ctx context.Context, ln net.Listener, h http.Handler, t timeouts, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("hello: listening", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("hello: shutting down", "timeout", t.shutdown.String())
	sctx, cancel := context.WithTimeout(context.Background(), t.shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("requests still running after %v: %w", t.shutdown, err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("hello: stopped")
	return nil
}
