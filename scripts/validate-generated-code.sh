#!/usr/bin/env bash
# Judge a folder of generated programs in gpiot's sandbox, for CI (and by hand):
#   scripts/validate-generated-code.sh SPECS_DIR SOLUTIONS_DIR [JUNIT_XML]
# SPECS_DIR holds task specs (*.yaml, searched recursively); SOLUTIONS_DIR holds one
# <spec id>.py per spec. Every case of every spec runs, hidden ones included; a JUnit report
# (default junit.xml) is written for the CI's test view.
# Needs: gpiot installed (pip install .), a running Docker engine.
# Exit codes (python -m agent check): 0 every case passes, 1 some case fails or a solution is
# missing, 2 bad input (spec, paths), 3 infrastructure (no Docker engine, image build failed).
# .github/workflows/validate-generated-code.yml runs exactly this script.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 SPECS_DIR SOLUTIONS_DIR [JUNIT_XML]" >&2
  exit 2
fi
specs=$1
solutions=$2
junit=${3:-junit.xml}
PY=${PYTHON:-python3}

# The sandbox image is tagged by a hash of its recipe: this is a no-op when it is up to date.
# Where debootstrap is installed (and we are root) the build is air-gapped; elsewhere it uses
# sandboxes/Dockerfile and needs a registry.
"$PY" -m agent sandbox build
"$PY" -m agent check "$specs" --solutions "$solutions" --junit "$junit"
