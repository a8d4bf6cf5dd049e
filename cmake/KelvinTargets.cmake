include(GNUInstallDirs)

# Shared compile settings for kelvin's own targets.
function(kelvin_target_settings target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion -Wnon-virtual-dtor)
  if(KELVIN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# A part's static library: kelvin_add_library(<name> ALIAS <kelvin::namespace> [NO_INSTALL]
# SOURCES ...). Its public headers are in include/ (kelvin/<namespace path>/), its private ones in
# src/; the alias spells the part's namespace, so that folder, library and namespace read the same.
#
# `cmake --install` installs the library (lib/), its include/ tree (include/) and exports it in
# kelvin's CMake package as the alias (find_package(kelvin) gives kelvin::driver::backends, ...;
# cmake/KelvinInstall.cmake, docs/install.md). NO_INSTALL keeps a library out of the install and
# the package: test-only code (an emulated USB bus, ...). An installed library may link a
# NO_INSTALL one only through $<BUILD_INTERFACE:...>. The package finds the third-party targets
# the libraries link by itself: PkgConfig::<X> targets (pkg_check_modules) as they were found, the
# others from kelvin_dependency_table in KelvinInstall.cmake (configure warns about one it lacks).
function(kelvin_add_library name)
  cmake_parse_arguments(arg "NO_INSTALL" "ALIAS" "SOURCES" ${ARGN})
  add_library(${name} STATIC ${arg_SOURCES})
  add_library(${arg_ALIAS} ALIAS ${name})
  target_include_directories(${name} PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
                                            $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  endif()
  kelvin_target_settings(${name})
  if(arg_NO_INSTALL)
    return()
  endif()
  # Exported as kelvin::<the alias's namespace path>.
  string(REGEX REPLACE "^kelvin::" "" export_name ${arg_ALIAS})
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${export_name})
  install(TARGETS ${name} EXPORT kelvinTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/include)
    install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
  # In creation order, for the link line of kelvin.pc (KelvinInstall.cmake).
  set_property(GLOBAL APPEND PROPERTY KELVIN_INSTALLED_LIBRARIES ${name})
endfunction()

# Headers generated into <dir> (e.g. protoc's wire.pb.h) that a library's public headers include:
# on the include path while building and installed next to the include/ trees.
function(kelvin_generated_headers target dir)
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${dir}>)
  install(DIRECTORY ${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h"
                                                                                   PATTERN "*.hpp")
endfunction()
