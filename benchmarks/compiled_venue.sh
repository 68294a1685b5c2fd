#!/usr/bin/env bash
# The venue compiled with mypyc, against the same venue in pure Python, in one run.
#
#   bash benchmarks/compiled_venue.sh [--orders 50000 ...]   (arguments go to bench_matching.py)
#
# Exports this checkout's committed tree twice to a temporary directory, compiles in one of
# them the modules of the matching path that mypyc accepts (it refuses the attrs-based ones,
# e.g. order_groups.py: "list object expected; got attr._make._CountingAttr"), and runs
# bench_matching.py on the pure tree, then on the compiled one. Needs mypy (which carries
# mypyc), a C compiler and the Python headers. Nothing is installed; the directory is removed.
set -euo pipefail
python=${PYTHON:-python}
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
modules=(book matching accounts state market records fee_meter rules)
for tree in pure compiled; do
  mkdir "$work/$tree"
  git -C "$repo" archive HEAD | tar -x -C "$work/$tree"
done
# setuptools, which mypyc builds with, rejects hatchling's SPDX `license = "MIT"`.
mv "$work/compiled/pyproject.toml" "$work/compiled/pyproject.hatch.toml"
sources=()
for module in "${modules[@]}"; do sources+=("kalshi_core/exchange/$module.py"); done
(cd "$work/compiled" && "$python" -m mypyc "${sources[@]}" >"$work/mypyc.log" 2>&1) \
  || { tail -20 "$work/mypyc.log"; exit 1; }
for tree in pure compiled; do
  echo "== $tree tree (mypyc compiles ${modules[*]} in the compiled one)"
  (cd "$work/$tree/benchmarks" && PYTHONPATH="$work/$tree" "$python" bench_matching.py \
    --peer-rounds 0 "$@")
done
