// Package gomod holds the rules on a Go module's supply chain: the go
// command's settings (from go env, which reads GOENV; from a Dockerfile's
// ENV and RUN lines; from CI files), go.sum against the module cache,
// vendor/ against go.mod, requirements nothing imports, several major
// versions of one module, and a toolchain older than the release that
// fixes known standard-library vulnerabilities.
package gomod

import (
	"fmt"
	"strings"

	"github.com/redline-go/redline/internal/lint/rule"
)

// Setting is one Go environment setting and where it is made.
type Setting struct {
	Key, Value string
	Where      rule.Location
	// Via says how it is set: "environment", "go env -w", "ENV", "RUN",
	// "CI env".
	Via string
}

// publicHosts are module hosts that serve many owners: a pattern naming
// only the host covers everyone's modules.
var publicHosts = map[string]bool{
	"github.com": true, "gitlab.com": true, "bitbucket.org": true, "golang.org": true, "google.golang.org": true,
	"gopkg.in": true, "go.googlesource.com": true, "k8s.io": true, "sigs.k8s.io": true, "go.uber.org": true,
	"cloud.google.com": true, "go.opentelemetry.io": true, "codeberg.org": true, "gitea.com": true, "go.etcd.io": true,
}

// broad reports a GOPRIVATE-style glob that matches public modules of
// many owners.
func broad(pattern string) bool {
	elems := strings.Split(strings.Trim(pattern, "/"), "/")
	host := elems[0]
	if host == "" {
		return false
	}
	if strings.ContainsAny(host, "*?[") {
		// "*", "*.com": what is left after the wildcard labels is at most
		// a top-level domain. "*.corp.example.com" is one owner's.
		var fixed []string
		for _, label := range strings.Split(host, ".") {
			if !strings.ContainsAny(label, "*?[") {
				fixed = append(fixed, label)
			}
		}
		return len(fixed) <= 1
	}
	if publicHosts[host] && (len(elems) == 1 || strings.ContainsAny(elems[1], "*?[")) {
		return true
	}
	return false
}

// CheckSettings applies the settings rules. vendored says vendor/
// exists where the settings apply.
func CheckSettings(ss []Setting, vendored bool) []rule.Finding {
	var fs []rule.Finding
	add := func(r *rule.Rule, s Setting, msg, fix string) {
		f := r.New(s.Where, s.Via+" "+s.Key, msg)
		f.Fix = fix
		fs = append(fs, f)
	}
	for _, s := range ss {
		v := strings.TrimSpace(s.Value)
		switch s.Key {
		case "GOSUMDB":
			if strings.EqualFold(v, "off") {
				add(&SumDBOff, s, fmt.Sprintf("%s sets GOSUMDB=off: module downloads are not checked against the checksum database", s.Via), "unset GOSUMDB; use narrow GOPRIVATE patterns for private modules")
			}
		case "GONOSUMDB", "GOPRIVATE", "GONOSUMCHECK":
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" && broad(p) {
					extra := ""
					if s.Key == "GOPRIVATE" {
						extra = " (GOPRIVATE also turns checksum verification off: GONOSUMDB defaults to it)"
					}
					add(&BroadPrivate, s, fmt.Sprintf("%s=%s: pattern %q exempts public modules from checksum verification%s", s.Key, v, p, extra), "name your organisation: github.com/myorg/*")
					break
				}
			}
		case "GOINSECURE":
			if v != "" {
				add(&Insecure, s, fmt.Sprintf("GOINSECURE=%s: matching modules are fetched without TLS verification", v), "unset GOINSECURE")
			}
		case "GOPROXY":
			list := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '|' })
			switch {
			case len(list) == 1 && list[0] == "direct":
				add(&DirectOnly, s, "GOPROXY=direct: every module comes straight from its VCS host, with no immutable copy", "GOPROXY=https://proxy.golang.org,direct (or your mirror)")
			default:
				for _, p := range list {
					if strings.HasPrefix(p, "http://") && !loopback(p) {
						add(&DirectOnly, s, fmt.Sprintf("GOPROXY uses %s over plain HTTP", p), "use https:// for the proxy")
						break
					}
				}
			}
		case "GOFLAGS":
			if vendored {
				for _, fl := range strings.Fields(v) {
					if fl == "-mod=mod" || fl == "--mod=mod" {
						add(&ModMod, s, "GOFLAGS=-mod=mod ignores vendor/ in a vendored module", "drop -mod=mod (or use -mod=vendor)")
						break
					}
				}
			}
		}
	}
	return fs
}

func loopback(u string) bool {
	h := strings.TrimPrefix(u, "http://")
	h, _, _ = strings.Cut(h, "/")
	h, _, _ = strings.Cut(h, ":")
	return h == "localhost" || h == "127.0.0.1" || h == "[::1]" || strings.HasPrefix(h, "127.")
}
