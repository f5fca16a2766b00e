package ci

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/lint/yamlx"
)

func TestSettings(t *testing.T) {
	gh := `name: ci
on: push
env:
  GOPROXY: direct
  OTHER: x
jobs:
  build:
    env: {GOFLAGS: -mod=mod}
    steps:
    - run: |
        echo start
        go env -w GOSUMDB=off GONOSUMDB=*
        export GOPRIVATE="github.com"
    - run: go env -w GOINSECURE=x
`
	gl := `stages: [build]
variables:
  GOPROXY: {value: "http://athens:3000", description: the proxy}
build:
  script:
    - export GOFLAGS=-mod=mod
`
	for _, tc := range []struct {
		name, path, src string
		ci              bool
		want            []string
	}{
		{"github", "repo/.github/workflows/ci.yml", gh, true, []string{
			"4 CI env GOPROXY=direct", "8 CI env GOFLAGS=-mod=mod", "12 CI go env -w GOSUMDB=off", "12 CI go env -w GONOSUMDB=*",
			"13 CI export GOPRIVATE=github.com", "14 CI go env -w GOINSECURE=x"}},
		{"gitlab by shape", "ci.yaml", gl, true, []string{"3 CI variables GOPROXY=http://athens:3000", "6 CI export GOFLAGS=-mod=mod"}},
		{"not CI", "values.yaml", "env:\n  GOPROXY: direct\n", false, nil},
	} {
		f := yamlx.Parse(tc.path, []byte(tc.src), 0)
		d := f.Docs[0]
		if got := IsCI(tc.path, d); got != tc.ci {
			t.Errorf("%s: IsCI = %v", tc.name, got)
		}
		if !tc.ci {
			continue
		}
		var got []string
		for _, s := range Settings(f, d) {
			got = append(got, fmt.Sprintf("%d %s %s=%s", s.Where.Line, s.Via, s.Key, s.Value))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
