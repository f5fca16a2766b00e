package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/image"
)

func TestProgressOnlyOnTerminalsAndLargeImages(t *testing.T) {
	var buf bytes.Buffer
	p := withProgress(image.PassOptions{}, &Env{Stderr: &buf, IsTerminal: false}, "")
	if p.opts.Progress != nil {
		t.Fatal("progress callback set for a non-terminal")
	}

	p = withProgress(image.PassOptions{}, &Env{Stderr: &buf, IsTerminal: true}, "")
	p.opts.Progress(1<<20, 2<<20) // a small image: silent
	if buf.Len() != 0 {
		t.Fatalf("small image drew %q", buf.String())
	}
	p.opts.Progress(150<<20, 300<<20)
	if got := buf.String(); !strings.Contains(got, " 50% 150.0 MiB / 300.0 MiB") || !strings.HasPrefix(got, "\r[") {
		t.Fatalf("bar = %q", got)
	}
	p.done()
	if !strings.HasSuffix(buf.String(), "\r") {
		t.Fatalf("bar not cleared: %q", buf.String())
	}
}
