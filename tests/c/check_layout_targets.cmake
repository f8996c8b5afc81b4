# cmake -DCLANG=<clang> -DSOURCE=<layout_targets.c> -DINCLUDE=<include> -DSTUBS=<freestanding>
#       -P check_layout_targets.cmake
#
# Compiles SOURCE for each target below, with and without -fshort-enums: its static assertions
# hold the size and offsets of every ikeguard.h struct, which must not change with the ABI.
cmake_minimum_required(VERSION 3.21)

foreach(_required CLANG SOURCE INCLUDE STUBS)
  if(NOT ${_required})
    message(FATAL_ERROR "check_layout_targets.cmake needs -D${_required}=...")
  endif()
endforeach()

# ILP32 with 4-byte-aligned uint64_t and double (i386), ILP32 (armv7, big-endian mips, riscv32),
# LP64 (x86_64, aarch64, big-endian s390x).
set(_targets i386-linux-gnu armv7-linux-gnueabihf mips-linux-gnu riscv32-unknown-elf
  x86_64-linux-gnu aarch64-linux-gnu s390x-linux-gnu)
set(_failed "")
foreach(_target IN LISTS _targets)
  foreach(_enums "" "-fshort-enums")
    execute_process(
      COMMAND "${CLANG}" --target=${_target} -ffreestanding -std=c11 -Werror ${_enums}
        -I "${STUBS}" -I "${INCLUDE}" -fsyntax-only "${SOURCE}"
      RESULT_VARIABLE _status OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
    if(NOT _status EQUAL 0)
      list(APPEND _failed "${_target} ${_enums}:\n${_err}")
    endif()
  endforeach()
endforeach()
if(_failed)
  string(REPLACE ";" "\n" _failed "${_failed}")
  message(FATAL_ERROR "ikeguard.h's layout differs:\n${_failed}")
endif()
list(LENGTH _targets _count)
message(STATUS "one layout on ${_count} targets, with and without -fshort-enums")
