/* SPDX-License-Identifier: MIT */
// ikeguard.h's structs have one layout on every ABI: check_layout_targets.cmake compiles this
// file (C11, for _Static_assert; nothing is linked or run) for 32- and 64-bit, little- and
// big-endian targets, each with and without -fshort-enums. The list is the library's own
// (src/c_api_layout.h).
#define IKEGUARD_LAYOUT(condition) _Static_assert(condition, #condition)
#include "../../src/c_api_layout.h"
