#!/usr/bin/env bash
# Scenario 4: two guarded charons with a persistent mismatch for a minute, against the same two
# with the guard disabled.
#
# Each pair: an initiator offering aes128 (start_action = start, and swanctl --initiate every
# 2 s for 60 s, an operator's script retrying) and a responder accepting only aes256. Both ends
# guarded (T1 2 s, T2 4 s, cap 16 s), or both with charon.ikeguard.enable = no. Counted per
# minute: IKE_SA_INIT requests reaching the responder (a capture), IKE_SAs the responder
# created for them and NO_PROPOSAL_CHOSEN it answered (its counters), the initiator's errors.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sw_init two_guarded "${1:-}"

declare -A port=([on]=17900 [off]=17950) requests=() sas=() errors=()
for v in on off; do
  kind=$v
  [[ $v == on ]] && kind=guarded
  sw_start "$kind" "resp_$v" "${port[$v]}" aes256-sha256-x25519 "$((port[$v] + 10))"
  sw_capture "resp_$v" "${port[$v]}" ikev2 90
  CHARON_START_ACTION=start sw_start "$kind" "init_$v" "$((port[$v] + 10))" \
    aes128-sha256-x25519 "${port[$v]}"
done
pids=()
for v in on off; do
  sw_initiate_times "init_$v" 2 30 &
  pids+=($!)
done
wait "${pids[@]}"
sleep 1
for v in on off; do
  requests[$v]=$(sw_captured "resp_$v")
  sas[$v]=$(sw_counter "resp_$v" ike-init-in-req)
  errors[$v]=$(sw_log_count "init_$v" "received NO_PROPOSAL_CHOSEN notify error")
  sw_figure "guards=$v minute=1 ike_sa_init_requests=${requests[$v]} responder_ike_sas=${sas[$v]}" \
    "no_proposal_chosen_sent=$(sw_counter "resp_$v" ike-init-out-resp)" \
    "initiator_errors=${errors[$v]}"
done
sw_figure "guards=on held_initiations=$(sw_log_count init_on "ikeguard: held 127")" \
  "dropped_requests=$(sw_log_count resp_on "ikeguard: dropped 127")"

# unguarded: the start action and every retry cost a request, an IKE_SA and an error
sw_expect "off: one request per attempt (31)" -eq 31 "${requests[off]}"
sw_expect "off: an IKE_SA per request" -eq "${requests[off]}" "${sas[off]}"
# guarded: paced by the initiator's T2 (4, 8, 16, 16 s) and the responder's T1
sw_expect "on: at most a third of the requests of off" -le $((requests[off] / 3)) "${requests[on]}"
sw_expect "on: the responder created an IKE_SA only outside its windows" -le "${requests[on]}" "${sas[on]}"
sw_expect "on: held initiations" -ge 20 "$(sw_log_count init_on "ikeguard: held 127")"
sw_finish
