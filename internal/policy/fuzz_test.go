package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParse: any bytes give a policy or an ErrInvalid error whose every
// line names the file; a policy that parses evaluates without panicking
// and its levels are valid.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "version: 1\n", "lines:\n  size: {max: binary+1MiB}\n",
		"build:\n  toolchain: go1.27.3\n  caps: [NET_BIND_SERVICE]\nlines:\n  data: {level: warning, maxAge: 30d}\n",
		"waivers:\n  - {line: shell, id: /bin/sh, reason: because, expires: 2027-01-01}\n",
		"lines: &a\n  size: *a\n", "{\"lines\": {\"efficiency\": {\"min\": 0.5}}}", "- [\n", "lines:\n  size: {max: binary*1e308}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse("p.yaml", src)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "p.yaml") {
					t.Fatalf("error line without the file name: %q", line)
				}
			}
			return
		}
		for _, name := range LineNames {
			switch p.Level(name) {
			case Error, Warning, Off:
			default:
				t.Fatalf("line %s has level %q", name, p.Level(name))
			}
		}
		Evaluate(p, &Measurements{GoVersions: map[string]string{"/b": "go1.26.8"}}, time.Unix(0, 0))
	})
}
