#!/usr/bin/env bash
# Times `redline check ./examples/hello` (warm caches) against what it
# replaces: `go build` of the same package plus govulncheck v1.9.0's source
# scan (served redline's embedded snapshot as a file:// database), with the
# same toolchain (GOTOOLCHAIN=go1.27.3, as examples/hello/redline.yaml pins).
# Also `redline check` of an already-built image against `redline sbom` of it.
# Usage: bash bench/check/run.sh [RUNS]   (from the repository root)
set -euo pipefail
runs=${1:-3}
work=bench/work/check
mkdir -p "$work"
export GOTOOLCHAIN=go1.27.3
GOFLAGS= GOBIN="$PWD/$work" go install golang.org/x/vuln/cmd/govulncheck@v1.9.0
GOTOOLCHAIN=local go build -o "$work/redline" ./cmd/redline
rl="$work/redline"
# Warm every cache once: the toolchain, the build cache, the source-scan
# cache and the database layout.
"$rl" check -q -o json=/dev/null ./examples/hello >/dev/null || true
layout=$(ls -d ~/.cache/redline/govulndb/*/ | head -1)
"$rl" build -q --toolchain go1.27.3 --to "oci-dir:$work/hello" ./examples/hello >/dev/null

t() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A wall rss
for name in gobuild govulncheck check image_check image_sbom gobuild_edit govulncheck_edit check_edit; do wall[$name]=""; done
cp examples/hello/main.go "$work/main.go.orig"
trap 'cp "$work/main.go.orig" examples/hello/main.go' EXIT
for i in $(seq "$runs"); do
  touch examples/hello/main.go
  read -r w m < <(t go build -trimpath -o "$work/hello.bin" ./examples/hello); wall[gobuild]+="$w "; rss[gobuild]=$m
  read -r w m < <(t "$work/govulncheck" -db "file://$layout" -C examples/hello -format json ./...); wall[govulncheck]+="$w "; rss[govulncheck]=$m
  read -r w m < <(t "$rl" check -q -o json=/dev/null ./examples/hello); wall[check]+="$w "; rss[check]=$m
  read -r w m < <(t "$rl" check -q --policy examples/hello/redline.yaml -o json=/dev/null "oci-dir:$work/hello"); wall[image_check]+="$w "; rss[image_check]=$m
  read -r w m < <(t "$rl" sbom -q -o json=/dev/null "oci-dir:$work/hello"); wall[image_sbom]+="$w "; rss[image_sbom]=$m
  # The edit loop: the source changed, so go build relinks, govulncheck has
  # no cache anyway, and check's source-scan cache misses.
  cp "$work/main.go.orig" examples/hello/main.go; echo "// edit $i $RANDOM" >> examples/hello/main.go
  read -r w m < <(t go build -trimpath -o "$work/hello.bin" ./examples/hello); wall[gobuild_edit]+="$w "; rss[gobuild_edit]=$m
  read -r w m < <(t "$work/govulncheck" -db "file://$layout" -C examples/hello -format json ./...); wall[govulncheck_edit]+="$w "; rss[govulncheck_edit]=$m
  echo "// edit $i $RANDOM b" >> examples/hello/main.go
  read -r w m < <(t "$rl" check -q -o json=/dev/null ./examples/hello); wall[check_edit]+="$w "; rss[check_edit]=$m
  cp "$work/main.go.orig" examples/hello/main.go
done
printf '%-28s %8s %10s\n' step "wall s" "RSS MiB"
for name in gobuild govulncheck check image_check image_sbom gobuild_edit govulncheck_edit check_edit; do
  med=$(echo "${wall[$name]}" | tr ' ' '\n' | grep . | median)
  printf '%-28s %8s %10d\n' "$name" "$med" $(( ${rss[$name]} / 1024 ))
  eval "m_$name=$med"
done
python3 - "$m_gobuild" "$m_govulncheck" "$m_check" "$m_image_check" "$m_image_sbom" "$m_gobuild_edit" "$m_govulncheck_edit" "$m_check_edit" <<'PY'
import sys
b, g, c, ic, isb, be, ge, ce = map(float, sys.argv[1:])
le = 1.2 * (be + ge) + 1
print(f"edit loop: check {ce:.2f} s vs 1.2 x (go build {be:.2f} + govulncheck {ge:.2f}) + 1 = {le:.2f} s: {'met' if ce <= le else 'not met'}")
print(f"warm: check {c:.2f} s = go build {b:.2f} s + {c-b:.2f} s")
limit = 1.2 * (b + g) + 1
print(f"check ./examples/hello {c:.2f} s vs 1.2 x (go build {b:.2f} + govulncheck {g:.2f}) + 1 = {limit:.2f} s: {'met' if c <= limit else 'not met'}")
print(f"check of the built image {ic:.2f} s vs sbom of it {isb:.2f} s: {ic/isb:.2f}x")
PY
