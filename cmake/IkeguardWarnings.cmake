# Strict warnings, and optional sanitizers, for ikeguard's own targets only: a daemon that
# adds ikeguard as a subdirectory keeps its own flags.
function(ikeguard_strict_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Wshadow
      -Wsign-conversion -Wold-style-cast -Wnon-virtual-dtor)
    if(IKEGUARD_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  if(IKEGUARD_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${IKEGUARD_SANITIZE} -fno-omit-frame-pointer
      -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${IKEGUARD_SANITIZE})
  endif()
endfunction()
