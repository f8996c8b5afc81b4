/* SPDX-License-Identifier: MIT */
// The one declaration ikeguard.h needs from <string.h>, for layout_targets.c: compiled for
// targets whose C library is not installed here (-ffreestanding), only the layout is checked.
#ifndef IKEGUARD_TESTS_FREESTANDING_STRING_H
#define IKEGUARD_TESTS_FREESTANDING_STRING_H
#include <stddef.h>
void* memset(void* destination, int value, size_t size);
#endif
