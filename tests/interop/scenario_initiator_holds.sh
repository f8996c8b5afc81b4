#!/usr/bin/env bash
# interop.initiator_holds_after_no_proposal_chosen (method steps A and C against a real
# responder). charon accepts aes256-sha384-ecp384 only; interop_peer initiates with
# aes128-sha256-x25519, a new attempt every 200 ms for 3 s, T2 4 s, retry delay 300 ms. The first
# N(NO_PROPOSAL_CHOSEN) is unauthenticated and unconfirmed (retry_later, 300 ms); the second
# confirms it and opens T2, so no third request reaches charon before the run ends.
# Usage: scenario_initiator_holds.sh PATH_TO_interop_peer
set -euo pipefail
source "$(dirname "$0")/interop_lib.sh"
interop_init interop.initiator_holds_after_no_proposal_chosen "${1:-}"

port=16000
interop_start_charon "$port" aes256-sha384-ecp384

"$INTEROP_PEER" initiate --port "$port" --proposal aes128-sha256-x25519 \
  --t2-ms 4000 --retry-delay-ms 300 --attempt-every-ms 200 --run-ms 3000 \
  >"$INTEROP_DIR/peer.out" 2>"$INTEROP_DIR/peer.err" ||
  interop_fail "interop_peer initiate failed"
cat "$INTEROP_DIR/peer.out"

summary="$INTEROP_DIR/peer.out"
interop_expect "charon ike-init-in-req" -eq 2 "$(interop_counter ike-init-in-req)"
interop_expect "charon ike-init-out-resp (its NO_PROPOSAL_CHOSEN answers)" -eq 2 \
  "$(interop_counter ike-init-out-resp)"
interop_expect "requests_sent" -eq 2 "$(interop_field "$summary" requests_sent)"
interop_expect "errors" -eq 2 "$(interop_field "$summary" errors)"
interop_expect "held" -gt 0 "$(interop_field "$summary" held)"
interop_expect "established" -eq 0 "$(interop_field "$summary" established)"
# T2 (4 s from the second error, at about 0.4 s) outlasts the 3 s run.
interop_expect "window_until_ms" -gt 3000 "$(interop_field "$summary" window_until_ms)"
interop_expect "guard awaiting_confirmation" -eq 1 "$(interop_field "$summary" awaiting_confirmation)"
interop_expect "guard errors_honoured" -eq 1 "$(interop_field "$summary" errors_honoured)"
interop_finish
