#!/usr/bin/env bash
# Scenario 3: the initiator's own configuration is fixed while its guard holds the peer.
#
# A guarded initiator (start_action = start, T2 30 s) offers aes128 to a stock responder that
# accepts only aes256: two NO_PROPOSAL_CHOSEN (the first awaits confirmation) open a 30 s sender
# window. swanctl --initiate then fails at once, naming the window's end. The administrator
# loads a connection offering aes256 (swanctl --load-conns): its fingerprint differs from the
# one that failed, so the window lifts and swanctl --initiate establishes at once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sw_init config_fixed_while_held "${1:-}"

sw_start stock resp 17600 aes256-sha256-x25519 17610
sw_capture resp 17600 ikev2 60
CHARON_START_ACTION=start sw_start guarded init 17610 aes128-sha256-x25519 17600 \
  "    sender_window = 30s
    max_window = 60s"
sw_wait_log init "ikeguard: NO_PROPOSAL_CHOSEN from 127\.0\.0\.1 .*opened sender window" 1 10 ||
  sw_fail "no sender window opened"

# held: swanctl hears it at once, charon's log names the window's end
t0=$SECONDS
held_out=$(sw_swanctl init --initiate --child guarded --timeout 10 2>&1) && held_rc=0 || held_rc=$?
held_seconds=$((SECONDS - t0))
echo "$held_out" | tail -n 3
sw_expect "swanctl --initiate while held fails" -ne 0 "$held_rc"
sw_expect "at once (seconds)" -le 2 "$held_seconds"
sw_expect "swanctl says it is held" -eq 1 "$(grep -c "held by ikeguard" <<<"$held_out" || true)"
sw_expect "swanctl shows the log line naming the end" -ge 1 \
  "$(grep -cE "ikeguard: held 127\.0\.0\.1 until [0-9:.]+ \(in [0-9]+\.[0-9]+s\)" <<<"$held_out" || true)"

# fixed: the changed configuration lifts the window
sw_set_proposal init aes256-sha256-x25519
t0=$SECONDS
sw_swanctl init --initiate --child guarded --timeout 10 >"$SW_DIR/fixed.out" 2>&1 && fixed_rc=0 || fixed_rc=$?
fixed_seconds=$((SECONDS - t0))
requests=$(sw_captured resp)
sw_figure "guard=on requests=$requests held_initiate_s=$held_seconds" \
  "established_after_config_fix_s=$fixed_seconds window_s=30"
sw_expect "lifted: the log says so" -eq 1 \
  "$(sw_log_count init "ikeguard: lifted sender window of 127\.0\.0\.1: the configuration changed")"
sw_expect "established" -eq 1 "$(sw_log_count init "IKE_SA guarded\[[0-9]+\] established")"
sw_expect "swanctl --initiate after the fix: IKE_SA up (seconds)" -le 3 "$fixed_seconds"
sw_expect "requests: two refused, one accepted" -eq 3 "$requests"
sw_finish
