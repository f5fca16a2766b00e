package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/redline-go/redline/internal/imagetest"
)

// TestBuildScripts runs the transcripts of testdata/build: `redline build`
// with the real go command on tiny modules inside each script (no
// dependencies, no network). $WORK also holds the sample naive.tar for
// --compare.
func TestBuildScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles Go modules: not in -short")
	}
	goEnv := map[string]string{}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOROOT"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		goEnv[k] = strings.TrimSpace(string(out))
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/build",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			for k, v := range goEnv {
				env.Setenv(k, v)
			}
			env.Setenv("GOTOOLCHAIN", "local")
			env.Setenv("GOFLAGS", "-buildvcs=false")
			env.Setenv("GOPROXY", "off")
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			env.Setenv("PATH", filepath.Join(goEnv["GOROOT"], "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
			return imagetest.WriteTar(filepath.Join(env.WorkDir, "naive.tar"), imagetest.SampleFiles()["naive.tar"])
		},
	})
}
