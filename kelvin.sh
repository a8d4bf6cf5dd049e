#!/usr/bin/env bash
# kelvin's one entry point on a Debian 12 machine:
#   ./kelvin.sh demo          install what is missing, build, solve a system on the emulated board
#   ./kelvin.sh test          install what is missing, build, run every test (what CI runs)
#   ./kelvin.sh build         install what is missing and build
#   ./kelvin.sh kelvin ARGS   run the kelvin CLI (builds first if needed)
#   ./kelvin.sh deps          only install the Debian packages
# Environment: BUILD_DIR (default build), BUILD_TYPE (default RelWithDebInfo), CI (set: warnings
# are errors).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"

# Debian packages kelvin builds against (README.md says why each is there).
PACKAGES=(
  g++ cmake ninja-build pkg-config ccache
  libprotobuf-dev protobuf-compiler
  libeigen3-dev libboost-dev librandom123-dev
  libspdlog-dev libfmt-dev
  libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libusb-1.0-0-dev umockdev libumockdev-dev
)

log() { printf '\033[1m[kelvin]\033[0m %s\n' "$*" >&2; }

install_deps() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  log "installing: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      log "error: these Debian packages are missing and I am not root (no sudo): ${missing[*]}"
      exit 1
    fi
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

configure() {
  local extra=()
  if command -v ccache >/dev/null 2>&1; then
    extra+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  if [ -n "${CI:-}" ]; then
    extra+=(-DKELVIN_WERROR=ON)
  fi
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "${extra[@]}" >/dev/null
}

build() {
  install_deps
  configure
  log "building in $BUILD_DIR"
  cmake --build "$BUILD_DIR" --parallel "$(nproc)"
}

cli() {
  "$BUILD_DIR/tools/cli/kelvin" "$@"
}

cmd="${1:-help}"
shift || true
case "$cmd" in
  deps) install_deps ;;
  build) build ;;
  demo)
    build
    cli demo "$@"
    ;;
  test)
    build
    log "running the tests"
    ctest --test-dir "$BUILD_DIR" --output-on-failure --parallel "$(nproc)" --timeout 600 "$@"
    ;;
  kelvin)
    [ -x "$BUILD_DIR/tools/cli/kelvin" ] || build
    cli "$@"
    ;;
  help | -h | --help)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    ;;
  *)
    log "unknown command '$cmd'"
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
