package cli

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/layers"
)

// progressMin is the compressed size from which a progress bar is worth
// drawing; smaller images finish before it would be seen.
const progressMin = 64 << 20

type progress struct {
	opts  image.PassOptions
	mu    sync.Mutex
	drawn bool
	last  time.Time
	env   *Env
}

// withProgress adds a progress bar on stderr when stderr is a terminal;
// otherwise it stays silent.
func withProgress(po image.PassOptions, env *Env, label string) *progress {
	p := &progress{opts: po, env: env}
	if !env.IsTerminal {
		return p
	}
	p.opts.Progress = func(done, total int64) {
		if total < progressMin {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		now := time.Now()
		if now.Sub(p.last) < 100*time.Millisecond && done < total {
			return
		}
		p.last = now
		const width = 30
		n := int(float64(done) / float64(total) * width)
		n = min(max(n, 0), width)
		fmt.Fprintf(env.Stderr, "\r%s[%s%s] %3.0f%% %s / %s ", label+prefixSep(label), strings.Repeat("█", n), strings.Repeat("·", width-n),
			float64(done)*100/float64(total), layers.HumanBytes(done), layers.HumanBytes(total))
		p.drawn = true
	}
	return p
}

func prefixSep(label string) string {
	if label == "" {
		return ""
	}
	return " "
}

// done clears the bar.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintf(p.env.Stderr, "\r%s\r", strings.Repeat(" ", 79))
	}
}
