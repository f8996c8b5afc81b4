// SPDX-License-Identifier: MIT
// The guard, its table, counters and libsodium use, compiled once (without
// IKEGUARD_HEADER_ONLY, guard.hpp declares them only). sodium.h is included here, never by a
// daemon's headers.
#include <ikeguard/guard-inl.hpp>
#include <ikeguard/notify-inl.hpp>
