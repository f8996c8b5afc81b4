#!/usr/bin/env bash
# Runs a real, unmodified strongSwan charon as an IKEv2 peer for ikeguard's
# interop tests. Everything stays on 127.0.0.1.
#
# Usage (call it, or source it and use the charon_* functions):
#   charon.sh start DIR PORT PROPOSAL [REMOTE_PORT]
#       Writes DIR/strongswan.conf and DIR/swanctl.conf, starts charon in its
#       own mount namespace (private tmpfs on /run, for its fixed pid file)
#       on UDP PORT and PORT+1 (NAT-T), loads connection and child "guarded"
#       (IKEv2, PSK, IKE proposal PROPOSAL, peer 127.0.0.1:REMOTE_PORT, default
#       500), waits for the vici socket, prints charon's PID. DIR/charon.log
#       (ike, cfg, net at level 2) starts empty on each start.
#   charon.sh stop DIR          stop that charon and its process group; idempotent
#   charon.sh initiate DIR      swanctl --initiate --child guarded, bounded in time;
#                               returns swanctl's exit code (124 if `timeout` fired)
#   charon.sh counters DIR      swanctl --counters (ike-init-in-req, ...)
#   charon.sh count-log DIR PATTERN
#                               number of lines of DIR/charon.log matching the
#                               extended regular expression PATTERN
#   charon.sh wait-log DIR PATTERN COUNT [SECONDS]
#                               wait until count-log reaches COUNT (default 10 s)
#   charon.sh install-deps      apt-get the strongSwan packages if missing and
#                               stop any charon their install started system-wide
#
# Environment:
#   CHARON_BIN               charon binary (default /usr/lib/ipsec/charon)
#   SWANCTL_BIN              swanctl binary (default: swanctl from PATH)
#   CHARON_PSK               the pre-shared key (default: a fixed test secret)
#   CHARON_IKE_VERSION       the connection's IKE version, 1 or 2 (default 2)
#   CHARON_START_ACTION      the child's start_action (default none)
#   CHARON_ESP_PROPOSALS     the child's esp_proposals (default aes128-sha256)
#   CHARON_CONF_EXTRA        lines added to the charon { } section of strongswan.conf
#                            (e.g. an ikeguard { } section)
#   CHARON_INITIATE_TIMEOUT  swanctl --timeout for initiate, seconds (default 10)
#   CHARON_START_TIMEOUT     seconds to wait for the vici socket (default 15)
#   CHARON_OWNER_PID         a watchdog stops charon once this process is gone
#                            (default: the shell that sourced this file; none
#                            when it is run as a command: export it there)
#   CHARON_MAX_SECONDS       the watchdog stops charon after this long in any
#                            case (default 600), so none outlives a killed test
#
# Facts a peer must know:
#   - When neither UDP port of a datagram is 500, charon puts a 4-byte zero
#     Non-ESP marker before the IKE message it sends, and silently drops a
#     received one without it (it takes it for ESP). Either prefix the marker
#     or send from port 500.
#   - charon's socket is bound to 0.0.0.0:PORT (socket-default has no bind
#     address); the connection itself only talks to 127.0.0.1.
#
# Needs root (charon uses netlink/xfrm; mounting a tmpfs needs a mount
# namespace). Any failure to start is reported on stderr with a non-zero
# status: nothing is ever skipped silently.
#
# In a test script:
#   export CHARON_OWNER_PID=$$
#   dir=$(mktemp -d); trap 'charon.sh stop "$dir"; rm -rf "$dir"' EXIT INT TERM
#   charon.sh start "$dir" 15000 aes128-sha256-x25519

CHARON_BIN=${CHARON_BIN:-/usr/lib/ipsec/charon}
SWANCTL_BIN=${SWANCTL_BIN:-swanctl}
CHARON_PSK=${CHARON_PSK:-ikeguard-interop-test-psk-0123456789}

# Plugins: no curve25519 plugin on Debian, X25519 comes from openssl. A "!"
# marks a plugin critical: charon exits if it fails to load (kernel-netlink
# without CAP_NET_ADMIN). A port already in use does not make socket-default
# fail (charon runs deaf), so start checks the bound sockets itself.
CHARON_PLUGINS="random nonce aes sha1 sha2 hmac gmp openssl! pem pkcs1 x509 pubkey kdf kernel-netlink! socket-default! vici! counters!"
SWANCTL_PLUGINS="random nonce aes sha1 sha2 hmac gmp openssl pem pkcs1 x509 pubkey"

charon__die() {
  echo "charon.sh: error: $*" >&2
  return 1
}

charon__uri() {
  printf 'unix://%s/charon.vici' "$1"
}

# Runs swanctl against the instance in DIR, with its own strongswan.conf.
charon__swanctl() {
  local dir=$1
  shift
  STRONGSWAN_CONF="$dir/strongswan.conf" SWANCTL_DIR="$dir" \
    "$SWANCTL_BIN" "$@" --uri "$(charon__uri "$dir")"
}

# True while PID is a live (not zombie) charon process.
charon__alive() {
  local pid=$1 state comm
  [[ -n $pid && -r /proc/$pid/stat ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == charon ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z && $state != X ]]
}

# True if PID holds a UDP socket bound to PORT on 0.0.0.0 or 127.0.0.1.
charon__bound() {
  local pid=$1 port=$2 inodes
  inodes=$(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
    sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ') || true
  [[ -n $inodes ]] || return 1
  awk -v port="$(printf '%04X' "$port")" -v inodes=" $inodes" '
    NR > 1 {
      split($2, a, ":")
      if ((a[1] == "00000000" || a[1] == "0100007F") && a[2] == port &&
          index(inodes, " " $10 " ")) found = 1
    }
    END { exit !found }' /proc/net/udp
}

# True while PID exists and is no zombie (whatever its name).
charon__running() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

charon__write_conf() {
  local dir=$1 port=$2 proposal=$3 remote_port=$4
  cat >"$dir/strongswan.conf" <<EOF
# Written by charon.sh for one interop test instance.
charon {
  port = $port
  port_nat_t = $((port + 1))
  load = $CHARON_PLUGINS
  install_routes = no
  install_virtual_ip = no
  # no policy routing rule (table 220) in the host's network namespace
  routing_table = 0
  # only loopback is ever used (the IKE socket itself is bound to 0.0.0.0)
  interfaces_use = lo
  retry_initiate_interval = 0
${CHARON_CONF_EXTRA:-}
  filelog {
    interop {
      path = $dir/charon.log
      append = no
      flush_line = yes
      time_format = %H:%M:%S
      ike_name = yes
      default = 1
      ike = 2
      cfg = 2
      net = 2
    }
  }
  plugins {
    vici {
      socket = $(charon__uri "$dir")
    }
    socket-default {
      use_ipv6 = no
    }
    kernel-netlink {
      # charon only receives from and sends to loopback here
      roam_events = no
    }
  }
}
swanctl {
  load = $SWANCTL_PLUGINS
}
EOF
  cat >"$dir/swanctl.conf" <<EOF
# Written by charon.sh for one interop test instance.
connections {
  guarded {
    version = ${CHARON_IKE_VERSION:-2}
    local_addrs = 127.0.0.1
    remote_addrs = 127.0.0.1
    remote_port = $remote_port
    proposals = $proposal
    keyingtries = 1
    mobike = no
    local {
      auth = psk
      id = 127.0.0.1
    }
    remote {
      auth = psk
      id = 127.0.0.1
    }
    children {
      guarded {
        esp_proposals = ${CHARON_ESP_PROPOSALS:-aes128-sha256}
        local_ts = 127.0.0.1/32
        remote_ts = 127.0.0.1/32
        start_action = ${CHARON_START_ACTION:-none}
      }
    }
  }
}
secrets {
  ike-interop {
    id = 127.0.0.1
    secret = "$CHARON_PSK"
  }
}
EOF
}

charon_start() {
  local dir=${1:-} port=${2:-} proposal=${3:-} remote_port=${4:-500}
  if [[ -z $dir || -z $port || -z $proposal ]]; then
    charon__die "usage: charon.sh start DIR PORT PROPOSAL [REMOTE_PORT]"
    return
  fi
  if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65534)); then
    charon__die "bad PORT '$port' (need 1..65534, PORT+1 is NAT-T)"
    return
  fi
  if ! [[ $remote_port =~ ^[0-9]+$ ]] || ((remote_port < 1 || remote_port > 65535)); then
    charon__die "bad REMOTE_PORT '$remote_port'"
    return
  fi
  [[ $proposal =~ ^[A-Za-z0-9_,-]+$ ]] ||
    { charon__die "bad PROPOSAL '$proposal'"; return; }
  [[ -x $CHARON_BIN ]] ||
    { charon__die "no charon at $CHARON_BIN (install strongswan-charon)"; return; }
  command -v "$SWANCTL_BIN" >/dev/null ||
    { charon__die "no swanctl (install strongswan-swanctl)"; return; }
  command -v unshare >/dev/null ||
    { charon__die "no unshare (util-linux)"; return; }
  mkdir -p "$dir" || { charon__die "cannot create $dir"; return; }
  dir=$(cd "$dir" && pwd -P) || return 1
  case $dir in
    /run | /run/* | /var/run | /var/run/*)
      charon__die "DIR must not be under /run: charon gets a private /run"
      return
      ;;
  esac
  if charon__alive "$(cat "$dir/charon.pid" 2>/dev/null)"; then
    charon__die "a charon already runs for $dir (pid $(cat "$dir/charon.pid"))"
    return
  fi
  rm -f "$dir/charon.pid" "$dir/charon.vici"
  charon__write_conf "$dir" "$port" "$proposal" "$remote_port" ||
    { charon__die "cannot write config into $dir"; return; }

  # setsid: own session and process group, so stop can signal all of it.
  # unshare -m: private mount namespace; its tmpfs on /run hides the fixed
  # /var/run/charon.pid from other instances. The shell records its own PID,
  # then execs charon in place, so that PID is charon's.
  # shellcheck disable=SC2016 # $$ and $1 are for the inner sh
  (
    exec setsid unshare --mount --propagation private \
      sh -c 'echo $$ >"$1/charon.pid" &&
             mount -t tmpfs -o mode=0755,size=1m charon-run /run &&
             exec env STRONGSWAN_CONF="$1/strongswan.conf" "$2"' \
      charon-ns "$dir" "$CHARON_BIN" \
      </dev/null >"$dir/charon.out" 2>&1
  ) &
  local launcher=$! pid="" waited=0 limit
  limit=$((${CHARON_START_TIMEOUT:-15} * 10))
  while ((waited < limit)); do
    pid=$(cat "$dir/charon.pid" 2>/dev/null) || true
    if ! charon__running "${pid:-$launcher}"; then
      break # died early
    fi
    if [[ -S $dir/charon.vici ]] && charon__alive "$pid" &&
      charon__swanctl "$dir" --stats >/dev/null 2>&1; then
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  if ! charon__alive "$pid" || ! charon__swanctl "$dir" --stats >/dev/null 2>&1 ||
    ! charon__bound "$pid" "$port" || ! charon__bound "$pid" "$((port + 1))"; then
    {
      echo "charon.sh: error: charon did not come up on 127.0.0.1:$port and $((port + 1)) (dir $dir)"
      echo "--- charon.out:"
      tail -n 20 "$dir/charon.out" 2>/dev/null
      echo "--- charon.log:"
      tail -n 20 "$dir/charon.log" 2>/dev/null
      if grep -q "cannot change root filesystem propagation" "$dir/charon.out" 2>/dev/null; then
        echo "charon.sh: hint: / is not a mount point (a chroot?): unshare cannot make it private;" \
          "bind-mount the root directory onto itself before entering it"
      fi
    } >&2
    charon_stop "$dir" >/dev/null 2>&1
    kill -KILL "$launcher" 2>/dev/null || true
    return 1
  fi
  local out
  if ! out=$(charon__swanctl "$dir" --load-all --noprompt --file "$dir/swanctl.conf" 2>&1) ||
    ! grep -q "loaded connection 'guarded'" <<<"$out"; then
    {
      echo "charon.sh: error: swanctl --load-all failed for $dir:"
      echo "$out"
    } >&2
    charon_stop "$dir" >/dev/null 2>&1
    return 1
  fi
  charon__start_watchdog "$dir" "$pid"
  echo "$pid"
}

# A detached process that stops the charon of DIR when CHARON_OWNER_PID is
# gone or CHARON_MAX_SECONDS have passed; stop ends it first.
charon__start_watchdog() {
  local dir=$1 pid=$2 owner=${CHARON_OWNER_PID:-${CHARON__SOURCED_BY:-0}}
  local max=${CHARON_MAX_SECONDS:-600}
  [[ $owner =~ ^[0-9]+$ ]] || owner=0
  [[ $max =~ ^[0-9]+$ ]] || max=600
  rm -f "$dir/watchdog.pid"
  setsid -f bash "$CHARON__SELF" __watchdog "$dir" "$pid" "$owner" "$max" \
    </dev/null >/dev/null 2>&1
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $dir/watchdog.pid ]] && return 0
    sleep 0.02
  done
  echo "charon.sh: warning: no watchdog for charon $pid" >&2
}

charon__watchdog() {
  local dir=$1 pid=$2 owner=$3 max=$4 start=$SECONDS
  echo "$$" >"$dir/watchdog.pid"
  while charon__alive "$pid"; do
    if ((SECONDS - start >= max)); then
      echo "charon.sh: watchdog: charon $pid ran ${max}s, stopping it" >>"$dir/charon.out"
      break
    fi
    if ((owner > 0)) && ! kill -0 "$owner" 2>/dev/null; then
      echo "charon.sh: watchdog: owner $owner is gone, stopping charon $pid" >>"$dir/charon.out"
      break
    fi
    sleep 1
  done
  rm -f "$dir/watchdog.pid"
  [[ $(cat "$dir/charon.pid" 2>/dev/null) == "$pid" ]] && charon_stop "$dir"
  return 0
}

charon_stop() {
  local dir=${1:-}
  [[ -n $dir ]] || { charon__die "usage: charon.sh stop DIR"; return; }
  local pid wd
  wd=$(cat "$dir/watchdog.pid" 2>/dev/null) || true
  if [[ $wd =~ ^[0-9]+$ && $wd != "$$" ]] &&
    tr '\0' ' ' <"/proc/$wd/cmdline" 2>/dev/null | grep -qF -- "__watchdog $dir "; then
    kill -TERM "$wd" 2>/dev/null || true
  fi
  rm -f "$dir/watchdog.pid"
  pid=$(cat "$dir/charon.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] || { rm -f "$dir/charon.pid"; return 0; }
  if charon__alive "$pid"; then
    # charon leads its own process group (setsid): signal the whole group,
    # then kill whatever is left in it (nothing expected: no updown plugin).
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      charon__alive "$pid" || break
      sleep 0.1
    done
    if charon__alive "$pid"; then
      echo "charon.sh: charon $pid ignored SIGTERM for 5 s, killing it" >&2
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        charon__alive "$pid" || break
        sleep 0.1
      done
    fi
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  if charon__alive "$pid"; then
    charon__die "charon $pid in $dir would not exit"
    return
  fi
  wait "$pid" 2>/dev/null || true # reap it if it is our child (sourced use)
  rm -f "$dir/charon.pid" "$dir/charon.vici"
  return 0
}

charon_initiate() {
  local dir=${1:-}
  [[ -n $dir ]] || { charon__die "usage: charon.sh initiate DIR"; return; }
  local t=${CHARON_INITIATE_TIMEOUT:-10}
  # swanctl detaches after --timeout; `timeout` is the backstop if it hangs.
  timeout -k 2 "$((t + 5))" env STRONGSWAN_CONF="$dir/strongswan.conf" SWANCTL_DIR="$dir" \
    "$SWANCTL_BIN" --initiate --child guarded --timeout "$t" --uri "$(charon__uri "$dir")"
}

charon_counters() {
  local dir=${1:-}
  [[ -n $dir ]] || { charon__die "usage: charon.sh counters DIR"; return; }
  charon__swanctl "$dir" --counters
}

charon_count_log() {
  local dir=${1:-} pattern=${2:-}
  [[ -n $dir && -n $pattern ]] ||
    { charon__die "usage: charon.sh count-log DIR PATTERN"; return; }
  [[ -r $dir/charon.log ]] || { echo 0; return 0; }
  local n rc=0
  n=$(grep -c -E -- "$pattern" "$dir/charon.log") || rc=$?
  if ((rc > 1)); then
    charon__die "grep failed on $dir/charon.log (bad PATTERN '$pattern'?)"
    return
  fi
  echo "${n:-0}"
}

charon_wait_log() {
  local dir=${1:-} pattern=${2:-} count=${3:-} secs=${4:-10}
  [[ -n $dir && -n $pattern && $count =~ ^[0-9]+$ ]] ||
    { charon__die "usage: charon.sh wait-log DIR PATTERN COUNT [SECONDS]"; return; }
  local i n
  for ((i = 0; i <= secs * 10; i++)); do
    n=$(charon_count_log "$dir" "$pattern")
    ((n >= count)) && { echo "$n"; return 0; }
    sleep 0.1
  done
  echo "$n"
  charon__die "waited ${secs}s for $count lines matching '$pattern' in $dir/charon.log, saw $n"
}

charon_install_deps() {
  local pkgs=(strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
    libcharon-extra-plugins)
  if [[ ! -x $CHARON_BIN ]] || ! command -v "$SWANCTL_BIN" >/dev/null ||
    [[ ! -e /usr/lib/ipsec/plugins/libstrongswan-vici.so ]]; then
    command -v apt-get >/dev/null || { charon__die "no apt-get to install: ${pkgs[*]}"; return; }
    if ! DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
      ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >/dev/null; then
      charon__die "apt-get install ${pkgs[*]} failed"
      return
    fi
  fi
  # A package script may have started the system's charon (via starter):
  # stop exactly those, by the PIDs in their pid files.
  local f pid
  for f in /run/starter.charon.pid /run/charon.pid; do
    pid=$(cat "$f" 2>/dev/null) || continue
    [[ $pid =~ ^[0-9]+$ ]] || continue
    case $(cat "/proc/$pid/comm" 2>/dev/null) in
      starter | charon)
        echo "charon.sh: stopping system-wide $(cat "/proc/$pid/comm") ($pid)" >&2
        kill -TERM "$pid"
        ;;
    esac
  done
  return 0
}

charon_main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    start) charon_start "$@" ;;
    stop) charon_stop "$@" ;;
    initiate) charon_initiate "$@" ;;
    counters) charon_counters "$@" ;;
    count-log) charon_count_log "$@" ;;
    wait-log) charon_wait_log "$@" ;;
    install-deps) charon_install_deps "$@" ;;
    *)
      sed -n '/^# Usage/,/^# In a test script/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
      return 2
      ;;
  esac
}

CHARON__SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -u
  if [[ ${1:-} == __watchdog ]]; then
    shift
    charon__watchdog "$@"
    exit 0
  fi
  charon_main "$@"
  exit $?
fi
CHARON__SOURCED_BY=$$
