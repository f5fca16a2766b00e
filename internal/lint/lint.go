// Package lint proves least privilege: it checks an image (its config and
// the files of its final filesystem), the Dockerfile that may have made
// it, the Kubernetes manifests that run it, and the Go module set-up that
// feeds it, against one rule catalogue ([Catalogue]), and cross-checks the
// manifests against the image — who the container really runs as, and
// whether the capabilities it is given will work.
//
// # Shape
//
// The rules live in one package per target kind: imagecheck (a visitor of
// the one pass over the layers), dockerfile, kube (manifests and the
// cross-checks), gomod (the go command's settings, go.sum, vendor/,
// requirements, the toolchain). They share the model of package rule.
// This package lists them (registry.go), resolves targets, runs the
// rules, applies inline suppressions and renders the report (table, JSON,
// SARIF). [Pass] lets other commands run the image rules on a walk they
// share with other visitors (SBOM catalogers, layer analysis).
//
// # Suppressions
//
// A comment `# redline:ignore RULE-ID[,RULE-ID] reason` in a Dockerfile
// or YAML file waives the findings of those rules in the next instruction
// or YAML node (with everything under it), or in the node of the line it
// ends; `# redline:ignore-file RULE-ID reason` waives them in the whole
// file. The reason is required. Suppressed findings stay in the JSON and
// SARIF output, marked, and never gate.
package lint

//go:generate go run ./gendocs -o ../../docs/rules.md
