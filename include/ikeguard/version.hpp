// ikeguard: stop IKE renegotiations that retrying cannot fix.
// SPDX-License-Identifier: MIT
#pragma once

// The one place the version lives; CMake reads these three lines before project().
#define IKEGUARD_VERSION_MAJOR 0
#define IKEGUARD_VERSION_MINOR 3
#define IKEGUARD_VERSION_PATCH 0

/// MAJOR * 10000 + MINOR * 100 + PATCH, for preprocessor comparisons.
#define IKEGUARD_VERSION \
  (IKEGUARD_VERSION_MAJOR * 10000 + IKEGUARD_VERSION_MINOR * 100 + IKEGUARD_VERSION_PATCH)
