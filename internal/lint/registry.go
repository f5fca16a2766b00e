package lint

import (
	"slices"
	"strings"

	"github.com/redline-go/redline/internal/lint/dockerfile"
	"github.com/redline-go/redline/internal/lint/gomod"
	"github.com/redline-go/redline/internal/lint/imagecheck"
	"github.com/redline-go/redline/internal/lint/kube"
	"github.com/redline-go/redline/internal/lint/rule"
)

// Catalogue returns every rule, in the order of the catalogue: image,
// Dockerfile, Kubernetes, cross-checks, Go module. This list is the
// registry: a rule package's rules exist for redline when they are here.
func Catalogue() []*rule.Rule {
	var all []*rule.Rule
	all = append(all, imagecheck.Rules()...)
	all = append(all, dockerfile.Rules()...)
	all = append(all, kube.Rules()...)
	all = append(all, gomod.Rules()...)
	return all
}

// Lookup returns the rule with an ID (any case), nil when there is none.
func Lookup(id string) *rule.Rule {
	id = strings.ToUpper(strings.TrimSpace(id))
	i := slices.IndexFunc(Catalogue(), func(r *rule.Rule) bool { return r.ID == id })
	if i < 0 {
		return nil
	}
	return Catalogue()[i]
}

func known(id string) bool { return Lookup(id) != nil }
