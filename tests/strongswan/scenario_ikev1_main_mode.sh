#!/usr/bin/env bash
# Scenario: IKEv1 Main Mode, a proposal mismatch, from both ends (every charon IKEv1).
#
#   (a) initiators with start_action = start offering aes128 to stock responders that accept
#       only aes256, which answer each Main Mode first message with an Informational
#       NO_PROPOSAL_CHOSEN (in the clear):
#         on   the guarded build (T2 2 s, cap 8 s, retry delay 1 s, two cleartext errors to act)
#         off  the same build with charon.ikeguard.enable = no
#       Counted over 18 s: the Main Mode first messages that reached each responder (a capture).
#       The guard retries the first error after 1 s, then opens sender windows of 2, 4, 8, 8 s:
#       requests at 0, 1, 3, 7, 15 s (the next at 23 s), 5 in 18 s. Without it charon fails
#       the IKE_SA at the first error: 1 request.
#   (b) responders accepting only aes128, each against a stock initiator offering aes256 that
#       initiates 10 times, once a second:
#         on   the guarded build (T1 2 s, cap 16 s)
#         off  the same build with enable = no
#       A stock IKEv1 initiator joins an initiation to its IKE_SA still in Main Mode and
#       retransmits an unanswered first message, so the guarded responder sees fewer first
#       messages than attempts; each must have been processed (an IKE_SA, "no proposal found",
#       NO_PROPOSAL_CHOSEN sent, a receiver window opened) or dropped at the gate before any
#       IKE_SA. Without the guard every attempt is answered. charon's counters plugin counts
#       IKEv2 exchanges only (ike-init-in-req stays 0 for Main Mode): the capture and the logs
#       count here.
#   (c) a guarded responder (T1 60 s) refuses a stock initiator offering aes256; the initiator
#       is fixed (swanctl --load-conns with aes128) while the receiver window is open: its next
#       Main Mode first message offers another proposal, so the gate lifts the window and the
#       IKE_SA establishes at once.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sw_init ikev1_main_mode "${1:-}"
export CHARON_IKE_VERSION=1

# charon log lines without thread, group and IKE_SA: "HH:MM:SS text"
log_lines() { sed -E 's/^([0-9:]+) [0-9]+\[[A-Z]+\] (<[^>]*> )?/\1 /'; }

attempts=10
refused_seconds=18
declare -A port=([a_on]=18000 [a_off]=18100 [b_on]=18200 [b_off]=18300)
declare -A received=()

# (b) first: its stock initiators start initiating once (a) runs
for v in on off; do
  p=${port[b_$v]}
  sw_start "$([[ $v == on ]] && echo guarded || echo off)" "resp_b_$v" "$p" \
    aes128-sha256-modp2048 "$((p + 10))"
  sw_start stock "init_b_$v" "$((p + 10))" aes256-sha256-modp2048 "$p"
  sw_capture "resp_b_$v" "$p" ikev1 60
done
sw_start guarded resp_c 18400 aes128-sha256-modp2048 18410 "    receiver_window = 60s
    max_window = 120s"
sw_start stock init_c 18410 aes256-sha256-modp2048 18400
# (a): the initiators initiate as their connection loads
for v in on off; do
  p=${port[a_$v]}
  sw_start stock "resp_a_$v" "$p" aes256-sha256-modp2048 "$((p + 10))"
  sw_capture "resp_a_$v" "$p" ikev1 60
done
for v in on off; do
  p=${port[a_$v]}
  CHARON_START_ACTION=start sw_start "$([[ $v == on ]] && echo guarded || echo off)" "init_a_$v" \
    "$((p + 10))" aes128-sha256-modp2048 "$p" "    sender_window = 2s
    max_window = 8s
    receiver_window = 1s"
done
start=$SECONDS

pids=()
for v in on off; do
  sw_initiate_times "init_b_$v" 1 "$attempts" &
  pids+=($!)
done
wait "${pids[@]}"
sleep 1 # the last answers
# a stock initiator retransmits a dropped first message: stop both before counting
sw_stop init_b_on
sw_stop init_b_off
for v in on off; do
  received[b_$v]=$(sw_captured "resp_b_$v")
done

# (c) while (a) runs on
sw_swanctl init_c --initiate --child guarded --timeout 5 >/dev/null 2>&1 || true
sw_wait_log resp_c "ikeguard: sent NO_PROPOSAL_CHOSEN to 127\.0\.0\.1, opened receiver window" 1 10 ||
  sw_fail "(c): the guarded responder opened no receiver window"
sw_set_proposal init_c aes128-sha256-modp2048
t0=$SECONDS
# (the IKE_SA counts here: a CHILD_SA needs the kernel's ESP, which a container may lack)
sw_swanctl init_c --initiate --child guarded --timeout 10 >"$SW_DIR/c.out" 2>&1 || true
sw_wait_log init_c "IKE_SA guarded\[[0-9]+\] established" 1 10 || true
c_seconds=$((SECONDS - t0))

left=$((refused_seconds - (SECONDS - start)))
((left <= 0)) || sleep "$left"
for v in on off; do
  received[a_$v]=$(sw_captured "resp_a_$v")
done

echo "--- (a) a guarded IKEv1 initiator, refused"
grep -E "ikeguard: (NO_PROPOSAL_CHOSEN|held)" "$SW_DIR/init_a_on/charon.log" | log_lines || true
errors=$(sw_log_count init_a_on "received NO_PROPOSAL_CHOSEN error notify")
for v in on off; do
  sw_figure "part=a guard=$v main_mode_requests_while_refused=${received[a_$v]}" \
    "seconds_refused=$refused_seconds errors=$(sw_log_count "init_a_$v" "received NO_PROPOSAL_CHOSEN error notify")"
done
sw_expect "a on: requests while refused (0, 1, 3, 7, 15 s)" -eq 5 "${received[a_on]}"
sw_expect "a on: every request was refused with one error" -eq "${received[a_on]}" "$errors"
sw_expect "a on: the first cleartext error waits for confirmation" -eq 1 \
  "$(sw_log_count init_a_on "ikeguard: NO_PROPOSAL_CHOSEN from 127\.0\.0\.1 \(in the clear\), retrying at")"
sw_expect "a on: the others opened sender windows" -eq "$((errors - 1))" \
  "$(sw_log_count init_a_on "ikeguard: NO_PROPOSAL_CHOSEN from 127\.0\.0\.1 \(in the clear\), opened sender window")"
# the sender window, end and strikes as logged: T2, then 2T2, 4T2, capped at 8 s
windows=$(grep -oE "opened sender window until [0-9:.]+ \(in [0-9.]+s\), strikes [0-9]+" \
  "$SW_DIR/init_a_on/charon.log" | awk '{ sub(/s\),$/, "", $7); printf "%d:%d ", $9, $7 + 0.5 }')
echo "sender windows (strikes:seconds): $windows"
for expected in 1:2 2:4 3:8 4:8; do
  sw_expect "a on: window $expected" -eq 1 "$(grep -cx -- "$expected" <<<"${windows// /$'\n'}" || true)"
done
sw_expect "a on: initiations held (one before each request but the first)" -ge 4 \
  "$(sw_log_count init_a_on "ikeguard: held 127\.0\.0\.1 until")"
sw_expect "a on: each request initiated by the one IKE_SA, reset and reused" -eq "${received[a_on]}" \
  "$(sw_log_count init_a_on "initiating Main Mode IKE_SA guarded\[1\] ")"
sw_expect "a on: no other IKE_SA" -eq 0 \
  "$(sw_log_count init_a_on "initiating Main Mode IKE_SA guarded\[([02-9]|[1-9][0-9]+)\] ")"
sw_expect "a on: reset after each error" -eq "$errors" \
  "$(sw_log_count init_a_on "IKE_SA guarded\[1\] state change: CONNECTING => CREATED")"
sw_expect "a on: never failed for good" -eq 0 \
  "$(sw_log_count init_a_on "state change: CONNECTING => DESTROYING")"
# without the guard charon gives up at the first NO_PROPOSAL_CHOSEN
sw_expect "a off: one request" -eq 1 "${received[a_off]}"
sw_expect "a off: logs nothing of the guard" -eq 0 "$(sw_log_count init_a_off ikeguard)"

echo "--- (b) a guarded IKEv1 responder, a stock initiator retrying"
grep -E "ikeguard: (sent|dropped)" "$SW_DIR/resp_b_on/charon.log" | log_lines || true
declare -A processed=() parsed=() answered=() dropped=() heard=() ike_sas=()
for v in on off; do
  processed[$v]=$(sw_log_count "resp_b_$v" "\] <[0-9]+> no proposal found$")
  parsed[$v]=$(sw_log_count "resp_b_$v" "parsed ID_PROT request 0 \[ SA ")
  ike_sas[$v]=$(sw_log_count "resp_b_$v" "127\.0\.0\.1 is initiating a Main Mode IKE_SA")
  answered[$v]=$(sw_log_count "resp_b_$v" "generating INFORMATIONAL_V1 request [0-9]+ \[ N\(NO_PROP\) \]")
  dropped[$v]=$(sw_log_count "resp_b_$v" "ikeguard: dropped 127\.0\.0\.1")
  heard[$v]=$(sw_log_count "init_b_$v" "received NO_PROPOSAL_CHOSEN error notify")
  sw_figure "part=b guard=$v attempts=$attempts main_mode_received=${received[b_$v]}" \
    "ike_sas_created=${ike_sas[$v]} no_proposal_chosen_sent=${answered[$v]} dropped=${dropped[$v]}" \
    "ike_init_in_req=$(sw_counter "resp_b_$v" ike-init-in-req)"
done
opened=$(sw_log_count resp_b_on "ikeguard: sent NO_PROPOSAL_CHOSEN to 127\.0\.0\.1, opened receiver window")
dropped_first=$(sw_log_count resp_b_on "ikeguard: dropped 127\.0\.0\.1 until")
sw_expect "b on: each first message was processed or dropped at the gate" -eq "${received[b_on]}" \
  "$((processed[on] + dropped[on]))"
sw_expect "b on: each processed one was parsed, made an IKE_SA" -eq "${parsed[on]}" "${ike_sas[on]}"
sw_expect "b on: and found no proposal" -eq "${parsed[on]}" "${processed[on]}"
sw_expect "b on: each refusal opened a receiver window" -eq "${processed[on]}" "$opened"
sw_expect "b on: each refusal was sent (NO_PROPOSAL_CHOSEN)" -eq "${processed[on]}" "${answered[on]}"
sw_expect "b on: the initiator heard each" -eq "${answered[on]}" "${heard[on]}"
sw_expect "b on: requests dropped" -ge 1 "${dropped[on]}"
sw_expect "b on: one log line per dropping window" -le "$opened" "$dropped_first"
sw_expect "b on: the receiver window escalated" -ge 1 \
  "$(sw_log_count resp_b_on "opened receiver window until .*strikes [2-9]")"
sw_expect "b on: at most half the IKE_SAs of off" -le "$((ike_sas[off] / 2))" "${ike_sas[on]}"
sw_expect "b on: nothing suppressed (the gate dropped first)" -eq 0 "$(sw_log_count resp_b_on "ikeguard: suppressed")"
# without the guard every attempt is answered
sw_expect "b off: every attempt reached the responder" -eq "$attempts" "${received[b_off]}"
sw_expect "b off: every attempt made an IKE_SA" -eq "$attempts" "${ike_sas[off]}"
sw_expect "b off: every attempt found no proposal" -eq "$attempts" "${processed[off]}"
sw_expect "b off: every attempt answered (NO_PROPOSAL_CHOSEN)" -eq "$attempts" "${answered[off]}"
sw_expect "b off: the initiator heard each" -eq "$attempts" "${heard[off]}"
sw_expect "b off: logs nothing of the guard" -eq 0 "$(sw_log_count resp_b_off ikeguard)"

echo "--- (c) a guarded IKEv1 responder, the initiator fixed while refused"
grep -E "ikeguard: (sent|dropped|lifted)" "$SW_DIR/resp_c/charon.log" | log_lines || true
sw_figure "part=c guard=on established_after_fix_s=$c_seconds receiver_window_s=60"
sw_expect "c: at once (seconds)" -le 3 "$c_seconds"
sw_expect "c: the changed proposal lifted the window" -eq 1 \
  "$(sw_log_count resp_c "ikeguard: lifted receiver window of 127\.0\.0\.1: its proposal changed")"
sw_expect "c: nothing dropped" -eq 0 "$(sw_log_count resp_c "ikeguard: dropped")"
sw_expect "c: established (responder)" -eq 1 "$(sw_log_count resp_c "IKE_SA guarded\[[0-9]+\] established")"
sw_expect "c: established (initiator)" -eq 1 "$(sw_log_count init_c "IKE_SA guarded\[[0-9]+\] established")"
sw_finish
