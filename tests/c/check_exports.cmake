# cmake -DNM=<nm> -DLIBRARY=<libikeguard.so> -DHEADER=<ikeguard.h> -P check_exports.cmake
#
# The shared library exports the C API and the C++ API and nothing else: every defined
# dynamic symbol is an ikeguard_* C function or demangles into namespace ikeguard (its
# functions, statics, vtables, typeinfo). Every function ikeguard.h declares is exported.
cmake_minimum_required(VERSION 3.21)

foreach(_required NM LIBRARY HEADER)
  if(NOT ${_required})
    message(FATAL_ERROR "check_exports.cmake needs -D${_required}=...")
  endif()
endforeach()

# Both listings in symbol-table order, so line i of one is line i of the other.
foreach(_form raw demangled)
  set(_flags -D --defined-only --no-sort)
  if(_form STREQUAL "demangled")
    list(APPEND _flags -C)
  endif()
  execute_process(COMMAND "${NM}" ${_flags} "${LIBRARY}"
    OUTPUT_VARIABLE _out RESULT_VARIABLE _status ERROR_VARIABLE _err)
  if(NOT _status EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${LIBRARY}: ${_err}")
  endif()
  string(REPLACE ";" "\\;" _out "${_out}")
  string(REGEX REPLACE "\n$" "" _out "${_out}")
  string(REPLACE "\n" ";" _${_form} "${_out}")
endforeach()

list(LENGTH _raw _count)
list(LENGTH _demangled _count_demangled)
if(NOT _count EQUAL _count_demangled OR _count EQUAL 0)
  message(FATAL_ERROR "nm listed ${_count} symbols, and ${_count_demangled} demangled")
endif()

# "<address> <type> <name>"; an undefined-address column may be blank.
set(_line_pattern "^[0-9a-fA-F]* *[A-Za-z] (.+)$")
set(_cpp_prefixes "" "vtable for " "typeinfo for " "typeinfo name for " "VTT for "
  "construction vtable for " "non-virtual thunk to " "virtual thunk to " "guard variable for ")
set(_stray "")
set(_exported_c "")
math(EXPR _last "${_count} - 1")
foreach(_i RANGE ${_last})
  list(GET _raw ${_i} _raw_line)
  list(GET _demangled ${_i} _demangled_line)
  if(NOT _raw_line MATCHES "${_line_pattern}")
    message(FATAL_ERROR "cannot read nm line: ${_raw_line}")
  endif()
  set(_name "${CMAKE_MATCH_1}")
  if(NOT _demangled_line MATCHES "${_line_pattern}")
    message(FATAL_ERROR "cannot read nm line: ${_demangled_line}")
  endif()
  set(_readable "${CMAKE_MATCH_1}")

  if(_name MATCHES "^ikeguard_[a-z0-9_]+$")
    list(APPEND _exported_c "${_name}")
    continue()
  endif()
  set(_ours FALSE)
  foreach(_prefix IN LISTS _cpp_prefixes)
    string(LENGTH "${_prefix}ikeguard::" _length)
    string(SUBSTRING "${_readable}" 0 ${_length} _start)
    if(_start STREQUAL "${_prefix}ikeguard::")
      set(_ours TRUE)
      break()
    endif()
  endforeach()
  if(NOT _ours)
    list(APPEND _stray "${_name} (${_readable})")
  endif()
endforeach()

# Every function the C header declares.
file(READ "${HEADER}" _header)
string(REGEX MATCHALL "IKEGUARD_API[^;(]*[ *](ikeguard_[a-z0-9_]+)\\(" _declarations "${_header}")
set(_missing "")
set(_declared 0)
foreach(_declaration IN LISTS _declarations)
  string(REGEX MATCH "(ikeguard_[a-z0-9_]+)\\($" _ "${_declaration}")
  math(EXPR _declared "${_declared} + 1")
  if(NOT CMAKE_MATCH_1 IN_LIST _exported_c)
    list(APPEND _missing "${CMAKE_MATCH_1}")
  endif()
endforeach()

list(LENGTH _exported_c _c_count)
if(_stray OR _missing OR _declared EQUAL 0)
  string(REPLACE ";" "\n  " _stray "${_stray}")
  string(REPLACE ";" "\n  " _missing "${_missing}")
  message(FATAL_ERROR "${LIBRARY}:\n"
    "exported, but neither ikeguard_* nor in namespace ikeguard:\n  ${_stray}\n"
    "declared in ikeguard.h (${_declared} functions) but not exported:\n  ${_missing}")
endif()
message(STATUS "${_count} exported symbols: ${_c_count} C functions (all ${_declared} of "
  "ikeguard.h), the rest in namespace ikeguard")
