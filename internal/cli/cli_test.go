package cli_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/redline-go/redline/internal/cli"
	"github.com/redline-go/redline/internal/imagetest"
)

var update = flag.Bool("update", false, "rewrite the golden files inside testdata/script/*.txtar")

func run() int {
	return cli.Main(context.Background(), os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
}

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"redline": func() { os.Exit(run()) },
		// exits N ARGS... runs redline and succeeds only when it exits N,
		// so scripts can tell a crossed gate (1) from an error (2).
		"exits": func() {
			want, err := strconv.Atoi(os.Args[1])
			if err != nil {
				fmt.Fprintln(os.Stderr, "exits: first argument must be the expected code")
				os.Exit(100)
			}
			os.Args = append(os.Args[:1], os.Args[2:]...)
			if got := run(); got != want {
				fmt.Fprintf(os.Stderr, "exit code %d, want %d\n", got, want)
				os.Exit(100)
			}
			os.Exit(0)
		},
	})
}

// TestScripts runs the CLI transcripts of testdata/script. Each script's
// $WORK holds the sample images: naive.tar (docker-archive), slim.oci.tar
// (OCI archive) and slim-layout/ (OCI layout directory).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			for name, files := range imagetest.SampleFiles() {
				if err := imagetest.WriteTar(filepath.Join(env.WorkDir, name), files); err != nil {
					return err
				}
			}
			return imagetest.Build(imagetest.Slim()).WriteOCIDir(filepath.Join(env.WorkDir, "slim-layout"), "")
		},
	})
}
