#!/usr/bin/env bash
# One-shot set-up of a fresh Debian machine for gpiot (run as root; idempotent, so the
# README's commands and CI can always call it first):
#   Docker engine + debootstrap + bubblewrap (and Chromium, which the run-report test renders
#   report.html in) from apt, dockerd started if none answers, gpiot and its Python
#   dependencies from pip (Ray for `bench --executor ray`, the OpenAI client for
#   `--model openai:NAME`, llama-cpp-python's server for that backend's test), the sandbox
#   image built (and its root filesystem exported for the bwrap backend), the IoTBench traces
#   that cannot be committed (GPL) fetched, the local models pulled.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null \
    || ! command -v bwrap >/dev/null || ! command -v chromium >/dev/null; then
  log "installing docker.io, debootstrap, bubblewrap and chromium (apt)"
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q docker.io debootstrap bubblewrap
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends \
    chromium fonts-dejavu-core
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  as_root sh -c 'nohup dockerd >/var/log/gpiot-dockerd.log 2>&1 &'
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start; see /var/log/gpiot-dockerd.log"; exit 3; }
fi

PY=${PYTHON:-python3}
log "installing gpiot and its dependencies (the first time, llama-cpp-python compiles: ~5 min)"
"$PY" -m pip install -q -e ".[hf,dev,ray,openai]"

"$PY" -m agent sandbox build --bwrap --environment all  # minimal and scientific images
"$PY" -m iotbench.fetch
# the default model (1.5B) and the 0.5B (fast choice; the transformers-backend test uses it)
"$PY" -m agent models pull qwen2.5-coder-1.5b -q
"$PY" -m agent models pull qwen2.5-coder-0.5b -q
log "ready"
