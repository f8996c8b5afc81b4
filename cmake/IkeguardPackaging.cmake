# Debian packages of ikeguard through CPack. In a build configured with
#   -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_SHARED_LIBS=ON -DCMAKE_BUILD_TYPE=Release
# `cpack -G DEB` makes two packages from the install components:
#   libikeguard      component `runtime`:     the shared library (libikeguard.so.N, .so.N.M.P)
#   libikeguard-dev  component `development`: headers, the libikeguard.so link, the static
#                    library of a static build, the CMake package and the pkg-config file
# Each package carries LICENSE as usr/share/doc/<package>/copyright, as Debian policy 12.5 asks.
# The install rules of CMakeLists.txt name these components; any file a plain install puts
# down must be in one of the two packages (tests/package checks it).
include_guard(GLOBAL)

# A project that builds ikeguard inside its own tree owns its packaging.
if(NOT PROJECT_IS_TOP_LEVEL)
  return()
endif()

# Only a /usr prefix gives GNUInstallDirs' multiarch libdir (lib/<triplet>), where Debian puts
# libraries; the packages themselves always install under /usr.
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "ikeguard: for Debian packages configure with -DCMAKE_INSTALL_PREFIX=/usr "
    "(libdir is now ${CMAKE_INSTALL_LIBDIR})")
endif()

set(IKEGUARD_DEB_MAINTAINER "The ikeguard authors <maintainers@ikeguard.invalid>" CACHE STRING
  "Maintainer field of ikeguard's Debian packages: Name <address>")
set(IKEGUARD_DEB_RELEASE "1" CACHE STRING
  "Debian revision of ikeguard's packages: their version is <project version>-<revision>")

# Debian's doc directory is named after each package, so these are installed only when a
# component is asked for (cpack, or cmake --install --component): a plain install keeps
# ${CMAKE_INSTALL_DOCDIR}.
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/libikeguard
  RENAME copyright COMPONENT runtime EXCLUDE_FROM_ALL)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/libikeguard-dev
  RENAME copyright COMPONENT development EXCLUDE_FROM_ALL)

set(CPACK_PACKAGE_NAME ikeguard)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
# Debian ships stripped binaries (debug information goes to separate -dbgsym packages).
set(CPACK_STRIP_FILES ON)

# One package per component; the rest of the install (ikeguard's own doc directory) stays out.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development)

set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${IKEGUARD_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_RELEASE "${IKEGUARD_DEB_RELEASE}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(_ikeguard_deb_version "${PROJECT_VERSION}-${IKEGUARD_DEB_RELEASE}")

# Debian's synopsis line is the project's DESCRIPTION; these are the extended descriptions.
set(_ikeguard_deb_about "ikeguard is linked into IKE daemons (strongSwan, libreswan, firmware).
When a negotiation fails for a reason that retrying cannot fix, both ends stop
renegotiating with that peer for a while instead of spending packets, memory
and Diffie-Hellman computations on attempts that must fail.")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libikeguard)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "${_ikeguard_deb_about}
This package holds the shared library.")
# A shlibs file lets packages built against this one depend on it at the right version.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# dpkg-shlibdeps (dpkg-dev) and file compute the runtime package's Depends from what the library
# links (libc6, libstdc++6, libgcc-s1, libsodium23 ...). Without them, Debian 12's names.
find_program(IKEGUARD_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(IKEGUARD_FILE file)
if(IKEGUARD_DPKG_SHLIBDEPS AND IKEGUARD_FILE)
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS
    "libc6 (>= 2.36), libgcc-s1 (>= 3.0), libstdc++6 (>= 12), libsodium23 (>= 1.0.18)")
endif()

set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libikeguard-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION "${_ikeguard_deb_about}
This package holds the C and C++ headers, the CMake package (find_package
ikeguard) and the pkg-config file.")
# The library of the same build; libsodium-dev for the header-only mode, a static link and the
# .pc file's Requires.private; fmt for <ikeguard/format.hpp>; pkg-config because the CMake
# package finds libsodium with it (Debian's libsodium has no CMake package).
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
  "libikeguard (= ${_ikeguard_deb_version}), libsodium-dev (>= 1.0.18), libfmt-dev (>= 9.1), pkg-config")

include(CPack)
