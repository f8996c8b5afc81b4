#!/usr/bin/env bash
# Scenarios 2 and 8: a guarded charon initiator against a stock responder that refuses its
# proposal, then is fixed.
#
# Three initiators, each with start_action = start and its own stock responder accepting only
# aes256 while they offer aes128:
#   on     the guarded build (T2 2 s, cap 8 s, retry delay 1 s, two cleartext errors to act)
#   off    the same build with charon.ikeguard.enable = no
#   stock  Debian's own charon
# For 18 s the responders refuse; then each is fixed with swanctl --load-conns. Counted: the
# IKE_SA_INIT requests that reached each responder (a capture), the errors each initiator logged,
# its guard's windows, and whether it established once its peer was fixed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sw_init initiator_recovers "${1:-}"

declare -A port=([on]=17300 [off]=17400 [stock]=17500) received=() established=()
for v in on off stock; do
  kind=$v
  [[ $v == on ]] && kind=guarded
  sw_start stock "resp_$v" "${port[$v]}" aes256-sha256-x25519 "$((port[$v] + 10))"
  sw_capture "resp_$v" "${port[$v]}" ikev2 60
  CHARON_START_ACTION=start sw_start "$kind" "init_$v" "$((port[$v] + 10))" \
    aes128-sha256-x25519 "${port[$v]}" "    sender_window = 2s
    max_window = 8s
    receiver_window = 1s"
done
start=$SECONDS
sleep 18
# the guarded initiator's log until the fix (after it, where the kernel has no ESP, as in some
# containers, the established IKE_SA's CHILD_SA fails to install and is refused, which the guard
# acts on too)
head -n "$(wc -l <"$SW_DIR/init_on/charon.log")" "$SW_DIR/init_on/charon.log" >"$SW_DIR/init_on_refused.log"
for v in on off stock; do
  received[$v]=$(sw_captured "resp_$v")
  sw_capture "resp_$v" "${port[$v]}" ikev2 60
  sw_set_proposal "resp_$v" aes256-sha256-x25519,aes128-sha256-x25519
  [[ $v != on ]] || fixed=$SECONDS
done
sw_wait_log init_on "IKE_SA guarded\[[0-9]+\] established" 1 12 || true
recovered_after=$((SECONDS - fixed))
sleep 1
for v in on off stock; do
  established[$v]=$(sw_log_count "init_$v" "IKE_SA guarded\[[0-9]+\] established")
  after_fix=$(sw_captured "resp_$v")
  sw_figure "guard=$v requests_while_refused=${received[$v]} seconds_refused=18" \
    "requests_after_fix=$after_fix established_after_fix=${established[$v]}"
done
sw_figure "guard=on recovered_after_fix_s=$recovered_after"

errors=$(sw_log_count init_on "received NO_PROPOSAL_CHOSEN notify error")
sw_expect "on: every request was refused with one error" -eq "${received[on]}" "$errors"
sw_expect "on: the first cleartext error waits for confirmation" -eq 1 \
  "$(sw_log_count init_on "ikeguard: NO_PROPOSAL_CHOSEN from 127\.0\.0\.1 \(in the clear\), retrying at")"
# the sender window, end and strikes as logged: T2, then 2T2, 4T2, capped at 8 s
windows=$(grep -oE "opened sender window until [0-9:.]+ \(in [0-9.]+s\), strikes [0-9]+" \
  "$SW_DIR/init_on_refused.log" | awk '{ sub(/s\),$/, "", $7); printf "%d:%d ", $9, $7 + 0.5 }')
echo "sender windows (strikes:seconds): $windows"
for expected in 1:2 2:4 3:8; do
  sw_expect "on: window $expected" -eq 1 "$(grep -c -- "$expected" <<<"${windows// /$'\n'}" || true)"
done
sw_expect "on: initiations held" -ge 3 "$(sw_log_count init_on "ikeguard: held 127\.0\.0\.1 until")"
sw_expect "on: requests while refused (0, 1, 3, 7, 15 s)" -eq 5 "${received[on]}"
sw_expect "on: established by itself once the responder was fixed" -eq 1 "${established[on]}"
sw_expect "on: within the window open at the fix (cap 8 s)" -le 9 "$recovered_after"
# without the guard charon gives up for good after one NO_PROPOSAL_CHOSEN
sw_expect "stock: one request" -eq 1 "${received[stock]}"
sw_expect "off: the same requests as stock" -eq "${received[stock]}" "${received[off]}"
sw_expect "stock: never established after the fix" -eq 0 "${established[stock]}"
sw_expect "off: never established after the fix" -eq 0 "${established[off]}"
sw_finish
