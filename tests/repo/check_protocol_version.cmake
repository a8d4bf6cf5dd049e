# The wire protocol version is defined once (kProtocolVersion in firmware-protocol's version.hpp)
# and every text that names the current version agrees with it. Checked: the README, docs/, and
# every source, header and .proto file of the parts. A mention of "protocol vN", "protocol
# version N", "protocol, version N" or "speak(s) version N only" must name the current version,
# unless it says it is history: "since protocol vN", "added in protocol version N", or "protocol
# vN and later". Run as: cmake -DROOT=<source dir> -P check_protocol_version.cmake
cmake_minimum_required(VERSION 3.25)

set(version_header "${ROOT}/firmware-protocol/include/kelvin/firmware_protocol/version.hpp")
file(STRINGS "${version_header}" definition REGEX "kProtocolVersion = [0-9]+;")
if(NOT definition)
  message(FATAL_ERROR "${version_header} does not define kProtocolVersion")
endif()
string(REGEX MATCH "kProtocolVersion = ([0-9]+)" unused "${definition}")
set(current "${CMAKE_MATCH_1}")

set(files "${ROOT}/README.md")
file(GLOB docs "${ROOT}/docs/*.md")
list(APPEND files ${docs})
foreach(part common firmware-protocol sim-backend driver runtime tools tests bench)
  file(GLOB_RECURSE sources "${ROOT}/${part}/*.cpp" "${ROOT}/${part}/*.hpp"
       "${ROOT}/${part}/*.proto")
  list(APPEND files ${sources})
endforeach()

set(problems "")
set(mentions 0)
foreach(path ${files})
  file(RELATIVE_PATH name "${ROOT}" "${path}")
  # Only one definition of the constant.
  file(STRINGS "${path}" defines REGEX "kProtocolVersion[ \t]*=[ \t]*[0-9]")
  if(defines AND NOT path STREQUAL version_header)
    list(APPEND problems "${name}: defines kProtocolVersion again (version.hpp is the one place)")
  endif()
  file(STRINGS "${path}" lines REGEX "[Pp]rotocol,? (v|version )[0-9]|speaks? version [0-9]+ only")
  foreach(line ${lines})
    string(REGEX MATCHALL
           "(since |added in )?[Pp]rotocol,? (v|version )[0-9]+( and later)?|speaks? version [0-9]+ only"
           found "${line}")
    foreach(mention ${found})
      math(EXPR mentions "${mentions} + 1")
      if(mention MATCHES "^(since |added in )" OR mention MATCHES " and later$")
        continue()
      endif()
      string(REGEX REPLACE "^.*[^0-9]([0-9]+)( only)?$" "\\1" number "${mention}")
      if(NOT number STREQUAL current)
        list(APPEND problems "${name}: '${mention}' but the protocol is version ${current} (say \"since protocol v${number}\" for history)")
      endif()
    endforeach()
  endforeach()
endforeach()

include(${CMAKE_CURRENT_LIST_DIR}/report.cmake)
kelvin_check_report(problems "mentions that disagree with kProtocolVersion = ${current}" ${mentions}
                    "protocol version ${current}: defined once, ${mentions} mentions agree")
