# No source file over 450 lines: small files with one job each. Checked: C++ sources and
# headers, Python files, .proto files and CMake files of every part, the tests and the bench
# (generated code and the fuzz corpora are not in these folders). Run as:
#   cmake -DROOT=<source dir> -P check_file_sizes.cmake
cmake_minimum_required(VERSION 3.25)
set(limit 450)
set(problems "")
set(checked 0)
foreach(part common firmware-protocol sim-backend driver runtime tools python tests bench cmake)
  file(GLOB_RECURSE sources "${ROOT}/${part}/*.cpp" "${ROOT}/${part}/*.hpp" "${ROOT}/${part}/*.h"
       "${ROOT}/${part}/*.py"
       "${ROOT}/${part}/*.proto" "${ROOT}/${part}/*.cmake" "${ROOT}/${part}/CMakeLists.txt")
  foreach(path ${sources})
    file(STRINGS "${path}" lines)
    list(LENGTH lines count)
    math(EXPR checked "${checked} + 1")
    if(count GREATER limit)
      file(RELATIVE_PATH name "${ROOT}" "${path}")
      list(APPEND problems "${name}: ${count} lines")
    endif()
  endforeach()
endforeach()
include(${CMAKE_CURRENT_LIST_DIR}/report.cmake)
kelvin_check_report(problems "files over ${limit} lines (split them by job)" ${checked}
                    "${checked} files, none over ${limit} lines")
