# Precompiled headers (KELVIN_PCH, ON by default): the third-party and standard headers that most
# translation units of a kind of target parse again and again, compiled once per kind. GCC accepts
# a PCH only with the same -fPIC/-fPIE and code-generation flags as the sources it serves, so
# there is one PCH per kind whose flags match, shared through REUSE_FROM:
#   tests     every GoogleTest executable (kelvin_add_test, kelvin_add_mpi_test): GoogleTest,
#             Eigen, fmt, spdlog, nlohmann-json; built by the executable kelvin_test_pch (-fPIE).
#   library   kelvin_runtime and kelvin_tools_cli (-fPIC): Eigen, fmt, spdlog; built by the object
#             library kelvin_library_pch.
#   python    kelvin_python alone (pybind11 adds -fvisibility=hidden): pybind11, Eigen, fmt.
# CMake adds -Winvalid-pch, so with KELVIN_WERROR a PCH that does not fit its users fails the
# build instead of being silently ignored.
#
# A PCH is force-included, so a source that forgets one of these #includes still compiles. The
# sanitizer stages of kelvin.sh build with KELVIN_PCH=OFF, which keeps the driver-side sources and
# tests honest; `cmake -DKELVIN_PCH=OFF` checks the rest.
#
# ccache caches PCH builds and their users only with CCACHE_SLOPPINESS=pch_defines,time_macros
# (plus include_file_mtime,include_file_ctime: the .gch is always newer than the compile that
# starts); kelvin.sh exports it.

set(KELVIN_PCH_STD_HEADERS
    <algorithm> <array> <chrono> <cmath> <cstdint> <cstdio> <functional> <map> <memory>
    <optional> <span> <stdexcept> <string> <string_view> <utility> <vector>)

# kelvin_test_precompiled_headers(<target>): <target> (a test executable) uses the tests' PCH.
function(kelvin_test_precompiled_headers target)
  if(NOT KELVIN_PCH)
    return()
  endif()
  if(NOT TARGET kelvin_test_pch)
    set(source ${CMAKE_BINARY_DIR}/kelvin_test_pch.cpp)
    if(NOT EXISTS ${source})
      file(WRITE ${source} "// Owner of the tests' precompiled header (cmake/KelvinPch.cmake).\n"
                           "int main() { return 0; }\n")
    endif()
    add_executable(kelvin_test_pch EXCLUDE_FROM_ALL ${source})
    target_link_libraries(kelvin_test_pch PRIVATE kelvin::testing Eigen3::Eigen fmt::fmt
                                                  spdlog::spdlog nlohmann_json::nlohmann_json)
    kelvin_target_settings(kelvin_test_pch)
    target_precompile_headers(kelvin_test_pch PRIVATE ${KELVIN_PCH_STD_HEADERS} <filesystem>
                              <fstream> <random> <thread> <Eigen/Dense> <fmt/format.h>
                              <spdlog/spdlog.h> <nlohmann/json.hpp> <gtest/gtest.h>)
  endif()
  target_precompile_headers(${target} REUSE_FROM kelvin_test_pch)
endfunction()

# kelvin_library_precompiled_headers(<target>): <target> (a static library above the driver, -fPIC)
# uses the libraries' PCH, built by the object library kelvin_library_pch. The owner has only the
# definitions every user has (fmt's and spdlog's): GCC rejects a PCH built with a macro its user
# lacks (kelvin_runtime's BOOST_ALL_NO_LIB, say), while a user's extra macros are fine as long as
# the PCH's headers do not read them.
function(kelvin_library_precompiled_headers target)
  if(NOT KELVIN_PCH)
    return()
  endif()
  if(NOT TARGET kelvin_library_pch)
    set(source ${CMAKE_BINARY_DIR}/kelvin_library_pch.cpp)
    if(NOT EXISTS ${source})
      file(WRITE ${source} "// Owner of the libraries' precompiled header (cmake/KelvinPch.cmake).\n")
    endif()
    add_library(kelvin_library_pch OBJECT EXCLUDE_FROM_ALL ${source})
    target_link_libraries(kelvin_library_pch PRIVATE Eigen3::Eigen fmt::fmt spdlog::spdlog)
    kelvin_target_settings(kelvin_library_pch)
    target_precompile_headers(kelvin_library_pch PRIVATE ${KELVIN_PCH_STD_HEADERS} <Eigen/Core>
                              <Eigen/Cholesky> <fmt/format.h> <spdlog/spdlog.h>)
  endif()
  target_precompile_headers(${target} REUSE_FROM kelvin_library_pch)
endfunction()
