#!/usr/bin/env bash
# kelvin's one entry point on a Debian 12 machine:
#   ./kelvin.sh demo          install what the CLI needs, build only the CLI, solve a system on
#                             the emulated board
#   ./kelvin.sh test          install what is missing, build, run every test, then the hardening
#                             stages: the driver-side tests under ASan+UBSan and under TSan, and
#                             60 s of each fuzzer (what CI runs; KELVIN_QUICK=1 skips hardening)
#   ./kelvin.sh sanitize asan|tsan   one hardening stage (build-asan/, build-tsan/)
#   ./kelvin.sh fuzz [SECONDS]       build the fuzzers with clang and run each (default 60 s)
#   ./kelvin.sh build         install what is missing and build
#   ./kelvin.sh kelvin ARGS   run the kelvin CLI (builds first if needed)
#   ./kelvin.sh python ARGS   run Debian's /usr/bin/python3 with the kelvin package importable
#                             (installs and builds what it needs first)
#   ./kelvin.sh fashion [--quick]   SGD, Adam, exact NGD and TNGD on Fashion-MNIST
#                             (python/examples/fashion_mnist.py; writes fashion-mnist-run/)
#   ./kelvin.sh generative [--quick]   the generative examples (docs/generative.md): a DTM on
#                             binarized Fashion-MNIST on the p-bit board, then Whitelam's
#                             reverse-path training on the quartic resonator board; writes
#                             generative-run/dtm/ and generative-run/quartic/
#   ./kelvin.sh bench [ARGS]  build and run the benchmarks (median of 3, ratios against same-run
#                             baselines); writes bench-results.json (docs/performance.md)
#   ./kelvin.sh deps          only install the Debian packages
# Environment: BUILD_DIR (default build), BUILD_TYPE (default RelWithDebInfo), CI (set: warnings
# are errors), KELVIN_QUICK (1: `test` skips the hardening stages).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"

# Debian packages kelvin builds against (README.md says why each is there): what the libraries
# and the CLI need, and what only the tests and benchmarks need.
PACKAGES=(
  g++ cmake ninja-build pkg-config ccache
  libprotobuf-dev protobuf-compiler
  libeigen3-dev libboost-dev librandom123-dev
  libspdlog-dev libfmt-dev
  libcli11-dev nlohmann-json3-dev
  libusb-1.0-0-dev
  libhdf5-dev
)
TEST_PACKAGES=(libgtest-dev libgmock-dev libbenchmark-dev umockdev libumockdev-dev)
# OpenMPI (headers and mpirun): the optional scale-out library runtime/mpi, kelvin-mpi and the
# tests/mpi suites that CTest runs under mpirun -np 2 and 4 (docs/scale-out.md). A build without
# it simply leaves MPI out (KELVIN_MPI=AUTO); CI installs it and insists on it (KELVIN_MPI=ON).
TEST_PACKAGES+=(libopenmpi-dev openmpi-bin)
# The Python package (pybind11 against Debian's python3), its tests (pytest, SciPy for sparse
# models, h5py to read run files back) and the PyTorch optimizer with its Fashion-MNIST example (docs/python.md).
PYTHON_PACKAGES=(
  pybind11-dev python3-dev python3-numpy python3-scipy python3-pytest python3-h5py
  python3-torch python3-matplotlib dataset-fashion-mnist
)

# Only the fuzz stage needs clang and its libFuzzer runtime.
FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)

log() { printf '\033[1m[kelvin]\033[0m %s\n' "$*" >&2; }

# All packages (tests included); `demo` installs only PACKAGES.
install_deps() {
  install_packages "${PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${PYTHON_PACKAGES[@]}"
}

install_packages() {
  local missing=()
  for pkg in "$@"; do
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

# configure [demo]: with "demo", no tests and no benchmarks (their packages may be missing).
configure() {
  local extra=()
  if [ "${1:-}" = demo ]; then
    extra+=(-DKELVIN_BUILD_TESTS=OFF -DKELVIN_BUILD_BENCH=OFF)
  else
    extra+=(-DKELVIN_BUILD_TESTS=ON -DKELVIN_BUILD_BENCH=ON)
  fi
  if command -v ccache >/dev/null 2>&1; then
    extra+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    # Paths relative to the checkout, so that a second clone (CI's clean clone) hits the cache.
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
  fi
  if [ -n "${CI:-}" ]; then
    # Warnings are errors; line tables only (-g1: backtraces keep file and line), which cuts
    # about a quarter of the compile time of full debug info.
    extra+=(-DKELVIN_WERROR=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
    # The MPI suites must run in CI: a missing OpenMPI fails the configure instead of silently
    # skipping them (not for demo, which installs only PACKAGES).
    if [ "${1:-}" != demo ]; then
      extra+=(-DKELVIN_MPI=ON)
    fi
  fi
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "${extra[@]}" >/dev/null
}

build() {
  install_deps
  configure
  log "building in $BUILD_DIR"
  cmake --build "$BUILD_DIR" --parallel "$(nproc)"
}

# Only what `kelvin demo` and the CLI need: the libraries below the CLI and the program itself.
build_cli() {
  install_packages "${PACKAGES[@]}"
  configure demo
  log "building the kelvin CLI in $BUILD_DIR"
  cmake --build "$BUILD_DIR" --parallel "$(nproc)" --target kelvin
}

# Sets LAUNCHER to the CMake argument that puts ccache in front of the compiler, and exports
# ccache's settings (in this shell, not a subshell, so that the builds see them).
LAUNCHER=()
use_ccache() {
  if command -v ccache >/dev/null 2>&1; then
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
    LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
}

# One sanitizer stage: the protocol, emulator, driver and board server with their tests, built
# with the sanitizer, then run. Any report fails the stage.
sanitize() {
  local name="$1" flags
  case "$name" in
    asan) flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined" ;;
    tsan) flags="-fsanitize=thread" ;;
    *) log "unknown sanitizer '$name' (asan or tsan)"; exit 2 ;;
  esac
  install_deps
  use_ccache
  local dir="$ROOT/build-$name"
  # Only what the stage runs is built. The emulator's statistical model checks (single-threaded
  # numerics, no outside input) are not part of a driver-only build. TSan: the tests where threads
  # meet (driver, board server, conformance over every link, each with the emulated boards on
  # their own threads); the protocol codec's tests and the emulator's own (all but one power-off
  # test) drive one thread, and
  # umockdev's glib locks are invisible to TSan (false reports), so USB runs under ASan only.
  local parts="" exclude=()
  if [ "$name" = tsan ]; then
    parts="driver;server;conformance"
    exclude=(-E "Usb|/usb")
  fi
  log "building the driver-side tests with $name in $dir"
  cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=None -DKELVIN_DRIVER_ONLY=ON \
    -DKELVIN_BUILD_BENCH=OFF "-DKELVIN_TEST_PARTS=$parts" \
    "-DCMAKE_CXX_FLAGS=-O1 -g1 -fno-omit-frame-pointer $flags" "${LAUNCHER[@]}" >/dev/null
  cmake --build "$dir" --parallel "$(nproc)"
  log "running the driver-side tests under $name"
  # The umockdev preload library must not come before the ASan runtime; it is harmless here.
  ASAN_OPTIONS="detect_leaks=1:verify_asan_link_order=0:abort_on_error=1" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" \
    KELVIN_SANITIZER="$name" \
    ctest --test-dir "$dir" --output-on-failure --parallel "$(nproc)" --timeout 900 "${exclude[@]}"
}

# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for $1 seconds (both at
# once), starting from the corpus kept in tests/fuzz/corpus. New inputs go to build-fuzz/corpus-*;
# a crash leaves its input in build-fuzz/ and fails the stage.
fuzz() {
  local seconds="${1:-60}"
  install_deps
  install_packages "${FUZZ_PACKAGES[@]}"
  use_ccache
  local dir="$ROOT/build-fuzz"
  log "building the fuzzers in $dir"
  cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=None -DKELVIN_DRIVER_ONLY=ON \
    -DKELVIN_BUILD_TESTS=OFF -DKELVIN_BUILD_BENCH=OFF -DKELVIN_FUZZ=ON \
    -DCMAKE_CXX_COMPILER=clang++-14 \
    "-DCMAKE_CXX_FLAGS=-O1 -g1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
    "${LAUNCHER[@]}" >/dev/null
  local targets=(frame_decoder firmware_requests server_requests)
  cmake --build "$dir" --parallel "$(nproc)" --target "${targets[@]/%/_fuzz}"
  local pids=() t
  for t in "${targets[@]}"; do
    mkdir -p "$dir/corpus-$t"
    log "fuzzing $t for $seconds s"
    "$dir/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$dir/$t-" "$dir/corpus-$t" \
      "$ROOT/tests/fuzz/corpus/$t" >"$dir/$t.log" 2>&1 &
    pids+=($!)
  done
  local failed=0 i
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      log "fuzzer ${targets[$i]} failed:"
      tail -n 60 "$dir/${targets[$i]}.log" >&2
      failed=1
    else
      grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$dir/${targets[$i]}.log" | \
        sed "s/^/[${targets[$i]}] /" >&2 || true
    fi
  done
  return "$failed"
}

cli() {
  "$BUILD_DIR/tools/cli/kelvin" "$@"
}

# The Python package in $BUILD_DIR/python (and the CLI beside it), without the tests.
build_python() {
  install_packages "${PACKAGES[@]}" "${PYTHON_PACKAGES[@]}"
  configure demo
  log "building the kelvin Python package in $BUILD_DIR/python"
  cmake --build "$BUILD_DIR" --parallel "$(nproc)" --target kelvin_python kelvin
}

python_run() {
  [ -f "$BUILD_DIR/python/kelvin/__init__.py" ] && ls "$BUILD_DIR"/python/kelvin/_kelvin*.so \
    >/dev/null 2>&1 || build_python
  PYTHONPATH="$BUILD_DIR/python${PYTHONPATH:+:$PYTHONPATH}" /usr/bin/python3 "$@"
}

cmd="${1:-help}"
shift || true
case "$cmd" in
  deps) install_deps ;;
  build) build ;;
  demo)
    build_cli
    cli demo "$@"
    ;;
  test)
    build
    log "running the tests"
    ctest --test-dir "$BUILD_DIR" --output-on-failure --parallel "$(nproc)" --timeout 600 "$@"
    if [ "${KELVIN_QUICK:-0}" != 1 ]; then
      sanitize asan
      sanitize tsan
      fuzz 60
    fi
    ;;
  python) python_run "$@" ;;
  fashion)
    build_python
    python_run "$ROOT/python/examples/fashion_mnist.py" "$@"
    ;;
  generative)
    build_python
    python_run "$ROOT/python/examples/dtm_fashion.py" --out-dir "$ROOT/generative-run/dtm" "$@"
    python_run "$ROOT/python/examples/quartic_generative.py" \
      --out-dir "$ROOT/generative-run/quartic" "$@"
    ;;
  bench)
    install_deps
    configure
    log "building the benchmarks in $BUILD_DIR"
    cmake --build "$BUILD_DIR" --parallel "$(nproc)" --target kelvin_bench
    "$BUILD_DIR/bench/kelvin_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
      --kelvin_json="${BENCH_JSON:-$ROOT/bench-results.json}" "$@"
    ;;
  sanitize) sanitize "${1:-asan}" ;;
  fuzz) fuzz "${1:-60}" ;;
  kelvin)
    [ -x "$BUILD_DIR/tools/cli/kelvin" ] || build_cli
    cli "$@"
    ;;
  help | -h | --help)
    sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
    ;;
  *)
    log "unknown command '$cmd'"
    sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
