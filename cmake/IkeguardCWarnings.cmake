# ikeguard_strict_warnings() for the project's C programs (the C API tests and example): C99
# without extensions, the same warnings where C has them, -Werror and sanitizers alike.
# Include it after enable_language(C); the library itself needs no C compiler.
function(ikeguard_strict_c_warnings target)
  set_target_properties(${target} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Wshadow
      -Wsign-conversion -Wstrict-prototypes -Wmissing-prototypes)
    if(IKEGUARD_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
  if(IKEGUARD_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${IKEGUARD_SANITIZE}
      -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${IKEGUARD_SANITIZE})
  endif()
endfunction()
