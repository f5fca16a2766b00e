// Package check is redline's closed loop: build a Go package (or take an
// image), walk the image once with every step's visitors (layer analysis,
// the SBOM catalogers, the function tables for reachability, the image
// lint rules), scan, lint the manifests beside it, and hold it all
// against the project's red lines (package policy). The result is one
// model ([Result]) that package report renders as a terminal summary,
// report.json, SARIF and HTML.
package check
