# Warning set shared by every target (DESIGN.md "Tests"): applied through
# mw_set_warnings(target) so third-party peers in bench/ are not affected.
set(MW_WARNING_FLAGS -Wall -Wextra -Wconversion -Wsign-conversion -Wshadow
    -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wpointer-arith -Wcast-qual
    -Wformat=2 -Wundef)
if(MW_ENABLE_WERROR)
  list(APPEND MW_WARNING_FLAGS -Werror)
endif()

function(mw_set_warnings target)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE ${MW_WARNING_FLAGS})
  endif()
endfunction()
