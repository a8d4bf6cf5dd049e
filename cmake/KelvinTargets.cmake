# Shared compile settings for kelvin's own targets.
function(kelvin_target_settings target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion -Wnon-virtual-dtor)
  if(KELVIN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# A part's static library: kelvin_add_library(<name> ALIAS <kelvin::namespace> SOURCES ...).
# Its public headers are in include/ (kelvin/<namespace path>/), its private ones in src/; the
# alias spells the part's namespace, so that folder, library and namespace read the same.
function(kelvin_add_library name)
  cmake_parse_arguments(arg "" "ALIAS" "SOURCES" ${ARGN})
  add_library(${name} STATIC ${arg_SOURCES})
  add_library(${arg_ALIAS} ALIAS ${name})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  endif()
  kelvin_target_settings(${name})
endfunction()
