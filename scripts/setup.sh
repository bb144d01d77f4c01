#!/usr/bin/env bash
# Installs what building, testing and benchmarking httpkit need, from
# Debian's packages (and npm, for the browser and WebSocket peers).
# Idempotent: does nothing when everything is already there.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config clang-14 libclang-rt-14-dev clang-format
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  nlohmann-json3-dev  # JSON in the examples (todo, chat)
  libssl-dev zlib1g-dev libbrotli-dev libzstd-dev  # the compression middleware
  # peers and load tools for the tests and benchmarks
  curl wrk apache2-utils nghttp2-client nginx-light haproxy
  python3 python3-h11 python3-websockets nodejs chromium openssl
  python3-requests  # the multipart upload peer (tests/server/upload_peer_test.py)
  sslscan python3-cryptography  # the TLS audit peer; records crafted by tests/peers/tls
  # the experiment's chart and process tools
  gnuplot-nox procps iproute2
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts nginx and haproxy as services on install; the tests start their own.
  for svc in nginx haproxy; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
      $SUDO systemctl stop "$svc" || true
    fi
  done
fi

# npm peers (node `ws`, playwright-core) live in the repo's own node_modules.
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$here/package.json" ] && [ ! -d "$here/node_modules" ]; then
  (cd "$here" && npm install --no-audit --no-fund --silent)
fi
exit 0
