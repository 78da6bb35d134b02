#!/usr/bin/env bash
# Install btype and what it needs.
#   ./install.sh        the package, for running experiments
#   ./install.sh dev    also the test tools (pytest, hypothesis, Dask, scikit-learn) and
#                       Icarus Verilog + Graphviz, which the export tests drive
# PyTorch: an installed torch (any recent version) is kept. Otherwise a machine with an
# NVIDIA GPU gets the default CUDA build; a machine without one gets the CPU build
# (torch 2.13.0+cpu from a local wheel where this machine kind has one, else from
# PyTorch's CPU index) so that no gigabytes of CUDA wheels are pulled for nothing.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
pip_install() { "$PY" -m pip install -q --disable-pip-version-check "$@"; }

if "$PY" -c "import torch" 2>/dev/null; then
    echo "install.sh: keeping installed torch $("$PY" -c 'import torch; print(torch.__version__)')"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    pip_install "torch>=2.1"
else
    pip_install "torch==2.13.0+cpu" 2>/dev/null \
        || pip_install torch --index-url https://download.pytorch.org/whl/cpu
fi

if [ "${1:-}" = "dev" ]; then
    pip_install -e ".[dev]"
    if ! command -v iverilog >/dev/null 2>&1 || ! command -v dot >/dev/null 2>&1; then
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        if command -v apt-get >/dev/null 2>&1; then
            $SUDO apt-get update -qq >/dev/null && \
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq iverilog graphviz >/dev/null
        else
            echo "install.sh: please install Icarus Verilog and Graphviz (iverilog, dot) by hand" >&2
        fi
    fi
else
    pip_install -e ".[data]"
fi
echo "install.sh: done"
