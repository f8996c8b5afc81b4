#!/usr/bin/env bash
# Scenarios 1 and 8: a guarded charon responder against an unguarded initiator that storms.
#
# Debian's stock charon initiates 20 times, once a second (an operator's script retrying), with
# a pre-shared key the responder does not accept: every attempt costs the responder an IKE_SA,
# a key exchange (its KE in the IKE_SA_INIT response) and an AUTHENTICATION_FAILED answer.
# Three responders see the same storm at once, each from its own stock initiator:
#   on     the guarded build, charon.ikeguard.enable = yes (T1 2 s, cap 16 s)
#   off    the same build with enable = no
#   stock  Debian's own charon
# Counted: IKE_SA_INIT requests that reached the responder (a capture), IKE_SAs that processed
# one (ike-init-in-req), key exchanges (ike-init-out-resp, all with KE), AUTHENTICATION_FAILED
# answers, and the guard's own log lines. "off" must count exactly what "stock" counts.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sw_init responder_storm "${1:-}"

attempts=20
declare -A received=() sas=() kes=() auth_failed=()
declare -A port=([on]=17000 [off]=17100 [stock]=17200)
for v in on off stock; do
  kind=$v
  [[ $v == on ]] && kind=guarded
  sw_start "$kind" "resp_$v" "${port[$v]}" aes128-sha256-x25519 "$((port[$v] + 10))"
  CHARON_PSK=not-the-responders-key sw_start stock "init_$v" "$((port[$v] + 10))" \
    aes128-sha256-x25519 "${port[$v]}"
  sw_capture "resp_$v" "${port[$v]}" ikev2 60
done

pids=()
for v in on off stock; do
  sw_initiate_times "init_$v" 1 "$attempts" &
  pids+=($!)
done
wait "${pids[@]}"
sleep 2 # the last answers

for v in on off stock; do
  received[$v]=$(sw_captured "resp_$v")
  sas[$v]=$(sw_counter "resp_$v" ike-init-in-req)
  kes[$v]=$(sw_counter "resp_$v" ike-init-out-resp)
  auth_failed[$v]=$(sw_log_count "resp_$v" "sending .*N\(AUTH_FAILED\)|generating IKE_AUTH response .*N\(AUTH_FAILED\)")
  sw_figure "guard=$v attempts=$attempts ike_sa_init_received=${received[$v]}" \
    "ike_sas_created=${sas[$v]} key_exchanges=${kes[$v]} auth_failed_sent=${auth_failed[$v]}"
done
dropped_first=$(sw_log_count resp_on "ikeguard: dropped 127\.0\.0\.1 until")
dropped_all=$(sw_log_count resp_on "ikeguard: dropped 127\.0\.0\.1")
opened=$(sw_log_count resp_on "ikeguard: sent AUTHENTICATION_FAILED to 127\.0\.0\.1, opened receiver window")
escalated=$(sw_log_count resp_on "opened receiver window until .*strikes [2-9]")
sw_figure "guard=on dropped=$dropped_all windows_opened=$opened" \
  "dh_saved=$((kes[off] - kes[on]))"

# without the guard every attempt costs a full IKE_SA_INIT and an IKE_AUTH
sw_expect "off: every attempt reached an IKE_SA" -eq "$attempts" "${sas[off]}"
sw_expect "off: a key exchange per attempt" -eq "$attempts" "${kes[off]}"
# the patch is inert when disabled: the same counts as Debian's charon
sw_expect "off counts what stock charon counts: requests" -eq "${received[stock]}" "${received[off]}"
sw_expect "off counts what stock charon counts: IKE_SAs" -eq "${sas[stock]}" "${sas[off]}"
sw_expect "off counts what stock charon counts: key exchanges" -eq "${kes[stock]}" "${kes[off]}"
sw_expect "off logs nothing of the guard" -eq 0 "$(sw_log_count resp_off ikeguard)"
# with the guard every request in a window is dropped before an IKE_SA exists
sw_expect "on: each request reached an IKE_SA or was dropped" -eq "${received[on]}" \
  "$((sas[on] + dropped_all))"
sw_expect "on: requests dropped" -ge 1 "$dropped_all"
sw_expect "on: one log line per dropping window" -le "$((opened))" "$dropped_first"
sw_expect "on: each IKE_SA ended with one AUTHENTICATION_FAILED, the first of each window" \
  -eq "${sas[on]}" "$opened"
sw_expect "on: the receiver window escalated" -ge 1 "$escalated"
sw_expect "on: at most half the key exchanges of off" -le "$((kes[off] / 2))" "${kes[on]}"
sw_finish
