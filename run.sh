#!/usr/bin/env bash
# The main job: sets up, builds, and reproduces http-kit's 600k-connection
# experiment on this machine. ./run.sh --connections 1000000 goes further.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
scripts/build.sh build
exec scripts/experiment.sh "$@"
