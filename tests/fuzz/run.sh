#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the fuzz targets (the wire codec's, restore()'s, apply()'s, the guard against its
# reference model, eviction's rules) and runs each for SECONDS seconds
# from seeds made of the captures and of well-formed snapshot records. Prints each target's
# executed-unit count; exits non-zero if any target crashed.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS
#
# BUILD_DIR is configured with Clang and IKEGUARD_BUILD_FUZZERS=ON unless it already is.
# On Debian 12, libFuzzer comes with clang's libclang-rt-14-dev package.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$1
seconds=$2
case "$seconds" in
  ''|*[!0-9]*) echo "SECONDS must be a positive integer" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
targets=(fuzz_ikev2 fuzz_ikev1 fuzz_proposals fuzz_restore fuzz_cluster fuzz_model fuzz_eviction)

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  generator=()
  if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S "$source_dir" -B "$build_dir" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIKEGUARD_BUILD_FUZZERS=ON -DIKEGUARD_BUILD_EXAMPLES=OFF
fi
build_dir=$(cd "$build_dir" && pwd)
# Only the fuzz targets: they compile the sources they need themselves.
cmake --build "$build_dir" --target "${targets[@]}"

seeds="$build_dir/fuzz/seeds"
rm -rf "$seeds"
python3 "$here/make_seeds.py" "$source_dir/tests/data/captures" "$seeds"

failed=0
for target in "${targets[@]}"; do
  binary="$build_dir/tests/fuzz/$target"
  corpus="$build_dir/fuzz/corpus/$target"    # what libFuzzer finds, kept between runs
  artifacts="$build_dir/fuzz/artifacts"
  log="$build_dir/fuzz/$target.log"
  mkdir -p "$corpus" "$artifacts"
  status=0
  "$binary" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/$target-" "$corpus" "$seeds/$target" >"$log" 2>&1 || status=$?
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  echo "$target: ${executed:-?} executions in ${seconds}s (exit $status)"
  if [ "$status" -ne 0 ]; then
    failed=1
    echo "$target FAILED; the end of $log:" >&2
    tail -n 40 "$log" >&2
  fi
done
exit "$failed"
