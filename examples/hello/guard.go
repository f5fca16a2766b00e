package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/redline-go/redline/guard"
)

// startupCheck verifies the process's privileges with guard: it exits 78 when they
// exceed the policy (by default: non-root, at most CAP_NET_BIND_SERVICE, no_new_privs,
// seccomp, read-only root; the image's labels narrow it through REDLINE_GUARD_*), sets
// GOMEMLIMIT from the container's memory limit, and makes an allowed capability that is
// permitted but not effective effective. It returns the handler of /debug/guard.
func startupCheck(ctx context.Context, logger *slog.Logger) http.Handler {
	rep := guard.Enforce(ctx, guard.Policy{Raise: true}, logger)
	body, err := json.Marshal(rep)
	if err != nil {
		body = []byte(`{"error":"encoding the report failed"}`)
	}
	text := rep.String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.URL.RawQuery == "format=text" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte(text))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(append(body, '\n'))
	})
}
