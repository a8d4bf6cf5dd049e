# Fails if a part includes a header of a part above it (or beside it, where the layers do not
# allow it). The layers, bottom up (docs/architecture.md draws them):
#   common <- firmware_protocol <- sim_backend (<- sim_backend/usb)
#                               <- driver (<- driver/usb) <- driver/backends (also uses sim_backend)
#                                         <- runtime <- tools/cli (also uses tools/matrix_io)
#                                         <- runtime <- runtime/mpi (MPI) <- tools/kelvin_mpi
#   tools/kelvind uses driver and driver/backends; tools/matrix_io and tools/run_file (HDF5 run
#   files, used by tools/cli and python) use common only.
#   tools/conformance (the protocol conformance suite) uses driver and driver/backends;
#   tools/cli uses it too.
#   python (the Python module) sits on top: runtime, driver/backends and tools/cli's JSON writer.
# sim-backend never includes a driver header: the emulated boards speak the wire only.
# Run as: cmake -DROOT=<source dir> -P check_layers.cmake
cmake_minimum_required(VERSION 3.25)

# Which part a source file belongs to, from its folder (most specific first).
set(folders "common/" "firmware-protocol/" "sim-backend/usb/" "sim-backend/" "driver/usb/"
            "driver/backends/" "driver/" "runtime/mpi/" "runtime/" "tools/matrix_io/" "tools/run_file/"
            "tools/kelvind/" "tools/conformance/" "tools/kelvin_mpi/" "tools/cli/" "python/")
set(folder_parts common firmware_protocol sim_backend_usb sim_backend driver_usb driver_backends
                 driver runtime_mpi runtime matrix_io run_file kelvind conformance kelvin_mpi cli python)
# Which part a header belongs to, from its include path (most specific first).
set(prefixes "kelvin/common/" "kelvin/firmware_protocol/" "kelvin/sim_backend/usb/"
             "kelvin/sim_backend/" "kelvin/driver/usb/" "kelvin/driver/backends/"
             "kelvin/driver/" "kelvin/runtime/mpi/" "kelvin/runtime/" "kelvin/tools/matrix_io/"
             "kelvin/tools/run_file/" "kelvin/tools/kelvind/" "kelvin/tools/conformance/"
             "kelvin/tools/kelvin_mpi/" "kelvin/tools/cli/"
             "kelvin/python/")
set(prefix_parts ${folder_parts})

# What each part may include.
set(allowed_common common)
set(allowed_firmware_protocol common firmware_protocol)
set(allowed_sim_backend common firmware_protocol sim_backend)
set(allowed_sim_backend_usb common firmware_protocol sim_backend sim_backend_usb)
set(allowed_driver common firmware_protocol driver)
set(allowed_driver_usb common firmware_protocol driver driver_usb)
set(allowed_driver_backends common firmware_protocol sim_backend driver driver_usb driver_backends)
set(allowed_runtime common firmware_protocol driver runtime)
set(allowed_runtime_mpi common firmware_protocol driver runtime runtime_mpi)
set(allowed_matrix_io common matrix_io)
set(allowed_run_file common run_file)
set(allowed_kelvind common firmware_protocol driver driver_backends kelvind)
set(allowed_conformance common firmware_protocol driver driver_backends conformance)
set(allowed_kelvin_mpi common firmware_protocol driver driver_backends runtime runtime_mpi
                      matrix_io cli kelvin_mpi)
set(allowed_cli common firmware_protocol driver driver_backends runtime matrix_io run_file
                conformance cli)
set(allowed_python common firmware_protocol driver driver_backends runtime run_file cli python)

function(part_of path list_in parts_in out)
  set(list ${${list_in}})
  set(parts ${${parts_in}})
  set(result "")
  list(LENGTH list n)
  math(EXPR last "${n} - 1")
  foreach(i RANGE ${last})
    list(GET list ${i} p)
    string(FIND "${path}" "${p}" at)
    if(at EQUAL 0)
      list(GET parts ${i} result)
      break()
    endif()
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

set(violations "")
set(checked 0)
foreach(folder ${folders})
  file(GLOB_RECURSE sources RELATIVE "${ROOT}" "${ROOT}/${folder}*.cpp" "${ROOT}/${folder}*.hpp"
       "${ROOT}/${folder}*.h")
  foreach(source ${sources})
    part_of("${source}" folders folder_parts part)
    if(NOT part STREQUAL "")
      list(APPEND files_${part} "${source}")
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES folder_parts)
foreach(part ${folder_parts})
  if(NOT DEFINED files_${part})
    continue()
  endif()
  list(REMOVE_DUPLICATES files_${part})
  foreach(source ${files_${part}})
    # A file listed under a more specific part (sim-backend/usb under sim-backend) is that part's.
    part_of("${source}" folders folder_parts own)
    if(NOT own STREQUAL part)
      continue()
    endif()
    math(EXPR checked "${checked} + 1")
    file(STRINGS "${ROOT}/${source}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"kelvin/")
    foreach(line ${includes})
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*$" "\\1" header "${line}")
      part_of("${header}" prefixes prefix_parts target)
      if(target STREQUAL "")
        list(APPEND violations "${source}: includes ${header}, which belongs to no part")
      elseif(NOT target IN_LIST allowed_${part})
        list(APPEND violations "${source} (${part}) includes ${header} (${target}), a layer it may not use")
      endif()
    endforeach()
  endforeach()
endforeach()

include(${CMAKE_CURRENT_LIST_DIR}/report.cmake)
kelvin_check_report(violations "layering violations" ${checked}
                    "layers: ${checked} files include only the parts below them")
