# Warnings for landfall's own targets: landfall_warnings(<target>).
function(landfall_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()
