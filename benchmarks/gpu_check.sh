#!/usr/bin/env bash
# The GPU check in one command (a few minutes on one GPU; CPU sizes on a CPU):
#
#   bash benchmarks/gpu_check.sh [--wheels DIR] [--pythonpath DIR] [--fashion DIR] [--out FILE]
#
# It runs the package from source on a bare machine that has only a (CUDA) build of torch,
# torchvision, numpy, pandas, pyyaml and scikit-learn: the pure-Python rest (advertorch,
# pyautoattack, submitit, papermill, filelock, ...) comes from a folder of wheels (unpacked here,
# no pip or registry needed) or from a PYTHONPATH folder (e.g. a copy of .venv's site-packages).
# Fashion-MNIST comes from a folder with the four .gz files (default: ./data, Debian's
# /usr/share/datasets/fashion-mnist); nothing is downloaded. Steps that need a missing package
# are skipped with the reason. Full output goes to FILE (default: benchmarks/results/gpu_check-<host>.txt);
# the last line is `gpu speedup resnet18_b256=<x> wrn=<y> pgd20_vs_advertorch=<z> paper_hours=<h>`.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
wheels="" extra="" fashion="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --wheels) wheels="$2"; shift 2 ;;
    --pythonpath) extra="$2"; shift 2 ;;
    --fashion) fashion="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "gpu_check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
"$python" -c "import torch, torchvision" 2>/dev/null || {
  echo "gpu_check: $python cannot import torch and torchvision; set PYTHON to an interpreter that has them" >&2; exit 2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
path="$repo"
if [ -n "$wheels" ]; then
  mkdir -p "$work/site"
  for w in "$wheels"/*.whl; do
    [ -e "$w" ] || { echo "gpu_check: no .whl files in $wheels" >&2; exit 2; }
    "$python" -m zipfile -e "$w" "$work/site"   # wheels are zip files: pure-Python ones need no installer
  done
  path="$path:$work/site"
fi
[ -n "$extra" ] && path="$path:$extra"
export PYTHONPATH="$path${PYTHONPATH:+:$PYTHONPATH}"
export RST_DATA="$work/data" RST_RUNS="$work/runs" RST_CONFIG="$repo/_config.yml"
mkdir -p "$RST_DATA/FashionMNIST/raw"
for src in "$fashion" "$repo/data/FashionMNIST/raw" "/usr/share/datasets/fashion-mnist"; do
  if [ -n "$src" ] && [ -d "$src" ]; then
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
      if [ ! -e "$RST_DATA/FashionMNIST/raw/$f" ]; then
        if [ -e "$src/$f" ]; then cp "$src/$f" "$RST_DATA/FashionMNIST/raw/$f"
        elif [ -e "$src/$f.gz" ]; then gzip -dc "$src/$f.gz" > "$RST_DATA/FashionMNIST/raw/$f"; fi
      fi
    done
  fi
done
mkdir -p "$repo/benchmarks/results"
out="${out:-$repo/benchmarks/results/gpu_check-$(hostname -s).txt}"
cd "$repo"
"$python" -m benchmarks.gpu_check --work "$work" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
echo "full output: $out"
exit "$status"
