#!/usr/bin/env bash
# interop.responder_drops_charon_within_t1 (method step B against a real initiator). interop_peer
# responds on its own port and accepts aes256gcm16-prfsha384-x25519 only, T1 20 s; charon
# initiates aes128-sha256-x25519 to it four times. The first request gets one
# N(NO_PROPOSAL_CHOSEN) and opens T1; every later request, charon's retransmissions included, is
# dropped without state or answer.
#
# charon 5.9.8 creates one new IKE SA for the second initiate only: the third and fourth queue
# their CHILD_SA on that IKE SA, whose IKE_SA_INIT is still unanswered. That request is
# retransmitted 4 s and 11 s after it was first sent, so the test waits for the second
# retransmission: three requests dropped (about 12 s in all).
# Usage: scenario_responder_drops.sh PATH_TO_interop_peer
set -euo pipefail
source "$(dirname "$0")/interop_lib.sh"
interop_init interop.responder_drops_charon_within_t1 "${1:-}"

port=16100
peer_port=16110
interop_start_charon "$port" aes128-sha256-x25519 "$peer_port"

"$INTEROP_PEER" respond --port "$peer_port" --accept aes256gcm16-prfsha384-x25519 \
  --t1-ms 20000 --run-ms 30000 >"$INTEROP_DIR/peer.out" 2>"$INTEROP_DIR/peer.err" &
INTEROP_PEER_PID=$!
for ((i = 0; i < 50; i++)); do
  grep -q "responder listening" "$INTEROP_DIR/peer.err" 2>/dev/null && break
  kill -0 "$INTEROP_PEER_PID" 2>/dev/null || interop_fail "interop_peer respond exited early"
  sleep 0.1
done
grep -q "responder listening" "$INTEROP_DIR/peer.err" ||
  interop_fail "interop_peer respond did not start listening on 127.0.0.1:$peer_port"

nopc='received NO_PROPOSAL_CHOSEN notify error'
attempts=4
for ((i = 1; i <= attempts; i++)); do
  # swanctl gives up waiting after 2 s; charon keeps retransmitting. Its exit code is 1 even on
  # success here (no ESP SA can be installed), so it says nothing.
  CHARON_INITIATE_TIMEOUT=2 bash "$INTEROP_CHARON" initiate "$INTEROP_DIR" \
    >>"$INTEROP_DIR/initiate.out" 2>&1 || true
  if ((i == 1)); then
    bash "$INTEROP_CHARON" wait-log "$INTEROP_DIR" "$nopc" 1 5 >/dev/null ||
      interop_fail "charon never logged '$nopc' after the first initiate"
  fi
done
# Wait for charon's second retransmission (11 s after the second IKE SA's first request).
for ((i = 0; i < 200; i++)); do
  (($(grep -c ': dropped (window' "$INTEROP_DIR/peer.err" || true) >= 3)) && break
  sleep 0.1
done
sleep 0.3 # anything else in flight
kill -TERM "$INTEROP_PEER_PID"
wait "$INTEROP_PEER_PID" || interop_fail "interop_peer respond failed"
INTEROP_PEER_PID=""
cat "$INTEROP_DIR/peer.out"

summary="$INTEROP_DIR/peer.out"
requests=$(interop_field "$summary" requests)
dropped=$(interop_field "$summary" dropped)
allocations=$(interop_field "$summary" allocations)
interop_expect "charon log: '$nopc'" -eq 1 "$(bash "$INTEROP_CHARON" count-log "$INTEROP_DIR" "$nopc")"
interop_expect "charon log: retransmissions of a dropped request" -ge 2 \
  "$(bash "$INTEROP_CHARON" count-log "$INTEROP_DIR" 'retransmit [0-9]+ of request with message ID 0')"
interop_expect "charon ike-init-in-resp (answers it got)" -eq 1 "$(interop_counter ike-init-in-resp)"
interop_expect "requests" -ge 4 "$requests"
interop_expect "notices_sent" -eq 1 "$(interop_field "$summary" notices_sent)"
interop_expect "allocations" -eq 1 "$allocations"
interop_expect "dropped" -ge 3 "$dropped"
interop_expect "every request after the first dropped" -eq $((requests - 1)) "$dropped"
interop_expect "answered" -eq 0 "$(interop_field "$summary" answered)"
interop_finish
