#!/usr/bin/env bash
# Shared by the scenario_*.sh interop tests: sourced, never run. Each scenario runs one real
# charon (through charon.sh) against interop_peer, in a directory of its own, then checks
# counts. A scenario that cannot run charon fails with the reason: it never skips.
#
#   interop_init NAME PEER_BINARY   checks the prerequisites, makes the work directory
#                                   ($INTEROP_DIR), installs the cleanup trap
#   interop_start_charon PORT PROPOSAL [REMOTE_PORT]
#   interop_counter NAME            a value of `swanctl --counters` (ike-init-in-req ...)
#   interop_field FILE KEY          KEY's value on FILE's summary line (key=value pairs)
#   interop_expect WHAT OP EXPECTED ACTUAL
#                                   records a check (OP: -eq -ge -gt -le); interop_finish
#                                   fails the test if any check failed

INTEROP_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
INTEROP_CHARON="$INTEROP_HERE/charon.sh"
INTEROP_DIR=""
INTEROP_NAME=""
INTEROP_PEER=""
INTEROP_PEER_PID=""
INTEROP_FAILED=0
INTEROP_STARTED=$SECONDS

interop_fail() {
  echo "FAIL ($INTEROP_NAME): $*" >&2
  exit 1
}

interop__cleanup() {
  local status=$?
  # Whatever happens to our output now, charon is stopped and the directory removed.
  set +e
  trap - EXIT HUP INT TERM
  trap '' PIPE
  if [[ -n $INTEROP_PEER_PID ]] && kill -0 "$INTEROP_PEER_PID" 2>/dev/null; then
    kill -TERM "$INTEROP_PEER_PID" 2>/dev/null || true
    wait "$INTEROP_PEER_PID" 2>/dev/null || true
  fi
  if [[ -n $INTEROP_DIR && -d $INTEROP_DIR ]]; then
    bash "$INTEROP_CHARON" stop "$INTEROP_DIR" >/dev/null 2>&1 || true
    if ((status != 0)); then
      local f
      for f in peer.err peer.out initiate.out charon.out charon.log; do
        [[ -s $INTEROP_DIR/$f ]] || continue
        echo "--- $f (last 40 lines):" >&2
        tail -n 40 "$INTEROP_DIR/$f" >&2
      done
    fi
    rm -rf "$INTEROP_DIR"
  fi
  exit "$status"
}

interop_init() {
  INTEROP_NAME=$1
  INTEROP_PEER=${2:-}
  [[ -n $INTEROP_PEER && -x $INTEROP_PEER ]] ||
    interop_fail "usage: $0 PATH_TO_interop_peer (got '${INTEROP_PEER}')"
  [[ $(id -u) == 0 ]] ||
    interop_fail "needs root: charon opens netlink/XFRM sockets and runs in its own mount namespace"
  command -v unshare >/dev/null || interop_fail "needs unshare (util-linux)"
  [[ -x ${CHARON_BIN:-/usr/lib/ipsec/charon} ]] && command -v "${SWANCTL_BIN:-swanctl}" >/dev/null ||
    interop_fail "needs strongSwan's charon and swanctl: run 'bash tests/interop/charon.sh install-deps'"
  INTEROP_DIR=$(mktemp -d -t ikeguard-interop.XXXXXX) || interop_fail "mktemp failed"
  trap interop__cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 141' PIPE
  trap 'exit 143' TERM
  # charon.sh's watchdog stops charon once this shell is gone, even if it is killed.
  export CHARON_OWNER_PID=$$
  export CHARON_MAX_SECONDS=${CHARON_MAX_SECONDS:-120}
  echo "== $INTEROP_NAME"
}

interop_start_charon() {
  local port=$1 proposal=$2 remote_port=${3:-500} pid
  if ! pid=$(bash "$INTEROP_CHARON" start "$INTEROP_DIR" "$port" "$proposal" "$remote_port"); then
    interop_fail "charon could not start on 127.0.0.1:$port (charon.sh says why above: a port in use," \
      "or no root, unshare or strongSwan)"
  fi
  echo "charon $pid on 127.0.0.1:$port and $((port + 1)), proposals $proposal, peer port $remote_port"
}

interop_counter() {
  local name=$1 out value
  out=$(bash "$INTEROP_CHARON" counters "$INTEROP_DIR") || interop_fail "swanctl --counters failed"
  value=$(awk -v n="$name" '$1 == n && $2 == ":" { print $3 }' <<<"$out")
  [[ $value =~ ^[0-9]+$ ]] || interop_fail "no counter '$name' in: $out"
  echo "$value"
}

# The value of KEY=N on the first line of FILE that has it as a whole key.
interop_field() {
  local file=$1 key=$2 value
  value=$(sed -n -E "s/^(.* )?$key=([0-9]+)( .*)?\$/\\2/p" "$file" | head -n 1)
  [[ $value =~ ^[0-9]+$ ]] || interop_fail "no '$key=' in $file: $(cat "$file")"
  echo "$value"
}

interop_expect() {
  local what=$1 op=$2 expected=$3 actual=$4
  if [ "$actual" "$op" "$expected" ]; then
    echo "ok   $what: $actual ($op $expected)"
  else
    echo "FAIL $what: $actual, expected $op $expected" >&2
    INTEROP_FAILED=1
  fi
}

interop_finish() {
  echo "took $((SECONDS - INTEROP_STARTED)) s"
  ((INTEROP_FAILED == 0)) || interop_fail "some checks failed"
  echo "PASS $INTEROP_NAME"
}
