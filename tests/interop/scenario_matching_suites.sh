#!/usr/bin/env bash
# interop.matching_suites_answered: the guard stays out of the way when nothing fails. charon and
# interop_peer both use aes128-sha256-x25519: one IKE_SA_INIT request, answered with SA, KE, Nr.
# Usage: scenario_matching_suites.sh PATH_TO_interop_peer
set -euo pipefail
source "$(dirname "$0")/interop_lib.sh"
interop_init interop.matching_suites_answered "${1:-}"

port=16300
interop_start_charon "$port" aes128-sha256-x25519

"$INTEROP_PEER" initiate --port "$port" --proposal aes128-sha256-x25519 \
  --t2-ms 4000 --retry-delay-ms 300 --attempt-every-ms 200 --run-ms 3000 \
  >"$INTEROP_DIR/peer.out" 2>"$INTEROP_DIR/peer.err" ||
  interop_fail "interop_peer initiate failed"
cat "$INTEROP_DIR/peer.out"

summary="$INTEROP_DIR/peer.out"
interop_expect "charon ike-init-in-req" -eq 1 "$(interop_counter ike-init-in-req)"
interop_expect "requests_sent" -eq 1 "$(interop_field "$summary" requests_sent)"
interop_expect "established" -eq 1 "$(interop_field "$summary" established)"
interop_expect "errors" -eq 0 "$(interop_field "$summary" errors)"
interop_expect "held" -eq 0 "$(interop_field "$summary" held)"
interop_expect "retried_now" -eq 0 "$(interop_field "$summary" retried_now)"
interop_expect "window_until_ms" -eq 0 "$(interop_field "$summary" window_until_ms)"
interop_finish
