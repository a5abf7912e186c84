#!/usr/bin/env bash
# Makes the virtual environment with torch, transformers, safetensors and tokenizers that the family tests
# use as their oracle (HfOracle), at ~/.cache/headguard/hf-venv unless HEADGUARD_PYTHON names its python.
# Offline: the wheels come from the machine's local package index. A complete environment is kept.
set -euo pipefail
venv="${HEADGUARD_HF_VENV:-$HOME/.cache/headguard/hf-venv}"
if "$venv/bin/python" -c "import torch, transformers, tokenizers, safetensors" 2>/dev/null; then
  exit 0
fi
rm -rf "$venv"
trap 'rm -rf "$venv"' ERR  # never leave a half-made environment that a later run would take as complete
python3 -m venv "$venv"
index=()
if [ -d /opt/pypi/simple ]; then  # the local index; the default one is not reachable from these machines
  index=(--index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple)
fi
"$venv/bin/pip" install -q --retries 0 "${index[@]}" torch transformers safetensors tokenizers 2>&1 | grep -v "is ignored: it is neither" || true
"$venv/bin/python" -c "import torch, transformers, tokenizers, safetensors"
