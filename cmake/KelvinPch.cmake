# Precompiled headers (KELVIN_PCH, ON by default): the third-party and standard headers that the
# translation units of the libraries above the driver parse again and again, compiled once. GCC
# accepts a PCH only with the same -fPIC/-fPIE and code-generation flags as the sources it serves,
# so there is one PCH per kind of target whose flags match:
#   library   kelvin_runtime and kelvin_tools_cli (-fPIC): Eigen, fmt, spdlog; built by the object
#             library kelvin_library_pch and shared through REUSE_FROM.
#   python    kelvin_python alone (pybind11 adds -fvisibility=hidden): pybind11, Eigen, fmt.
# Measured (compile CPU without ccache, same files with and without): -11 % on runtime sources,
# -19 % on the CLI's, -12 % on the Python bindings'. The GoogleTest executables have none: a PCH
# with GoogleTest, Eigen, fmt, spdlog and nlohmann-json (a 200 MB .gch) made the light tests about
# 1 s slower each and the heavy ones, whose time is Eigen's template instantiation and code
# generation rather than parsing, barely faster (-7 % over a sample of 13 test files, in total).
# CMake adds -Winvalid-pch, so with KELVIN_WERROR a PCH that does not fit its users fails the
# build instead of being silently ignored.
#
# A PCH is force-included, so a source of these libraries that forgets one of its #includes still
# compiles; `cmake -DKELVIN_PCH=OFF` builds without them and catches that.
#
# ccache caches PCH builds and their users only with CCACHE_SLOPPINESS=pch_defines,time_macros
# (plus include_file_mtime,include_file_ctime: the .gch is always newer than the compile that
# starts); kelvin.sh exports it. CMake includes the PCH with -include and its full path, which is
# what ccache's direct mode needs (no -fpch-preprocess).

set(KELVIN_PCH_STD_HEADERS
    <algorithm> <array> <chrono> <cmath> <cstdint> <cstdio> <functional> <map> <memory>
    <optional> <span> <stdexcept> <string> <string_view> <utility> <vector>)

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
