#!/usr/bin/env bash
# Scenario 3: the initiator's own configuration is fixed while its guard holds the peer.
#
# Guarded initiators (T2 8 s) offer aes128 to stock responders that accept only aes256: two
# NO_PROPOSAL_CHOSEN (the first awaits confirmation) open an 8 s sender window. swanctl
# --initiate then fails at once, naming the window's end. The administrator loads a connection
# offering aes256 (swanctl --load-conns): its fingerprint differs from the one that failed, so
# the window lifts and swanctl --initiate establishes at once.
#   (a) start_action = start: replacing the connection undoes its start action, and charon
#       itself destroys the IKE_SA the guard held;
#   (b) start_action = none, first initiated by swanctl: the held IKE_SA outlives the reload;
#       when the old window ends it is dropped, not initiated with the old proposal.
# Either way the responder sees no request offering aes128 after the fix: 3 requests in all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sw_init config_fixed_while_held "${1:-}"

policy="    sender_window = 8s
    max_window = 16s"
declare -A port=([a]=17600 [b]=17700)
for part in a b; do
  sw_start stock "resp_$part" "${port[$part]}" aes256-sha256-x25519 "$((port[$part] + 10))"
  sw_capture "resp_$part" "${port[$part]}" ikev2 60
done
CHARON_START_ACTION=start sw_start guarded init_a 17610 aes128-sha256-x25519 17600 "$policy"
sw_start guarded init_b 17710 aes128-sha256-x25519 17700 "$policy"
# (b) initiates once; the guard retries and holds it (the command returns when its timeout ends)
sw_swanctl init_b --initiate --child guarded --timeout 3 >/dev/null 2>&1 || true

declare -A held_seconds=() fixed_seconds=()
for part in a b; do
  init=init_$part
  sw_wait_log "$init" "ikeguard: NO_PROPOSAL_CHOSEN from 127\.0\.0\.1 .*opened sender window" 1 10 ||
    sw_fail "($part) no sender window opened"

  # held: swanctl hears it at once, charon's log names the window's end
  t0=$SECONDS
  held_out=$(sw_swanctl "$init" --initiate --child guarded --timeout 10 2>&1) && held_rc=0 || held_rc=$?
  held_seconds[$part]=$((SECONDS - t0))
  echo "$held_out" | tail -n 3
  sw_expect "$part: swanctl --initiate while held fails" -ne 0 "$held_rc"
  sw_expect "$part: at once (seconds)" -le 2 "${held_seconds[$part]}"
  sw_expect "$part: swanctl says it is held" -eq 1 "$(grep -c "held by ikeguard" <<<"$held_out" || true)"
  sw_expect "$part: swanctl shows the log line naming the end" -ge 1 \
    "$(grep -cE "ikeguard: held 127\.0\.0\.1 until [0-9:.]+ \(in [0-9]+\.[0-9]+s\)" <<<"$held_out" || true)"

  # fixed: the changed configuration lifts the window (the IKE_SA counts: a CHILD_SA needs the
  # kernel's ESP, which a container may lack)
  sw_set_proposal "$init" aes256-sha256-x25519
  t0=$SECONDS
  sw_swanctl "$init" --initiate --child guarded --timeout 10 >"$SW_DIR/fixed_$part.out" 2>&1 || true
  fixed_seconds[$part]=$((SECONDS - t0))
  sw_expect "$part: lifted: the log says so" -eq 1 \
    "$(sw_log_count "$init" "ikeguard: lifted sender window of 127\.0\.0\.1: the configuration changed")"
  sw_expect "$part: established" -eq 1 "$(sw_log_count "$init" "IKE_SA guarded\[[0-9]+\] established")"
  sw_expect "$part: swanctl --initiate after the fix: IKE_SA up (seconds)" -le 3 "${fixed_seconds[$part]}"
done

# (a): charon destroyed the held IKE_SA when the connection was replaced
sw_expect "a: the held IKE_SA destroyed by the reload" -eq 1 \
  "$(sw_log_count init_a "IKE_SA guarded\[1\] state change: CREATED => DESTROYING")"
# (b): the old window's end: the IKE_SA held with the old connection goes, sending nothing
sw_wait_log init_b "ikeguard: dropped held IKE_SA guarded\[1\]: its connection was reloaded" 1 12 ||
  sw_fail "(b) the IKE_SA held with the old connection was not dropped when its window ended"
sleep 1 # a request it might still send
for part in a b; do
  requests=$(sw_captured "resp_$part")
  sw_figure "part=$part guard=on requests=$requests held_initiate_s=${held_seconds[$part]}" \
    "established_after_config_fix_s=${fixed_seconds[$part]} window_s=8"
  sw_expect "$part: requests: two refused, one accepted, none of the old connection after" -eq 3 "$requests"
  sw_expect "$part: refused: two" -eq 2 \
    "$(sw_log_count "init_$part" "received NO_PROPOSAL_CHOSEN notify error")"
done
sw_finish
