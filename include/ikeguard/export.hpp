// SPDX-License-Identifier: MIT
#pragma once

// The library is built with hidden visibility; IKEGUARD_API marks what it exports.
#if defined(_WIN32)
#  define IKEGUARD_API
#elif defined(__GNUC__) || defined(__clang__)
#  define IKEGUARD_API __attribute__((visibility("default")))
#else
#  define IKEGUARD_API
#endif

// Exceptions are a convenience on top of error values, never the only way ({fmt}'s detection).
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#  define IKEGUARD_HAS_EXCEPTIONS 1
#else
#  define IKEGUARD_HAS_EXCEPTIONS 0
#endif

// Header-only use (spdlog's seam): with IKEGUARD_HEADER_ONLY defined, every header includes the
// bodies of its -inl.hpp companion, which are then inline; otherwise the library compiles them
// once and the headers carry declarations only.
#if defined(IKEGUARD_HEADER_ONLY)
#  define IKEGUARD_INLINE inline
#else
#  define IKEGUARD_INLINE
#endif

// What a hot path must not pay a call for, whatever the optimiser's budget says.
#if defined(__GNUC__) || defined(__clang__)
#  define IKEGUARD_ALWAYS_INLINE inline __attribute__((always_inline))
#  define IKEGUARD_ALWAYS_INLINE_LAMBDA __attribute__((always_inline))
#else
#  define IKEGUARD_ALWAYS_INLINE inline
#  define IKEGUARD_ALWAYS_INLINE_LAMBDA
#endif
