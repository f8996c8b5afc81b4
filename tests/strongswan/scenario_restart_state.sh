#!/usr/bin/env bash
# Scenario: the guard's state file across a restart, and a guard that refuses what it is given.
#
#   (a) a guarded responder (T1 30 s, cap 60 s, state_file and a 32-byte state_key_file) refuses
#       a stock initiator's proposal once: its receiver window opens. Stopped (SIGTERM) it saves
#       its state; started again it restores the peer, and the same request is dropped at the
#       gate: no IKE_SA (ike-init-in-req stays 0). The window resumes with the time it had left,
#       so its end moves by the time charon was down.
#   (b) stopped again, its state file altered (one byte in the middle flipped) and started: the
#       file is refused, logged with the reason, charon runs with an empty guard and the next
#       request is processed (ike-init-in-req 1, a first strike).
#   (c) a guarded charon with an invalid policy (max_window 1 s below receiver_window 2 s): the
#       policy is logged as invalid, the guard disabled, charon runs unguarded (swanctl --stats
#       without its "ikeguard:" line) and processes every request, the guard dropping none.
#   (d) a state_file without a state_key_file (d1: the setting is missing, d2: the file named is
#       missing): logged, charon runs guarded, keeps no state (writes no file at shutdown).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sw_init restart_state "${1:-}"

# flips the byte in the middle of a file (bitwise NOT), in place
flip_middle_byte() {
  local file=$1 size offset byte
  size=$(stat -c %s "$file")
  offset=$((size / 2))
  byte=$(od -An -tu1 -j "$offset" -N1 "$file" | tr -d ' ')
  # shellcheck disable=SC2059 # the format is the octal escape of the new byte
  printf "$(printf '\\%03o' $((byte ^ 0xff)))" |
    dd of="$file" bs=1 seek="$offset" count=1 conv=notrunc status=none
}

# milliseconds since midnight of a log's "HH:MM:SS.mmm"
ms_of_day() {
  local h m s ms
  IFS=':.' read -r h m s ms <<<"$1"
  echo $(((10#$h * 3600 + 10#$m * 60 + 10#$s) * 1000 + 10#$ms))
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

refused=aes256-sha256-x25519 # what the initiators offer; the responders accept aes128
accepted=aes128-sha256-x25519
state=$SW_DIR/resp/ikeguard.state
key=$SW_DIR/state.key
head -c 32 /dev/urandom >"$key"

# (a) and (b): the responder with a state file
sw_start guarded resp 18500 "$accepted" 18510 "    receiver_window = 30s
    max_window = 60s
    state_file = $state
    state_key_file = $key"
sw_start stock init_a 18510 "$refused" 18500
# (c): an invalid policy; (d1), (d2): no key for the state file
sw_start guarded resp_c 18600 "$accepted" 18610 "    max_window = 1s"
sw_start stock init_c 18610 "$refused" 18600
sw_start guarded resp_d1 18700 "$accepted" 18710 "    state_file = $SW_DIR/resp_d1/ikeguard.state"
sw_start stock init_d1 18710 "$refused" 18700
sw_start guarded resp_d2 18800 "$accepted" 18810 "    state_file = $SW_DIR/resp_d2/ikeguard.state
    state_key_file = $SW_DIR/no-such-key"
sw_start stock init_d2 18810 "$refused" 18800

# (c), (d1), (d2) run meanwhile: three refused requests a second apart to (c), one to each (d)
others=()
sw_initiate_times init_c 1 3 &
others+=($!)
sw_initiate_times init_d1 1 1 &
others+=($!)
sw_initiate_times init_d2 1 1 &
others+=($!)

echo "--- (a) the receiver window survives a restart"
sw_initiate_times init_a 1 1
sw_wait_log resp "ikeguard: sent NO_PROPOSAL_CHOSEN to 127\.0\.0\.1, opened receiver window" 1 5 ||
  sw_fail "the responder opened no receiver window"
opened_line=$(grep -m1 -E "ikeguard: sent NO_PROPOSAL_CHOSEN to 127\.0\.0\.1, opened receiver window" \
  "$SW_DIR/resp/charon.log")
echo "$opened_line"
sw_expect "(a) the refused request reached an IKE_SA" -eq 1 "$(sw_counter resp ike-init-in-req)"
sw_expect "(a) the window is T1 (30 s), strikes 1" -eq 1 \
  "$(grep -cE "until [0-9:.]+ \(in (30\.000|29\.9[0-9]{2})s\), strikes 1$" <<<"$opened_line" || true)"
opened_until=$(grep -oE "until [0-9:]+\.[0-9]+" <<<"$opened_line" | cut -d' ' -f2)
sw_expect "(a) no state file before the first stop" -eq 0 "$([[ -e $state ]] && echo 1 || echo 0)"
sw_expect "(a) it said there was none yet" -eq 1 "$(sw_log_count resp "ikeguard: no state file .* yet, starting empty")"

stop_begin=$(now_ms)
sw_stop resp
stop_end=$(now_ms)
sw_expect "(a) saved its state at SIGTERM" -eq 1 \
  "$(sw_log_count resp "ikeguard: saved state of the guard to $state \([0-9]+ bytes\)")"
sw_expect "(a) the state file exists" -eq 1 "$([[ -s $state ]] && echo 1 || echo 0)"
sw_expect "(a) no temporary file left" -eq 0 "$([[ -e $state.tmp ]] && echo 1 || echo 0)"
sw_expect "(a) the state file is private (mode 600)" -eq 600 "$(stat -c %a "$state")"
sleep 2 # down for a while: the window must resume with the time it had left, not run on
restart_begin=$(now_ms)
sw_restart resp 2> >(grep -v "^opening directory" >&2)
restart_end=$(now_ms)
grep -E "ikeguard: restored" "$SW_DIR/resp/charon.log" || true
sw_expect "(a) restored the peer" -eq 1 \
  "$(sw_log_count resp "ikeguard: restored 1 peers from $state \(0 beyond max_peers left out\)")"
sw_expect "(a) the guard tracks it" -eq 1 "$(sw_stat resp peers_tracked)"

sw_initiate_times init_a 1 1
sw_wait_log resp "ikeguard: dropped 127\.0\.0\.1 until" 1 5 || true
dropped_line=$(grep -m1 -E "ikeguard: dropped 127\.0\.0\.1 until" "$SW_DIR/resp/charon.log" || true)
echo "${dropped_line:-(no drop logged)}"
sw_expect "(a) after the restart the request is dropped at the gate" -eq 1 \
  "$(sw_log_count resp "ikeguard: dropped 127\.0\.0\.1 until .*, strikes 1$")"
sw_expect "(a) no IKE_SA after the restart (ike-init-in-req)" -eq 0 "$(sw_counter resp ike-init-in-req)"
sw_expect "(a) no key exchange after the restart (ike-init-out-resp)" -eq 0 \
  "$(sw_counter resp ike-init-out-resp)"
sw_expect "(a) the guard counts the drop" -ge 1 "$(sw_stat resp dropped_inbound)"
# the window's end moved by the time charon was down: what it had left resumed at the restore
shift_ms=0
if [[ -n $dropped_line ]]; then
  dropped_until=$(grep -oE "until [0-9:]+\.[0-9]+" <<<"$dropped_line" | cut -d' ' -f2)
  shift_ms=$((($(ms_of_day "$dropped_until") - $(ms_of_day "$opened_until") + 86400000) % 86400000))
fi
down_min=$((restart_begin - stop_end)) down_max=$((restart_end - stop_begin))
echo "(a) window end moved by ${shift_ms} ms; charon was down between ${down_min} and ${down_max} ms"
sw_expect "(a) the window end moved by at least the time down (ms)" -ge "$((down_min - 100))" "$shift_ms"
sw_expect "(a) and at most by it (ms)" -le "$((down_max + 100))" "$shift_ms"
sw_figure "part=a receiver_window_s=30 window_moved_ms=$shift_ms down_ms=$down_min..$down_max" \
  "ike_sa_after_restart=$(sw_counter resp ike-init-in-req) dropped_after_restart=$(sw_stat resp dropped_inbound)"
# the stock initiator retransmits its dropped request: stop it before (b)
sw_stop init_a

echo "--- (b) an altered state file is refused"
sw_stop resp
sw_expect "(b) saved its state again" -eq 1 "$(sw_log_count resp "ikeguard: saved state of the guard to")"
cp "$state" "$SW_DIR/state.orig"
flip_middle_byte "$state"
sw_expect "(b) exactly one byte differs" -eq 1 "$(cmp -l "$SW_DIR/state.orig" "$state" | wc -l)"
sw_restart resp 2> >(grep -v "^opening directory" >&2)
refused_line=$(grep -m1 -E "ikeguard: state file .* refused: " "$SW_DIR/resp/charon.log" || true)
echo "${refused_line:-(no refusal logged)}"
refused_reason=${refused_line##*refused: }
refused_reason=${refused_reason%, starting empty}
sw_expect "(b) the state file is refused, with its reason" -eq 1 \
  "$(sw_log_count resp "ikeguard: state file $state refused: .+, starting empty$")"
sw_expect "(b) nothing restored" -eq 0 "$(sw_log_count resp "ikeguard: restored")"
stats_ok=0
stats=$(sw_swanctl resp --stats 2>&1) && stats_ok=1
sw_expect "(b) charon runs (swanctl --stats)" -eq 1 "$stats_ok"
sw_expect "(b) guarded, with an empty table" -eq 1 \
  "$(grep -cE "^ikeguard: 0 of [0-9]+ peers tracked" <<<"$stats" || true)"
sw_start stock init_b 18520 "$refused" 18500
sw_initiate_times init_b 1 1
sw_wait_log resp "ikeguard: sent NO_PROPOSAL_CHOSEN to 127\.0\.0\.1" 1 5 || true
sw_expect "(b) the next request is processed (ike-init-in-req)" -eq 1 "$(sw_counter resp ike-init-in-req)"
sw_expect "(b) and refused as a first strike" -eq 1 \
  "$(sw_log_count resp "ikeguard: sent NO_PROPOSAL_CHOSEN to 127\.0\.0\.1, opened receiver window until .*\(in (30\.000|29\.9[0-9]{2})s\), strikes 1$")"
sw_expect "(b) nothing dropped" -eq 0 "$(sw_log_count resp "ikeguard: dropped")"
sw_figure "part=b refused=\"${refused_reason}\" ike_sa_after_restart=$(sw_counter resp ike-init-in-req)"

echo "--- (c) an invalid policy disables the guard"
wait "${others[@]}"
grep -E "ikeguard" "$SW_DIR/resp_c/charon.log" || true
sw_expect "(c) the policy is logged as invalid, guard disabled" -eq 1 \
  "$(sw_log_count resp_c "ikeguard: invalid policy: .+, guard disabled$")"
sw_expect "(c) naming max_window" -eq 1 "$(sw_log_count resp_c "ikeguard: invalid policy: .*max_window")"
stats_ok=0
stats=$(sw_swanctl resp_c --stats 2>&1) && stats_ok=1
sw_expect "(c) charon runs (swanctl --stats)" -eq 1 "$stats_ok"
sw_expect "(c) swanctl --stats has no ikeguard line" -eq 0 "$(grep -c "^ikeguard:" <<<"$stats" || true)"
sw_expect "(c) every request processed (ike-init-in-req)" -eq 3 "$(sw_counter resp_c ike-init-in-req)"
sw_expect "(c) every request answered (NO_PROPOSAL_CHOSEN)" -eq 3 \
  "$(sw_log_count resp_c "generating IKE_SA_INIT response 0 \[ N\(NO_PROP\) \]")"
sw_expect "(c) the guard logs nothing else" -eq 1 "$(sw_log_count resp_c "ikeguard")"
sw_figure "part=c ike_sa=$(sw_counter resp_c ike-init-in-req) requests=3"

echo "--- (d) a state file without a key"
grep -E "ikeguard" "$SW_DIR/resp_d1/charon.log" "$SW_DIR/resp_d2/charon.log" || true
sw_expect "(d1) no state_key_file: logged" -eq 1 \
  "$(sw_log_count resp_d1 "ikeguard: state_file needs state_key_file, state not kept")"
sw_expect "(d2) a missing key file: logged" -eq 1 \
  "$(sw_log_count resp_d2 "ikeguard: cannot read state_key_file $SW_DIR/no-such-key: No such file or directory")"
for d in d1 d2; do
  stats_ok=0
  stats=$(sw_swanctl "resp_$d" --stats 2>&1) && stats_ok=1
  sw_expect "($d) charon runs (swanctl --stats)" -eq 1 "$stats_ok"
  sw_expect "($d) guarded (an ikeguard line)" -eq 1 "$(grep -c "^ikeguard:" <<<"$stats" || true)"
  sw_expect "($d) the request processed (ike-init-in-req)" -eq 1 "$(sw_counter "resp_$d" ike-init-in-req)"
  sw_expect "($d) and its window opened" -eq 1 \
    "$(sw_log_count "resp_$d" "ikeguard: sent NO_PROPOSAL_CHOSEN to 127\.0\.0\.1, opened receiver window")"
  sw_stop "resp_$d"
  sw_expect "($d) no state saved at shutdown" -eq 0 "$(sw_log_count "resp_$d" "ikeguard: saved state")"
  sw_expect "($d) no state file written" -eq 0 \
    "$([[ -e $SW_DIR/resp_$d/ikeguard.state ]] && echo 1 || echo 0)"
done
sw_finish
