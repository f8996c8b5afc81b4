#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Decodes every message the codec builds with tshark and fails on any malformed packet or expert
# warning/error, or when a message is not decoded as what it is.
#
#   check.sh WRITE_MESSAGES_BINARY
set -euo pipefail
writer=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$writer" "$dir/messages.pcap"

# -o: decode UDP 500 as ISAKMP whatever the heuristics; one line per packet with its summary.
tshark -n -r "$dir/messages.pcap" -V > "$dir/decoded.txt" 2> "$dir/stderr.txt" || {
  cat "$dir/stderr.txt" >&2
  exit 1
}

fail=0
if grep -nE 'Malformed|\[Expert Info \((Warning|Error)' "$dir/decoded.txt"; then
  echo "tshark reports malformed packets or expert warnings (above)" >&2
  fail=1
fi
expect() {
  local count
  count=$(grep -cE "$1" "$dir/decoded.txt" || true)
  if [ "$count" -lt "$2" ]; then
    echo "expected at least $2 line(s) matching '$1', found $count" >&2
    fail=1
  fi
}
expect 'Internet Security Association and Key Management Protocol' 6
expect 'Exchange type: IKE_SA_INIT \(34\)' 4
expect 'Exchange type: INFORMATIONAL \(37\)' 1
expect 'Exchange type: Informational \(5\)' 1
expect 'Notify Message Type: NO_PROPOSAL_CHOSEN \(14\)' 2
expect 'Notify Message Type: INVALID_KE_PAYLOAD \(17\)' 1
expect 'Notify Message Type: NAT_DETECTION_SOURCE_IP \(16388\)' 2
expect 'Notify Message Type: NO-PROPOSAL-CHOSEN \(14\)' 1
expect 'Transform ID \(D-H\): Curve25519 \(31\)' 3
expect 'Payload: Key Exchange \(34\)' 2
if [ "$fail" -ne 0 ]; then
  echo "--- decoded ---" >&2
  cat "$dir/decoded.txt" >&2
  exit 1
fi
echo "tshark decoded $(grep -c '^Frame ' "$dir/decoded.txt") messages cleanly"
