#!/usr/bin/env bash
# Builds a strongSwan charon guarded by ikeguard, from Debian's own source package.
#
# Usage: examples/strongswan/build.sh PREFIX
#
# On Debian 12, as root, from any directory. It
#   1. installs the build packages it lacks (apt-get) and, when apt has no deb-src entry,
#      adds one derived from the machine's own deb entries;
#   2. builds ikeguard from this checkout and installs it into PREFIX;
#   3. fetches Debian's strongswan source package (apt-get source), applies
#      examples/strongswan/patches/*.patch in order, regenerates the build system;
#   4. configures a minimal charon (IKEv1 and IKEv2, PSK and X.509, openssl, vici, counters,
#      swanctl), builds it and installs it into PREFIX;
#   5. prints as the last line of its standard output the absolute path of the guarded charon
#      (PREFIX/sbin/swanctl is its swanctl).
# Idempotent: a second run with the same patches rebuilds only what changed. Work files stay
# in PREFIX/build. Everything else it says goes to standard error; a failing step names itself
# and exits non-zero.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

die() { echo "build.sh: $*" >&2; exit 1; }
step() { echo "build.sh: $*" >&2; }

[ $# -eq 1 ] || die "usage: $0 PREFIX"
[ "$(id -u)" -eq 0 ] || die "run as root: it installs Debian packages"
mkdir -p "$1" || die "cannot create $1"
prefix=$(cd "$1" && pwd)
work=$prefix/build
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$work"

# --- 1. packages and a deb-src entry --------------------------------------------------------
packages=(cmake ninja-build g++ gcc make pkg-config libsodium-dev libfmt-dev dpkg-dev
          libgmp-dev libssl-dev autoconf automake libtool gettext bison flex gperf)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep 'install ok installed' >/dev/null || missing+=("$p")
done

has_deb_src() {
  grep -rqsE '^[[:space:]]*Types:.*deb-src' /etc/apt/sources.list.d/*.sources 2>/dev/null ||
    grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list
}
updated=no
if ! has_deb_src; then
  step "adding deb-src entries derived from this machine's apt sources"
  src=/etc/apt/sources.list.d/ikeguard-deb-src
  if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
    # deb822: the same URIs, suites, components and keys, as source entries
    for f in /etc/apt/sources.list.d/*.sources; do
      sed -E 's/^([[:space:]]*Types:[[:space:]]*)deb([[:space:]]*)$/\1deb-src\2/' "$f"
      echo
    done > "$src.sources"
  fi
  if grep -qsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list; then
    sed -nE 's/^([[:space:]]*)deb([[:space:]])/\1deb-src\2/p' /etc/apt/sources.list > "$src.list"
  fi
  has_deb_src || die "no apt source to derive a deb-src entry from"
  apt-get update >&2 || die "apt-get update failed"
  updated=yes
fi
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  [ $updated = yes ] || apt-get update >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed"
fi

# --- 2. ikeguard ------------------------------------------------------------------------------
step "building ikeguard into $prefix"
cmake -S "$repo" -B "$work/ikeguard" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=ON \
  -DIKEGUARD_BUILD_TESTS=OFF -DIKEGUARD_BUILD_EXAMPLES=OFF >&2 || die "configuring ikeguard failed"
cmake --build "$work/ikeguard" -j "$jobs" >&2 || die "building ikeguard failed"
cmake --install "$work/ikeguard" >&2 || die "installing ikeguard failed"

# --- 3. Debian's strongswan source, patched -----------------------------------------------------
patches=("$here"/patches/*.patch)
[ -e "${patches[0]}" ] || die "no patches in $here/patches"
stamp=$(cat "${patches[@]}" | sha256sum | cut -c1-16)
tree=$work/strongswan
if [ ! -f "$tree/.ikeguard-patched-$stamp" ]; then
  rm -rf "$tree" "$work/source"
  mkdir -p "$work/source"
  step "fetching Debian's strongswan source package"
  # the newest source version apt knows first; a mirror may lack the newest one's files
  fetched=no
  for version in "" $(apt-cache showsrc strongswan 2>/dev/null | sed -n 's/^Version: //p' | sort -rV); do
    if (cd "$work/source" && apt-get source -q "strongswan${version:+=$version}") >&2; then
      fetched=yes
      break
    fi
    rm -rf "${work:?}/source" && mkdir -p "$work/source"
  done
  [ $fetched = yes ] || die "apt-get source strongswan failed"
  dir=$(find "$work/source" -mindepth 1 -maxdepth 1 -type d -name 'strongswan-*' | head -n 1)
  [ -n "$dir" ] || die "apt-get source gave no strongswan-* directory"
  mv "$dir" "$tree"
  rm -rf "$work/source"
  for p in "${patches[@]}"; do
    step "applying $(basename "$p")"
    patch -d "$tree" -p1 --forward --batch --quiet < "$p" >&2 || die "patch $(basename "$p") does not apply"
  done
  step "regenerating the build system"
  (cd "$tree" && autoreconf -fi) > "$work/autoreconf.log" 2>&1 || {
    grep -E 'error' "$work/autoreconf.log" | head -n 20 >&2
    die "autoreconf failed (see $work/autoreconf.log)"
  }
  touch "$tree/.ikeguard-patched-$stamp"
fi

# --- 4. configure, build, install -------------------------------------------------------------------
options=(--prefix="$prefix" --sysconfdir="$prefix/etc" --disable-defaults
  --enable-charon --enable-swanctl --enable-vici --enable-ikev1 --enable-ikev2
  --enable-socket-default --enable-kernel-netlink --enable-nonce --enable-random
  --enable-openssl --enable-pem --enable-pkcs1 --enable-pubkey --enable-x509
  --enable-constraints --enable-revocation --enable-curve25519 --enable-kdf --enable-hmac
  --enable-sha1 --enable-sha2 --enable-aes --enable-gmp --enable-updown --enable-counters
  --disable-scripts)
config_stamp=$(printf '%s\n' "${options[@]}" | sha256sum | cut -c1-16)
if [ ! -f "$tree/.ikeguard-configured-$config_stamp" ]; then
  step "configuring strongSwan"
  rm -f "$tree"/.ikeguard-configured-*
  (cd "$tree" && PKG_CONFIG_PATH="$prefix/lib/pkgconfig" LDFLAGS="-Wl,-rpath,$prefix/lib" \
    ./configure "${options[@]}") > "$work/configure.log" 2>&1 ||
    die "configuring strongSwan failed (see $work/configure.log)"
  touch "$tree/.ikeguard-configured-$config_stamp"
fi
step "building strongSwan (make -j$jobs)"
make -C "$tree" -j "$jobs" > "$work/make.log" 2>&1 || {
  grep -E 'error|Error' "$work/make.log" | head -n 20 >&2
  die "building strongSwan failed (see $work/make.log)"
}
make -C "$tree" install > "$work/install.log" 2>&1 || die "installing strongSwan failed (see $work/install.log)"

charon=$prefix/libexec/ipsec/charon
[ -x "$charon" ] || die "no charon at $charon after make install"
[ -x "$prefix/sbin/swanctl" ] || die "no swanctl at $prefix/sbin/swanctl after make install"
echo "$charon"
