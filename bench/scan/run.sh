#!/usr/bin/env bash
# Compares `redline scan` with govulncheck v1.9.0 on the same binaries and
# the same data: examples/hello built with default flags and stripped,
# govulncheck served redline's embedded snapshot as a file:// database.
# Usage: bash bench/scan/run.sh   (from the repository root)
set -euo pipefail
work=bench/work/scan
mkdir -p "$work"
GOFLAGS= GOBIN="$PWD/$work" go install golang.org/x/vuln/cmd/govulncheck@v1.9.0
go build -o "$work/redline" ./cmd/redline
CGO_ENABLED=0 go build -o /tmp/hello-default ./examples/hello
CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /tmp/hello-stripped ./examples/hello
# A source scan writes the vuln.go.dev layout of the embedded data once.
"$work/redline" scan -q -o json=/dev/null go:./examples/hello
layout=$(ls -d "$(go env GOCACHE)/../redline/govulndb/"*/ 2>/dev/null | head -1)
[ -n "$layout" ] || layout=$(ls -d ~/.cache/redline/govulndb/*/ | head -1)
for b in hello-default hello-stripped; do
  echo "== $b"
  /usr/bin/time -f "govulncheck %e s %M KB" "$work/govulncheck" -db "file://$layout" -mode binary -format json "/tmp/$b" > "/tmp/gv-$b.json"
  /usr/bin/time -f "redline     %e s %M KB" "$work/redline" scan -q -o "json=/tmp/rl-$b.json" "file:/tmp/$b"
done
python3 bench/scan/compare.py
