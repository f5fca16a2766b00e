package faultreg_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/imagetest/faultreg"
)

// The faults, seen by a plain HTTP client on the registry's /v2/ ping.
func TestFaults(t *testing.T) {
	get := func(t *testing.T, s *faultreg.Server, req *http.Request) (*http.Response, []byte, error) {
		t.Helper()
		if req == nil {
			req, _ = http.NewRequest(http.MethodGet, s.URL+"/v2/x/manifests/nope", nil) // a 404 with a JSON body
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	t.Run("status with Retry-After, once", func(t *testing.T) {
		s := faultreg.New(t)
		s.Add(faultreg.Rule{Path: "/manifests/", Times: 1, Fault: faultreg.Status(503, "7")})
		resp, _, err := get(t, s, nil)
		if err != nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "7" {
			t.Fatalf("first: %v %v", resp, err)
		}
		resp, _, err = get(t, s, nil)
		if err != nil || resp.StatusCode != 404 {
			t.Fatalf("second (the rule is used up): %v %v", resp, err)
		}
		if reqs := s.Requests(); len(reqs) != 2 || reqs[0].Fault == "" || reqs[1].Fault != "" {
			t.Errorf("log %+v", reqs)
		}
	})
	t.Run("truncate", func(t *testing.T) {
		s := faultreg.New(t)
		s.Add(faultreg.Rule{Fault: faultreg.Truncate(1)})
		_, b, err := get(t, s, nil)
		if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != 1 {
			t.Fatalf("got %q, %v; want 1 byte and unexpected EOF", b, err)
		}
	})
	t.Run("reset", func(t *testing.T) {
		s := faultreg.New(t)
		s.Add(faultreg.Rule{Fault: faultreg.Reset(0)})
		if _, _, err := get(t, s, nil); err == nil {
			t.Fatal("a reset connection read cleanly")
		}
	})
	t.Run("corrupt keeps the length", func(t *testing.T) {
		s := faultreg.New(t)
		_, want, _ := get(t, s, nil)
		s.Add(faultreg.Rule{Fault: faultreg.Corrupt(faultreg.FlipByte(0))})
		_, got, err := get(t, s, nil)
		if err != nil || len(got) != len(want) || len(got) > 0 && got[0] != want[0]^0xff {
			t.Fatalf("got %q (%v), want %q with its first byte flipped", got, err, want)
		}
	})
	t.Run("delay", func(t *testing.T) {
		s := faultreg.New(t)
		s.Add(faultreg.Rule{Fault: faultreg.Delay(50 * time.Millisecond)})
		start := time.Now()
		if resp, _, err := get(t, s, nil); err != nil || resp.StatusCode != 404 {
			t.Fatal(resp, err)
		}
		if time.Since(start) < 50*time.Millisecond {
			t.Error("answered before the delay")
		}
	})
	t.Run("bearer", func(t *testing.T) {
		s := faultreg.New(t)
		s.RequireBearer("u", "p")
		resp, _, _ := get(t, s, nil)
		if resp == nil {
			t.Fatal("no response")
		}
		ch := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != 401 || !strings.HasPrefix(ch, "Bearer realm=") || !strings.Contains(ch, s.URL+"/token") {
			t.Fatalf("unauthenticated: %d %q", resp.StatusCode, ch)
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/token", nil)
		req.SetBasicAuth("u", "wrong")
		if resp, _, _ := get(t, s, req); resp.StatusCode != 401 {
			t.Errorf("token for a wrong password: %d", resp.StatusCode)
		}
		req.SetBasicAuth("u", "p")
		resp, body, _ := get(t, s, req)
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"token"`) {
			t.Fatalf("token: %d %s", resp.StatusCode, body)
		}
	})
}
