package guard_test

import (
	"context"
	"fmt"
	"os"

	"github.com/redline-go/redline/guard"
)

// The image's labels reach the process through the environment (a Kubernetes manifest
// sets these from dev.redline.user and dev.redline.caps) and replace the allow-lists.
func ExamplePolicy_fromImageLabels() {
	os.Setenv(guard.EnvUser, "65532:65532") // dev.redline.user
	os.Setenv(guard.EnvCaps, "")            // dev.redline.caps: the image grants none
	defer os.Unsetenv(guard.EnvUser)
	defer os.Unsetenv(guard.EnvCaps)

	report, err := guard.Check(context.Background(), guard.Policy{KeepGOMEMLIMIT: true})
	if err != nil {
		panic(err)
	}
	for _, id := range []string{guard.CheckUser, guard.CheckGroup, guard.CheckCapsEffective, guard.CheckCapsAmbient} {
		r, _ := report.Result(id)
		fmt.Printf("%s: expected %s\n", id, r.Expected)
	}
	// Output:
	// user: expected 65532
	// group: expected 65532
	// caps.effective: expected none
	// caps.ambient: expected none
}
