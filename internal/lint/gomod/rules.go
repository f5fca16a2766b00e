package gomod

import "github.com/redline-go/redline/internal/lint/rule"

var (
	settingKinds = []rule.Kind{rule.GoModule, rule.Dockerfile, rule.CI}
	moduleOnly   = []rule.Kind{rule.GoModule}
)

// The Go module and toolchain rules.
var (
	SumDBOff = rule.Rule{
		ID: "RL-GO-001", Severity: rule.High, Targets: settingKinds,
		Title: "GOSUMDB=off: module checksums are not verified",
		Help: `With GOSUMDB=off the go command accepts whatever a proxy or VCS server returns for a module version it has not seen before: a compromised proxy, a moved tag or a typo-squatted module goes into the build unnoticed.

Fix: unset GOSUMDB (the default is sum.golang.org); list private modules in GONOSUMDB or GOPRIVATE with narrow patterns instead (` + "`GOPRIVATE=github.com/myorg/*`" + `).`,
	}
	BroadPrivate = rule.Rule{
		ID: "RL-GO-002", Severity: rule.Medium, Targets: settingKinds,
		Title: "GOPRIVATE or GONOSUMDB pattern too broad",
		Help: `A pattern such as ` + "`*`" + `, ` + "`*.com`" + ` or ` + "`github.com`" + ` exempts public modules from checksum verification: GONOSUMDB turns it off for them, and GOPRIVATE does too (GONOSUMDB defaults to GOPRIVATE), besides bypassing the proxy.

Fix: name your own organisation or host: ` + "`GOPRIVATE=github.com/myorg/*,git.internal.example`" + `.`,
	}
	Insecure = rule.Rule{
		ID: "RL-GO-003", Severity: rule.High, Targets: settingKinds,
		Title: "GOINSECURE allows plain HTTP and unverified TLS for modules",
		Help: `GOINSECURE lets the go command fetch the matching modules over plain HTTP or with certificates it does not verify: anyone on the network path can change the code.

Fix: unset GOINSECURE; serve private modules over HTTPS with a trusted certificate (or through a private proxy).`,
	}
	DirectOnly = rule.Rule{
		ID: "RL-GO-004", Severity: rule.Medium, Targets: settingKinds,
		Title: "GOPROXY is direct only, or a plain-HTTP proxy",
		Help: `GOPROXY=direct fetches every module straight from its VCS host: builds break when a repository disappears or a tag moves, and nothing keeps the versions you built immutable. A proxy reached over http:// can be tampered with on the way.

Fix: use a proxy over HTTPS with direct as the fallback: ` + "`GOPROXY=https://proxy.golang.org,direct`" + ` (or your company's mirror).`,
	}
	ModMod = rule.Rule{
		ID: "RL-GO-005", Severity: rule.Medium, Targets: settingKinds,
		Title: "-mod=mod in GOFLAGS where the module is vendored",
		Help: `The module vendors its dependencies (vendor/modules.txt), but GOFLAGS=-mod=mod makes the go command ignore vendor/ and resolve modules from the network and the module cache, updating go.mod as it goes: the build no longer uses the reviewed, checked-in code.

Fix: drop -mod=mod (the go command uses vendor/ by default when it exists), or use -mod=vendor explicitly.`,
	}
	GoSum = rule.Rule{
		ID: "RL-GO-006", Severity: rule.High, Targets: moduleOnly,
		Title: "go.sum missing, incomplete or inconsistent",
		Help: `go.sum pins the hash of every module version the build uses. Missing or incomplete, the first build trusts whatever it downloads; a hash that differs from the module cache's means one of them was changed.

Fix: run ` + "`go mod tidy`" + ` (or ` + "`go mod download`" + `) and commit go.sum; for a mismatch, find out which side changed before anything else (` + "`go clean -modcache`" + ` and ` + "`go mod verify`" + `).`,
	}
	VendorSync = rule.Rule{
		ID: "RL-GO-007", Severity: rule.Medium, Targets: moduleOnly,
		Title: "vendor/ out of sync with go.mod",
		Help: `vendor/modules.txt does not match go.mod's requirements: the go command refuses to build with -mod=vendor ("inconsistent vendoring"), and the vendored code is not what go.mod says.

Fix: ` + "`go mod vendor`" + `, and review the diff.`,
	}
	Unused = rule.Rule{
		ID: "RL-GO-008", Severity: rule.Low, Targets: moduleOnly,
		Title: "a direct requirement no package of the module imports",
		Help: `go.mod requires a module directly that no .go file of the main module imports (test files and every build tag counted): its code and its own requirements are in the build list for nothing, and in the SBOM and vulnerability reports.

Fix: ` + "`go mod tidy`" + ` (it drops it, or marks it // indirect when a dependency still needs it).`,
	}
	Majors = rule.Rule{
		ID: "RL-GO-009", Severity: rule.Low, Targets: moduleOnly,
		Title: "several major versions of one module",
		Help: `The build list holds two or more major versions of the same module (e.g. v1 and v2): two copies of its code and state, twice its vulnerabilities to track, and types that do not mix.

Fix: move the main module's own imports to one major version; when a dependency pins the old one, upgrade it or live with it knowingly.`,
	}
	Toolchain = rule.Rule{
		ID: "RL-GO-010", Severity: rule.High, Targets: moduleOnly,
		Title: "Go toolchain below the release that fixes known standard-library vulnerabilities",
		Help: `The go or toolchain line of go.mod (or the local Go that builds it when GOTOOLCHAIN=local, since then the toolchain line does not switch Go) is older than the newest patch release that fixes known vulnerabilities of the standard library and the toolchain: every binary built with it carries them.

Fix: ` + "`go get toolchain@goX.Y.Z`" + ` (or raise the go line) to the fixed release, and install it where builds run (or set GOTOOLCHAIN=auto).`,
	}
)

// Rules returns the Go module rules in ID order.
func Rules() []*rule.Rule {
	return []*rule.Rule{&SumDBOff, &BroadPrivate, &Insecure, &DirectOnly, &ModMod, &GoSum, &VendorSync, &Unused, &Majors, &Toolchain}
}
