// SPDX-License-Identifier: MIT
// In the compiled build, libsodium stays inside the library: a daemon that includes every
// public header does not see sodium.h. Compiles, or fails the build.
#include <ikeguard/format.hpp>
#include <ikeguard/ikeguard.h>
#include <ikeguard/ikeguard.hpp>
#include <ikeguard/json_sink.hpp>
#include <ikeguard/prometheus.hpp>

#if defined(SODIUM_VERSION_STRING) || defined(sodium_H)
#error "sodium.h reached a daemon's headers"
#endif
#ifdef IKEGUARD_HEADER_ONLY
#error "this check is of the compiled build"
#endif

int main() { return 0; }
