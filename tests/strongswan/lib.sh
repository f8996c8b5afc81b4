#!/usr/bin/env bash
# Shared by the scenario_*.sh tests of the guarded strongSwan: sourced, never run.
#
# Each scenario runs real charons on 127.0.0.1 (through tests/interop/charon.sh: each in its own
# mount namespace, on its own port pair, with a watchdog), each of one of three kinds:
#   guarded  the charon built by examples/strongswan/build.sh, charon.ikeguard.enable = yes,
#            with a scaled policy (T1 2 s, T2 4 s, cap 16 s, retry delay 1 s, no jitter) plus
#            the scenario's own ikeguard settings;
#   off      the same build with charon.ikeguard.enable = no;
#   stock    Debian's own charon (/usr/lib/ipsec/charon) and swanctl.
# and counts what the daemons report: swanctl --counters, their logs, and a packet capture
# (dumpcap on lo, a BPF filter on the IKE header) of the requests that reached a port.
#
#   sw_init NAME PREFIX            checks the prerequisites, makes $SW_DIR, installs cleanup
#   sw_start KIND NAME PORT PROPOSAL REMOTE_PORT [IKEGUARD_SETTINGS]
#                                  starts charon NAME (env CHARON_IKE_VERSION,
#                                  CHARON_START_ACTION, CHARON_ESP_PROPOSALS and CHARON_PSK as
#                                  charon.sh takes them)
#   sw_stop NAME                   stops charon NAME (SIGTERM: it saves its state file)
#   sw_swanctl NAME ARGS...        that charon's swanctl, on its vici socket
#   sw_counter NAME COUNTER        a value of swanctl --counters (ike-init-in-req ...)
#   sw_stat NAME KEY               a value of the ikeguard section of swanctl --stats --raw
#   sw_log_count NAME REGEX        lines of NAME's charon.log matching REGEX (grep -E)
#   sw_wait_log NAME REGEX COUNT SECONDS
#   sw_capture NAME PORT WHAT SECONDS   starts capturing, for at most SECONDS, the first
#                                  negotiation messages (WHAT: ikev2 or ikev1) that reach PORT
#   sw_captured NAME               stops that capture, prints how many it holds
#   sw_initiate_times NAME STEP COUNT   COUNT swanctl --initiate, one every STEP s
#   sw_set_proposal NAME PROPOSAL  rewrites NAME's IKE proposal and reloads its connections
#   sw_set_esp_proposal NAME PROPOSAL   the same for its CHILD_SA's ESP proposal
#   sw_expect WHAT OP EXPECTED ACTUAL   records a check; sw_finish fails if any failed
#   sw_figure KEY=VALUE...         prints a "figures:" line (the table in docs/interop.md comes from them)
#
# SW_KEEP=1 in the environment keeps the scenario's directory (logs, configurations) at exit.

SW_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=../interop/charon.sh
source "$SW_HERE/../interop/charon.sh"

SW_NAME=""
SW_PREFIX=""
SW_DIR=""
SW_FAILED=0
SW_STARTED=$SECONDS
SW_STOCK_CHARON=/usr/lib/ipsec/charon
SW_STOCK_SWANCTL=/usr/sbin/swanctl
declare -A SW_KIND=()
declare -A SW_CAPTURE=()

sw_fail() {
  echo "FAIL ($SW_NAME): $*" >&2
  exit 1
}

sw__cleanup() {
  local status=$?
  set +e
  trap - EXIT HUP INT TERM
  trap '' PIPE
  local name pid
  for name in "${!SW_CAPTURE[@]}"; do
    pid=${SW_CAPTURE[$name]}
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  for name in "${!SW_KIND[@]}"; do
    charon_stop "$SW_DIR/$name" >/dev/null 2>&1
    if ((status != 0)); then
      echo "--- $name ($(sw__kind "$name")): charon.log (last 40 lines):" >&2
      tail -n 40 "$SW_DIR/$name/charon.log" >&2 2>/dev/null
      tail -n 10 "$SW_DIR/$name/charon.out" >&2 2>/dev/null
    fi
  done
  if [[ -n ${SW_KEEP:-} ]]; then
    echo "kept $SW_DIR (SW_KEEP)" >&2
  elif [[ -n $SW_DIR && -d $SW_DIR ]]; then
    rm -rf "$SW_DIR"
  fi
  exit "$status"
}

sw_init() {
  SW_NAME=$1
  SW_PREFIX=${2:-}
  [[ -n $SW_PREFIX && -x $SW_PREFIX/libexec/ipsec/charon && -x $SW_PREFIX/sbin/swanctl ]] ||
    sw_fail "usage: $0 PREFIX, where examples/strongswan/build.sh PREFIX installed the guarded charon (got '$SW_PREFIX')"
  [[ $(id -u) == 0 ]] ||
    sw_fail "needs root: charon opens netlink/XFRM sockets and runs in its own mount namespace"
  [[ -x $SW_STOCK_CHARON ]] ||
    sw_fail "no stock charon at $SW_STOCK_CHARON (apt-get install strongswan-charon strongswan-swanctl)"
  command -v dumpcap >/dev/null || sw_fail "no dumpcap (apt-get install tshark)"
  SW_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ikeguard-strongswan.XXXXXX") || sw_fail "mktemp failed"
  export CHARON_OWNER_PID=$$
  export CHARON_MAX_SECONDS=300
  trap sw__cleanup EXIT
  trap 'exit 130' HUP INT TERM
}

sw__kind() { echo "${SW_KIND[$1]:-}"; }

sw__swanctl_bin() {
  if [[ $(sw__kind "$1") == stock ]]; then echo "$SW_STOCK_SWANCTL"; else echo "$SW_PREFIX/sbin/swanctl"; fi
}

sw_start() {
  local kind=$1 name=$2 port=$3 proposal=$4 remote_port=$5 settings=${6:-}
  local bin=$SW_PREFIX/libexec/ipsec/charon conf=""
  case $kind in
    guarded)
      conf="  ikeguard {
    enable = yes
    receiver_window = 2s
    sender_window = 4s
    max_window = 16s
    retry_delay = 1s
    jitter = 0
$settings
  }"
      ;;
    off) conf="  ikeguard {
    enable = no
  }" ;;
    stock) bin=$SW_STOCK_CHARON ;;
    *) sw_fail "unknown charon kind '$kind'" ;;
  esac
  SW_KIND[$name]=$kind
  CHARON_BIN=$bin SWANCTL_BIN=$(sw__swanctl_bin "$name") CHARON_CONF_EXTRA=$conf \
    charon_start "$SW_DIR/$name" "$port" "$proposal" "$remote_port" >/dev/null ||
    sw_fail "charon $name ($kind) did not start"
}

# Starts a charon again in the same directory with the configuration it has (a restart).
sw_restart() {
  local name=$1 dir=$SW_DIR/$1
  local port
  port=$(sed -n 's/^  port = //p' "$dir/strongswan.conf")
  (
    exec setsid unshare --mount --propagation private \
      sh -c 'echo $$ >"$1/charon.pid" &&
             mount -t tmpfs -o mode=0755,size=1m charon-run /run &&
             exec env STRONGSWAN_CONF="$1/strongswan.conf" "$2"' \
      charon-ns "$dir" "$SW_PREFIX/libexec/ipsec/charon" </dev/null >>"$dir/charon.out" 2>&1
  ) &
  local i
  for ((i = 0; i < 150; i++)); do
    [[ -S $dir/charon.vici ]] && sw_swanctl "$name" --stats >/dev/null 2>&1 && break
    sleep 0.1
  done
  sw_swanctl "$name" --stats >/dev/null 2>&1 || sw_fail "charon $name did not restart on port $port"
  sw_swanctl "$name" --load-all --noprompt --file "$dir/swanctl.conf" >/dev/null ||
    sw_fail "charon $name: swanctl --load-all failed after the restart"
}

sw_stop() {
  charon_stop "$SW_DIR/$1" >/dev/null 2>&1 || true
}

sw_swanctl() {
  local name=$1
  shift
  SWANCTL_BIN=$(sw__swanctl_bin "$name") charon__swanctl "$SW_DIR/$name" "$@"
}

sw_counter() {
  sw_swanctl "$1" --counters | awk -v k="$2" '$1 == k { print $3; found = 1 } END { if (!found) print 0 }'
}

sw_stat() {
  sw_swanctl "$1" --stats --raw | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

sw_log_count() {
  local n
  n=$(grep -cE -- "$2" "$SW_DIR/$1/charon.log" 2>/dev/null) || true
  echo "${n:-0}"
}

sw_wait_log() {
  local name=$1 regex=$2 count=$3 seconds=$4 start=$SECONDS
  while (($(sw_log_count "$name" "$regex") < count)); do
    ((SECONDS - start < seconds)) || return 1
    sleep 0.2
  done
}

# BPF filters on what reaches a port, non-ESP marker included (neither port is 500): the IKE
# header starts at udp[12]; its exchange type is udp[30], its flags udp[31].
sw__filter() {
  local port=$1 what=$2
  case $what in
    # IKE_SA_INIT (34) with the response flag (0x20) clear
    ikev2) echo "udp dst port $port and udp[30] = 34 and (udp[31] & 0x20) = 0" ;;
    # Identity Protection (2) with a zero responder cookie: a Main Mode first message
    ikev1) echo "udp dst port $port and udp[30] = 2 and udp[20:4] = 0 and udp[24:4] = 0" ;;
    *) sw_fail "unknown capture '$what'" ;;
  esac
}

sw_capture() {
  local name=$1 port=$2 what=$3 seconds=$4 file=$SW_DIR/$1.pcapng
  dumpcap -q -i lo -f "$(sw__filter "$port" "$what")" -a "duration:$seconds" -w "$file" \
    >"$SW_DIR/$name.dumpcap" 2>&1 &
  SW_CAPTURE[$name]=$!
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q "Capturing on" "$SW_DIR/$name.dumpcap" 2>/dev/null && return 0
    kill -0 "${SW_CAPTURE[$name]}" 2>/dev/null || break
    sleep 0.05
  done
  cat "$SW_DIR/$name.dumpcap" >&2
  sw_fail "dumpcap did not start capturing for $name"
}

sw_captured() {
  local name=$1 pid=${SW_CAPTURE[$1]}
  sleep 1 # the capture's kernel buffer hands packets over in blocks: let the last arrive
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "SW_CAPTURE[$name]"
  tshark -r "$SW_DIR/$name.pcapng" -T fields -e frame.number 2>/dev/null | wc -l
}

# COUNT times swanctl --initiate, one every STEP seconds (an operator's script that retries),
# each bounded in time; waits for all of them.
sw_initiate_times() {
  local name=$1 step=$2 count=$3 pids=() i
  for ((i = 0; i < count; i++)); do
    ((i == 0)) || sleep "$step"
    sw_swanctl "$name" --initiate --child guarded --timeout 2 >>"$SW_DIR/$name/initiate.out" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}" 2>/dev/null || true
}

sw_set_proposal() {
  local name=$1 proposal=$2 dir=$SW_DIR/$1
  sed -i "s/^    proposals = .*/    proposals = $proposal/" "$dir/swanctl.conf"
  sw_swanctl "$name" --load-conns --file "$dir/swanctl.conf" >/dev/null ||
    sw_fail "swanctl --load-conns failed for $name"
}

sw_set_esp_proposal() {
  local name=$1 proposal=$2 dir=$SW_DIR/$1
  sed -i "s/^        esp_proposals = .*/        esp_proposals = $proposal/" "$dir/swanctl.conf"
  sw_swanctl "$name" --load-conns --file "$dir/swanctl.conf" >/dev/null ||
    sw_fail "swanctl --load-conns failed for $name"
}

sw_expect() {
  local what=$1 op=$2 expected=$3 actual=$4
  if [[ $actual =~ ^[0-9]+$ ]] && [ "$actual" "$op" "$expected" ]; then
    echo "ok: $what: $actual ($op $expected)"
  else
    echo "NOT OK: $what: $actual, expected $op $expected"
    SW_FAILED=1
  fi
}

sw_figure() {
  echo "figures: scenario=$SW_NAME $*"
}

sw_finish() {
  echo "$SW_NAME: $((SECONDS - SW_STARTED)) s"
  if ((SW_FAILED)); then
    echo "FAIL ($SW_NAME): a check above failed" >&2
    exit 1
  fi
  echo "PASS ($SW_NAME)"
}
