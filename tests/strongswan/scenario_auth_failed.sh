#!/usr/bin/env bash
# Scenario 5: AUTHENTICATION_FAILED (a pre-shared key mismatch) is an authenticated error.
#
# A guarded initiator (start_action = start, T2 2 s, cap 8 s) and Debian's stock charon as
# initiator each talk to a stock responder holding another key. The responder's
# AUTHENTICATION_FAILED comes inside the encrypted IKE_AUTH response: the guard acts on the
# first one (no confirmation, unlike a cleartext IKE_SA_INIT error), holds, escalates and
# retries paced; stock charon gives up after one.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sw_init auth_failed "${1:-}"

declare -A port=([on]=17700 [stock]=17800) received=()
for v in on stock; do
  kind=$v
  [[ $v == on ]] && kind=guarded
  sw_start stock "resp_$v" "${port[$v]}" aes128-sha256-x25519 "$((port[$v] + 10))"
  sw_capture "resp_$v" "${port[$v]}" ikev2 60
  CHARON_PSK=a-key-the-responder-does-not-have CHARON_START_ACTION=start \
    sw_start "$kind" "init_$v" "$((port[$v] + 10))" aes128-sha256-x25519 "${port[$v]}" \
    "    sender_window = 2s
    max_window = 8s"
done
sleep 9 # attempts at 0, 2 and 6 s: windows of 2, 4, then 8 s
for v in on stock; do
  received[$v]=$(sw_captured "resp_$v")
  sw_figure "guard=$v ike_sa_init_in_9s=${received[$v]}" \
    "auth_failed_received=$(sw_log_count "init_$v" "received AUTHENTICATION_FAILED notify error")"
done
first=$(grep -m1 -E "ikeguard: " "$SW_DIR/init_on/charon.log" | grep -oE "ikeguard: .*" || true)
echo "first guard line: $first"
sw_expect "the first error opens the window at once" -eq 1 \
  "$(grep -cE "^ikeguard: AUTHENTICATION_FAILED from 127\.0\.0\.1 \(authenticated\), opened sender window until .*, strikes 1$" <<<"$first" || true)"
sw_expect "no confirmation wait for an authenticated error" -eq 0 \
  "$(sw_log_count init_on "AUTHENTICATION_FAILED .*retrying at")"
sw_expect "escalated" -eq 1 "$(sw_log_count init_on "AUTHENTICATION_FAILED .*opened sender window .*strikes 3")"
sw_expect "on: requests in 9 s (0, 2, 6 s)" -eq 3 "${received[on]}"
sw_expect "stock: gives up after one" -eq 1 "${received[stock]}"
sw_finish
