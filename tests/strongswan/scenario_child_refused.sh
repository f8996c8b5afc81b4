#!/usr/bin/env bash
# Scenario 9: the IKE_SA establishes but the responder refuses the CHILD_SA (its ESP proposal),
# an authenticated error; then the responder is fixed.
#
# Three initiators, each with start_action = start and its own stock responder: the IKE
# proposals match, the responder's ESP proposal (aes256) does not match the initiator's (aes128).
#   on     the guarded build (T2 2 s, cap 8 s)
#   off    the same build with charon.ikeguard.enable = no
#   stock  Debian's own charon
# The IKE_AUTH response refuses the CHILD_SA with NO_PROPOSAL_CHOSEN; charon keeps the IKE_SA.
# Without the guard it never proposes the CHILD_SA again. With it the error opens the sender
# window and charon proposes the CHILD_SA again (CREATE_CHILD_SA) when the window ends (charon
# delays tasks in whole seconds): at about 0 (IKE_AUTH), 3, 8 and 17 s, then 25 s; counted at
# 21 s, 4 proposals. Inside a window, swanctl --initiate of the CHILD_SA fails at once and
# proposes nothing (CREATE_CHILD_SA is a first negotiation message for the guard too). Then the
# responders accept aes128 too (swanctl --load-conns): the guarded initiator's next proposal is
# accepted. Counted from the responders' counters (ike-auth-in-req, create-child-in-req) and
# logs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sw_init child_refused "${1:-}"

declare -A port=([on]=18500 [off]=18600 [stock]=18700)
declare -A proposed=() accepted=() refused=() acted=()
for v in on off stock; do
  kind=$v
  [[ $v == on ]] && kind=guarded
  CHARON_ESP_PROPOSALS=aes256-sha256 sw_start stock "resp_$v" "${port[$v]}" \
    aes128-sha256-x25519 "$((port[$v] + 10))"
  CHARON_START_ACTION=start sw_start "$kind" "init_$v" "$((port[$v] + 10))" \
    aes128-sha256-x25519 "${port[$v]}" "    sender_window = 2s
    max_window = 8s"
done
# CHILD_SA proposals that reached a responder: the one in IKE_AUTH, then CREATE_CHILD_SA
child_proposals() {
  echo $(($(sw_counter "resp_$1" ike-auth-in-req) + $(sw_counter "resp_$1" create-child-in-req)))
}
# at 11 s, inside the 8 s window: the administrator asks for the CHILD_SA by hand
sleep 11
t0=$SECONDS
held_out=$(sw_swanctl init_on --initiate --child guarded --timeout 10 2>&1) && held_rc=0 || held_rc=$?
held_seconds=$((SECONDS - t0))
echo "$held_out" | tail -n 2
sleep $((21 - 11 - held_seconds))
for v in on off stock; do
  proposed[$v]=$(child_proposals "$v")
  refused[$v]=$(sw_log_count "init_$v" "received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built")
  acted[$v]=$(sw_log_count "init_$v" "ikeguard: NO_PROPOSAL_CHOSEN from 127\.0\.0\.1 \(authenticated\), opened sender window")
  sw_set_esp_proposal "resp_$v" aes256-sha256,aes128-sha256
done
# the guarded initiator's next proposal comes when its 8 s window ends. (Where the kernel has no
# ESP, as in some containers, the responder then fails to install the CHILD_SA and refuses it
# again; its log says it selected the proposal first.)
sw_wait_log resp_on "selected proposal: ESP:AES_CBC_128" 1 10 || true
sleep 1
for v in on off stock; do
  accepted[$v]=$(sw_log_count "resp_$v" "selected proposal: ESP:AES_CBC_128")
  sw_figure "guard=$v child_sa_proposals_while_refused=${proposed[$v]} seconds_refused=21" \
    "refused=${refused[$v]} proposals_after_fix=$(($(child_proposals "$v") - proposed[$v]))" \
    "accepted_after_fix=${accepted[$v]}"
done

grep -E "ikeguard: NO_PROPOSAL_CHOSEN" "$SW_DIR/init_on/charon.log" |
  sed -E 's/^([0-9:]+) [0-9]+\[[A-Z]+\] (<[^>]*> )?/\1 /' || true
sw_expect "on: swanctl --initiate of the CHILD_SA while held fails" -ne 0 "$held_rc"
sw_expect "on: at once (seconds)" -le 2 "$held_seconds"
sw_expect "on: swanctl says it is held" -eq 1 "$(grep -c "held by ikeguard" <<<"$held_out" || true)"
sw_expect "on: charon's log says so" -eq 1 \
  "$(sw_log_count init_on "ikeguard: held 127\.0\.0\.1 until .*: no CHILD_SA proposed now")"
sw_expect "on: every proposal refused until the fix" -eq "${proposed[on]}" "${refused[on]}"
sw_expect "on: proposals in 21 s (about 0, 3, 8, 17 s)" -eq 4 "${proposed[on]}"
sw_expect "on: each error acted on at once (authenticated)" -eq "${refused[on]}" "${acted[on]}"
sw_expect "on: the windows escalated" -eq 1 \
  "$(sw_log_count init_on "ikeguard: NO_PROPOSAL_CHOSEN .*opened sender window .*strikes 3")"
sw_expect "on: one IKE_SA throughout" -eq 1 "$(sw_counter resp_on ike-auth-in-req)"
sw_expect "on: proposed again and accepted after the fix" -eq 1 "${accepted[on]}"
for v in off stock; do
  sw_expect "$v: one proposal, never again" -eq 1 "${proposed[$v]}"
  sw_expect "$v: refused once" -eq 1 "${refused[$v]}"
  sw_expect "$v: nothing after the fix" -eq 0 "${accepted[$v]}"
done
sw_expect "off: logs nothing of the guard" -eq 0 "$(sw_log_count init_off ikeguard)"
sw_finish
