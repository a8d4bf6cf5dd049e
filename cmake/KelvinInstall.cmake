# `cmake --install <build> [--prefix DIR]` (docs/install.md): the libraries and their include/
# trees (registered by kelvin_add_library, KelvinTargets.cmake), the programs, the udev rule, the
# CMake package (find_package(kelvin CONFIG): kelvin::runtime, kelvin::driver::backends, ...), its
# version file, the pkg-config file kelvin.pc and, when it is built, the Python package. Included
# at the end of the root CMakeLists.txt, after every part has made its targets. Every path is
# relative to the prefix, so an installed tree may be moved (the test installs into the build).
include(CMakePackageConfigHelpers)

set(KELVIN_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/kelvin
    CACHE STRING "Where the CMake package files go, relative to the prefix")
set(KELVIN_INSTALL_UDEVRULESDIR lib/udev/rules.d
    CACHE STRING "Where the udev rule 70-kelvin.rules goes, relative to the prefix")
set(KELVIN_INSTALL_PYTHONDIR lib/python3/dist-packages
    CACHE STRING "Where the Python package kelvin goes, relative to the prefix")

# The programs (driver-only builds have only kelvind).
foreach(tool kelvin kelvind)
  if(TARGET ${tool})
    install(TARGETS ${tool} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

# The udev rule that lets users open USB boards (docs/usb.md).
install(FILES ${PROJECT_SOURCE_DIR}/driver/udev/70-kelvin.rules
        DESTINATION ${KELVIN_INSTALL_UDEVRULESDIR})

# The third-party targets the installed libraries link, and how the package finds each (the
# arguments of find_dependency(), as the root CMakeLists.txt finds it) and its pkg-config module
# for kelvin.pc ("" when it has none to require). A target from pkg_check_modules(<X>
# IMPORTED_TARGET <module>), PkgConfig::<X>, needs no entry: the package runs the same call.
set(kelvin_dependency_table
    "Threads::Threads|Threads|"
    "protobuf::libprotobuf|Protobuf|protobuf"
    "Eigen3::Eigen|Eigen3 3.4 NO_MODULE|eigen3"
    "Boost::headers|Boost 1.74|"
    "spdlog::spdlog|spdlog|spdlog"
    "fmt::fmt|fmt|fmt"
    "CLI11::CLI11|CLI11|CLI11"
    "nlohmann_json::nlohmann_json|nlohmann_json 3.11|nlohmann_json")

get_property(kelvin_installed_libraries GLOBAL PROPERTY KELVIN_INSTALLED_LIBRARIES)
set(kelvin_find_dependencies "")
set(kelvin_pkg_config_modules "")
set(kelvin_pc_requires "")
foreach(lib IN LISTS kelvin_installed_libraries)
  get_target_property(items ${lib} LINK_LIBRARIES)
  get_target_property(interface_items ${lib} INTERFACE_LINK_LIBRARIES)
  set(kelvin_links_${lib} "")
  # A private link of a static library is in both, the second time as $<LINK_ONLY:...>.
  list(TRANSFORM interface_items REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1")
  list(APPEND items ${interface_items})
  list(REMOVE_DUPLICATES items)
  foreach(item IN LISTS items)
    if(item MATCHES "NOTFOUND$" OR item MATCHES "^\\$<BUILD_INTERFACE:")
      continue()
    endif()
    if(TARGET ${item})
      get_target_property(imported ${item} IMPORTED)
      if(NOT imported)  # one of kelvin's own libraries, maybe by its alias
        get_target_property(real ${item} ALIASED_TARGET)
        if(real)
          set(item ${real})
        endif()
        list(APPEND kelvin_links_${lib} ${item})
        continue()
      endif()
    endif()
    if(item MATCHES "^PkgConfig::(.+)$")
      set(prefix ${CMAKE_MATCH_1})
      list(APPEND kelvin_pkg_config_modules "${prefix}|${${prefix}_MODULE_NAME}")
      list(APPEND kelvin_pc_requires ${${prefix}_MODULE_NAME})
      continue()
    endif()
    set(known FALSE)
    foreach(row IN LISTS kelvin_dependency_table)
      string(REPLACE "|" ";" row "${row}")
      list(GET row 0 target)
      if(item STREQUAL target)
        list(GET row 1 find_arguments)
        list(GET row 2 module)
        list(APPEND kelvin_find_dependencies "${find_arguments}")
        if(module)
          list(APPEND kelvin_pc_requires ${module})
        endif()
        set(known TRUE)
      endif()
    endforeach()
    if(NOT known)
      message(WARNING "kelvin's CMake package does not know how to find ${item} (linked by "
                      "${lib}): add it to kelvin_dependency_table in ${CMAKE_CURRENT_LIST_FILE}")
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES kelvin_find_dependencies)
list(REMOVE_DUPLICATES kelvin_pkg_config_modules)
list(REMOVE_DUPLICATES kelvin_pc_requires)

# kelvinConfig.cmake's dependency block: find_dependency() for each package, then one
# pkg_check_modules() for each PkgConfig:: target.
set(KELVIN_CONFIG_DEPENDENCIES "")
foreach(arguments IN LISTS kelvin_find_dependencies)
  string(APPEND KELVIN_CONFIG_DEPENDENCIES "find_dependency(${arguments})\n")
endforeach()
if(kelvin_pkg_config_modules)
  string(APPEND KELVIN_CONFIG_DEPENDENCIES "find_dependency(PkgConfig)\n")
endif()
foreach(row IN LISTS kelvin_pkg_config_modules)
  string(REPLACE "|" ";" row "${row}")
  list(GET row 0 prefix)
  list(GET row 1 module)
  string(APPEND KELVIN_CONFIG_DEPENDENCIES "kelvin_pkg_config_dependency(${prefix} ${module})\n")
endforeach()

# The CMake package: kelvinTargets.cmake (the imported targets), kelvinConfig.cmake (finds the
# third-party packages they link first) and kelvinConfigVersion.cmake.
install(EXPORT kelvinTargets NAMESPACE kelvin:: DESTINATION ${KELVIN_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/kelvinConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/package/kelvinConfig.cmake
                              INSTALL_DESTINATION ${KELVIN_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/kelvinConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/kelvinConfig.cmake
              ${PROJECT_BINARY_DIR}/package/kelvinConfigVersion.cmake
        DESTINATION ${KELVIN_INSTALL_CMAKEDIR})

# kelvin.pc. Static libraries: each must come before the ones it links, so the installed ones are
# sorted (Kahn) by their links to each other. prefix is found from the .pc file's own place, so
# the file stays right wherever the tree is installed or moved.
set(kelvin_remaining ${kelvin_installed_libraries})
set(kelvin_link_order "")
while(kelvin_remaining)
  set(progress FALSE)
  foreach(lib IN LISTS kelvin_remaining)
    set(ready TRUE)
    foreach(dependency IN LISTS kelvin_links_${lib})
      if(dependency IN_LIST kelvin_installed_libraries AND NOT dependency IN_LIST kelvin_link_order)
        set(ready FALSE)
      endif()
    endforeach()
    if(ready)
      list(APPEND kelvin_link_order ${lib})
      list(REMOVE_ITEM kelvin_remaining ${lib})
      set(progress TRUE)
    endif()
  endforeach()
  if(NOT progress)
    message(FATAL_ERROR "kelvin's libraries link each other in a cycle: ${kelvin_remaining}")
  endif()
endwhile()
list(REVERSE kelvin_link_order)
list(TRANSFORM kelvin_link_order PREPEND "-l")
list(JOIN kelvin_link_order " " KELVIN_PC_LIBS)
list(JOIN kelvin_pc_requires " " KELVIN_PC_REQUIRES)
set(kelvin_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH KELVIN_PC_PREFIX /root/${kelvin_pc_dir} /root)
string(REGEX REPLACE "/$" "" KELVIN_PC_PREFIX ${KELVIN_PC_PREFIX})
set(KELVIN_PC_CFLAGS "")
if(NOT RANDOM123_INCLUDE_DIR IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
  set(KELVIN_PC_CFLAGS " -I${RANDOM123_INCLUDE_DIR}")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/kelvin.pc.in ${PROJECT_BINARY_DIR}/package/kelvin.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/kelvin.pc DESTINATION ${kelvin_pc_dir})

# The Python package (docs/python.md), when built: PYTHONPATH=<prefix>/lib/python3/dist-packages
# (a /usr prefix puts it where Debian's python3 looks).
if(TARGET kelvin_python)
  install(TARGETS kelvin_python LIBRARY DESTINATION ${KELVIN_INSTALL_PYTHONDIR}/kelvin)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/python/kelvin/
          DESTINATION ${KELVIN_INSTALL_PYTHONDIR}/kelvin FILES_MATCHING PATTERN "*.py"
          PATTERN "__pycache__" EXCLUDE)
endif()
