#!/usr/bin/env bash
# interop.invalid_ke_retried_at_once: a corrective error opens no window. charon accepts
# aes128-sha256-x25519; interop_peer offers one proposal with groups ecp256 and x25519 and a
# KE for ecp256 (a placeholder value: charon rejects it by group before looking at it). charon
# answers N(INVALID_KE_PAYLOAD) naming x25519; the guard answers retry_now and the request is
# rebuilt at once with an X25519 KE, which charon accepts.
# Usage: scenario_invalid_ke.sh PATH_TO_interop_peer
set -euo pipefail
source "$(dirname "$0")/interop_lib.sh"
interop_init interop.invalid_ke_retried_at_once "${1:-}"

port=16200
interop_start_charon "$port" aes128-sha256-x25519

"$INTEROP_PEER" initiate --port "$port" --proposal aes128-sha256-ecp256-x25519 --ke-group 19 \
  --t2-ms 4000 --retry-delay-ms 300 --attempt-every-ms 200 --run-ms 3000 \
  >"$INTEROP_DIR/peer.out" 2>"$INTEROP_DIR/peer.err" ||
  interop_fail "interop_peer initiate failed"
cat "$INTEROP_DIR/peer.out"

summary="$INTEROP_DIR/peer.out"
interop_expect "charon ike-init-in-req" -eq 2 "$(interop_counter ike-init-in-req)"
interop_expect "INVALID_KE_PAYLOAD received, naming group 31" -eq 1 \
  "$(grep -c 'received IKEv2 INVALID_KE_PAYLOAD.* -> retry_now' "$INTEROP_DIR/peer.err" || true)"
interop_expect "requests_sent" -eq 2 "$(interop_field "$summary" requests_sent)"
interop_expect "errors" -eq 1 "$(interop_field "$summary" errors)"
interop_expect "retried_now" -eq 1 "$(interop_field "$summary" retried_now)"
interop_expect "established" -eq 1 "$(interop_field "$summary" established)"
interop_expect "held" -eq 0 "$(interop_field "$summary" held)"
interop_expect "window_until_ms" -eq 0 "$(interop_field "$summary" window_until_ms)"
interop_expect "guard errors_honoured (no hold)" -eq 0 "$(interop_field "$summary" errors_honoured)"
interop_expect "guard retried_later" -eq 0 "$(interop_field "$summary" retried_later)"
interop_finish
