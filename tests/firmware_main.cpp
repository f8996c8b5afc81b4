// SPDX-License-Identifier: MIT
// The firmware suite's main. The suite is the guard's, table's, clocks' and policy's test cases,
// compiled again, with the guard itself, the way firmware builds them: -fno-exceptions -fno-rtti,
// Catch2 with CATCH_CONFIG_DISABLE_EXCEPTIONS. Errors there are values (NegotiationGuard::create).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <ikeguard/export.hpp>

static_assert(IKEGUARD_HAS_EXCEPTIONS == 0, "the firmware suite must be built with -fno-exceptions");
#if defined(__cpp_rtti) || defined(__GXX_RTTI)
#  error "the firmware suite must be built with -fno-rtti"
#endif
#if !defined(CATCH_CONFIG_DISABLE_EXCEPTIONS)
#  error "the firmware suite must define CATCH_CONFIG_DISABLE_EXCEPTIONS"
#endif
