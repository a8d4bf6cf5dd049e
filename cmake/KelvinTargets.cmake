# Shared compile settings for kelvin's own targets.
function(kelvin_target_settings target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion -Wnon-virtual-dtor)
  if(KELVIN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
