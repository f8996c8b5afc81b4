# Strict warnings, and optional sanitizers, for ikeguard's own targets only: a daemon that
# adds ikeguard as a subdirectory keeps its own flags.
string(FIND "${IKEGUARD_SANITIZE}" "undefined" _ikeguard_ubsan_at)
if(_ikeguard_ubsan_at GREATER -1)
  set(_ikeguard_ubsan ON)
else()
  set(_ikeguard_ubsan OFF)
endif()

# Flags a program linking a sanitized ikeguard must be built with too (the consumer tests).
if(IKEGUARD_SANITIZE)
  set(IKEGUARD_SANITIZE_FLAGS "-fsanitize=${IKEGUARD_SANITIZE}")
else()
  set(IKEGUARD_SANITIZE_FLAGS "")
endif()

function(ikeguard_strict_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Wshadow
      -Wsign-conversion -Wold-style-cast -Wnon-virtual-dtor)
    if(IKEGUARD_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  if(IKEGUARD_SANITIZE)
    # vptr checks need RTTI, which firmware builds (and our no-RTTI test) leave out.
    target_compile_options(${target} PRIVATE -fsanitize=${IKEGUARD_SANITIZE} -fno-omit-frame-pointer
      -fno-sanitize-recover=all $<$<BOOL:${_ikeguard_ubsan}>:-fno-sanitize=vptr>)
    target_link_options(${target} PRIVATE -fsanitize=${IKEGUARD_SANITIZE})
  endif()
endfunction()
