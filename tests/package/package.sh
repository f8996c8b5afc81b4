#!/usr/bin/env bash
# The Debian packages, one step per ctest test (tests/package/CMakeLists.txt chains them):
#
#   package.sh build SOURCE BUILD DEBS GENERATOR MAKE_PROGRAM CXX CPACK
#       configure SOURCE into BUILD as Debian builds a library (/usr, shared, Release, no tests
#       or examples), build it and run cpack -G DEB into DEBS
#   package.sh check DEBS BUILD VERSION MULTIARCH
#       the two .deb files: names, control fields, contents, and that together they hold every
#       file a plain install puts down
#   package.sh install DEBS ROOT
#       dpkg installs them into ROOT, a fresh dpkg root, leaving the machine's own database alone
#   package.sh pkg_config ROOT MULTIARCH CXX CC CONSUMER_SOURCES OUT
#       the C++ and C consumers built with pkg-config against ROOT, and run
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# field DEB NAME: one control field of a .deb.
field() {
  dpkg-deb --field "$1" "$2"
}

expect_field() {
  local deb=$1 name=$2 expected=$3 actual
  actual=$(field "$deb" "$name")
  [ "$actual" = "$expected" ] || fail "$(basename "$deb") $name is '$actual', expected '$expected'"
  echo "ok   $(basename "$deb") $name: $actual"
}

# expect_depends DEB PACKAGE...: each PACKAGE is named in Depends (any version).
expect_depends() {
  local deb=$1 depends package
  shift
  depends=$(field "$deb" Depends)
  for package in "$@"; do
    # Split into names, one a line.
    sed 's/ *([^)]*)//g; s/, */\n/g' <<<"$depends" | grep -Fxq "$package" \
      || fail "$(basename "$deb") Depends '$depends' does not name $package"
  done
  echo "ok   $(basename "$deb") Depends: $depends"
}

# contents DEB: the paths a .deb installs, files and links only, as /usr/...
contents() {
  dpkg-deb --fsys-tarfile "$1" | tar -t | sed -n 's|^\./|/|; /\/$/!p' | sort
}

# expect_paths DEB yes|no PATH...: each PATH is (or is not) in the package.
expect_paths() {
  local deb=$1 want=$2 path list
  shift 2
  list=$(contents "$deb")
  for path in "$@"; do
    if grep -Fxq "$path" <<<"$list"; then
      [ "$want" = yes ] || fail "$(basename "$deb") must not hold $path"
    else
      [ "$want" = no ] || fail "$(basename "$deb") lacks $path"
    fi
  done
}

step_build() {
  local source=$1 build=$2 debs=$3 generator=$4 make_program=$5 cxx=$6 cpack=$7
  cmake -S "$source" -B "$build" -G "$generator" -DCMAKE_MAKE_PROGRAM="$make_program" \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DCMAKE_INSTALL_PREFIX=/usr -DIKEGUARD_BUILD_TESTS=OFF -DIKEGUARD_BUILD_EXAMPLES=OFF
  cmake --build "$build"
  rm -rf "$debs"
  (cd "$build" && "$cpack" -G DEB -B "$debs")
}

step_check() {
  local debs=$1 build=$2 version=$3 multiarch=$4 arch runtime dev libdir deb
  arch=$(dpkg --print-architecture)
  runtime="$debs/libikeguard_${version}-1_${arch}.deb"
  dev="$debs/libikeguard-dev_${version}-1_${arch}.deb"
  [ -f "$runtime" ] || fail "no $(basename "$runtime") in $debs: $(ls "$debs")"
  [ -f "$dev" ] || fail "no $(basename "$dev") in $debs: $(ls "$debs")"
  local all=("$debs"/*.deb)
  [ "${#all[@]}" = 2 ] || fail "expected two packages: ${all[*]}"

  for deb in "$runtime" "$dev"; do
    expect_field "$deb" Version "${version}-1"
    expect_field "$deb" Architecture "$arch"
    expect_field "$deb" Priority optional
    grep -Eq '^.+ <[^ ]+@[^ ]+>$' <<<"$(field "$deb" Maintainer)" \
      || fail "$(basename "$deb") Maintainer is not 'Name <address>'"
    # A synopsis line, then an extended description.
    [ "$(field "$deb" Description | wc -l)" -ge 2 ] \
      || fail "$(basename "$deb") has no extended description"
  done
  expect_field "$runtime" Package libikeguard
  expect_field "$runtime" Section libs
  expect_depends "$runtime" libc6 libstdc++6 libsodium23
  expect_field "$dev" Package libikeguard-dev
  expect_field "$dev" Section libdevel
  expect_depends "$dev" libsodium-dev
  grep -Fq "libikeguard (= ${version}-1)" <<<"$(field "$dev" Depends)" \
    || fail "libikeguard-dev does not depend on libikeguard (= ${version}-1)"
  # The soname's version: the major one, or major.minor while the major is 0 (each 0.x release
  # may change the ABI). Packages built against libikeguard.so.N get their Depends from this.
  local major=${version%%.*} minor soversion
  minor=${version#*.}
  minor=${minor%%.*}
  soversion=$major
  [ "$major" = 0 ] && soversion="0.$minor"
  dpkg-deb --info "$runtime" shlibs | grep -F "libikeguard $soversion libikeguard " >/dev/null \
    || fail "libikeguard has no shlibs entry for libikeguard.so.$soversion"

  libdir="/usr/lib/$multiarch"
  expect_paths "$runtime" yes "$libdir/libikeguard.so.$soversion" \
    "$libdir/libikeguard.so.$version" /usr/share/doc/libikeguard/copyright
  expect_paths "$runtime" no "$libdir/libikeguard.so" /usr/include/ikeguard/ikeguard.hpp
  expect_paths "$dev" yes "$libdir/libikeguard.so" /usr/include/ikeguard/ikeguard.hpp \
    /usr/include/ikeguard/ikeguard.h "$libdir/cmake/ikeguard/ikeguardConfig.cmake" \
    "$libdir/cmake/ikeguard/ikeguardConfigVersion.cmake" \
    "$libdir/cmake/ikeguard/ikeguardTargets.cmake" "$libdir/pkgconfig/ikeguard.pc" \
    /usr/share/doc/libikeguard-dev/copyright
  expect_paths "$dev" no "$libdir/libikeguard.so.$soversion" "$libdir/libikeguard.so.$version"
  echo "ok   both packages hold what they should, under $libdir"

  # Every file of a plain install is in exactly one package (an install rule without a
  # component would be in none). Doc directories differ by design: Debian names them after
  # each package.
  local stage="$build/plain-install" installed packaged
  rm -rf "$stage"
  DESTDIR="$stage" cmake --install "$build" >/dev/null
  installed=$(cd "$stage" && find . ! -type d | sed 's|^\./|/|' | grep -v '^/usr/share/doc/' | sort)
  packaged=$( (contents "$runtime"; contents "$dev") | grep -v '^/usr/share/doc/' | sort)
  [ "$installed" = "$packaged" ] \
    || fail "a plain install and the packages differ:$(diff <(echo "$installed") <(echo "$packaged"))"
  [ -z "$(sort <(contents "$runtime") <(contents "$dev") | uniq -d)" ] \
    || fail "both packages hold: $(sort <(contents "$runtime") <(contents "$dev") | uniq -d)"
  echo "ok   every installed file is in exactly one package"
}

step_install() {
  local debs=$1 root=$2 admin package
  rm -rf "$root"
  # An empty dpkg database: what debootstrap starts from.
  admin="$root/var/lib/dpkg"
  mkdir -p "$admin/info" "$admin/updates" "$admin/triggers" "$root/var/log" "$root/stub"
  : >"$admin/status"
  : >"$admin/available"
  # CPack's postinst runs ldconfig. dpkg --root runs maintainer scripts chrooted into the
  # root, which needs root and a shell inside it; here they run outside it
  # (--force-script-chrootless), where this ldconfig of the fresh root records the call
  # instead of rebuilding the machine's cache.
  # shellcheck disable=SC2016 # expanded by the stub, not here
  printf '#!/bin/sh\necho "ldconfig $*" >>"$DPKG_ROOT/ldconfig.calls"\n' >"$root/stub/ldconfig"
  chmod +x "$root/stub/ldconfig"
  # --log: dpkg.cfg's log is the machine's; the fresh root keeps its own. --force-depends: the
  # fresh root has no libc6, libsodium23 ... (they are this machine's, used by the consumers).
  # --force-not-root: as a user dpkg installs the files as that user's.
  PATH="$root/stub:$PATH:/usr/sbin:/sbin" dpkg --root="$root" --log="$root/var/log/dpkg.log" \
    --force-not-root --force-depends --force-script-chrootless --install "$debs"/*.deb
  for package in libikeguard libikeguard-dev; do
    [ "$(dpkg-query --admindir="$admin" --showformat='${Status}' --show "$package")" \
      = "install ok installed" ] || fail "$package is not installed in $root"
  done
  grep -qx 'ldconfig ' "$root/ldconfig.calls" || fail "libikeguard's postinst ran no ldconfig"
  echo "ok   libikeguard and libikeguard-dev installed in $root (dpkg --root)"
}

step_pkg_config() {
  local root=$1 multiarch=$2 cxx=$3 cc=$4 sources=$5 out=$6 libdir prefix program
  libdir="$root/usr/lib/$multiarch"
  export PKG_CONFIG_PATH="$libdir/pkgconfig"
  # The .pc file is relocatable: its prefix is found from where it is installed.
  prefix=$(pkg-config --variable=prefix ikeguard)
  [ "$(cd "$prefix" && pwd -P)" = "$(cd "$root/usr" && pwd -P)" ] \
    || fail "pkg-config finds ikeguard at $prefix, not in $root/usr"
  mkdir -p "$out"
  # shellcheck disable=SC2046 # pkg-config's flags are words
  # The .pc names no fmt; the program's formatting takes fmt header-only.
  "$cxx" -std=c++17 -DFMT_HEADER_ONLY "$sources/contract_consumer.cpp" -o "$out/contract_consumer" \
    $(pkg-config --cflags --libs ikeguard) -Wl,-rpath,"$libdir"
  # shellcheck disable=SC2046
  "$cc" -std=c99 -Wall -Wextra -Wpedantic -Werror "$sources/c_consumer.c" -o "$out/c_consumer" \
    $(pkg-config --cflags --libs ikeguard) -Wl,-rpath,"$libdir"
  for program in contract_consumer c_consumer; do
    ldd "$out/$program" | grep -F "$libdir/libikeguard.so" >/dev/null \
      || fail "$program does not load the installed libikeguard: $(ldd "$out/$program")"
    "$out/$program"
  done
}

step=$1
shift
"step_$step" "$@"
