# The install test (CMakeLists.txt here): cmake -D ... -P run_downstream.cmake.
#   1. cmake --install BUILD_DIR --prefix WORK_DIR/prefix (a fresh prefix every run);
#   2. the installed tree has the programs, the udev rule, the generated protobuf header, the
#      CMake package and kelvin.pc, and none of its package files names the source or build tree;
#   3. downstream/ configured from scratch against the prefix (CMAKE_PREFIX_PATH only) and built:
#      find_package(kelvin), pkg-config's kelvin.pc, and every kelvin:: target linked;
#   4. both builds of the downstream program solve their system on the emulated board, link_all
#      names the targets the package must have (and not the test-only ones);
#   5. the installed kelvin and kelvind run, and the installed Python package imports (if built);
#   6. on success the prefix and the downstream build are removed again.
cmake_minimum_required(VERSION 3.25)

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/downstream-build)
file(REMOVE_RECURSE ${prefix} ${build})

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}\n${err}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

function(expect_string text string what)
  string(FIND "${text}" "${string}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${what}: expected '${string}' in:\n${text}")
  endif()
endfunction()

function(expect text pattern what)
  if(NOT text MATCHES "${pattern}")
    message(FATAL_ERROR "${what}: expected /${pattern}/ in:\n${text}")
  endif()
endfunction()

# 1. Install (--strip: the programs without their debug information, 250 MB less to copy).
run("cmake --install (is the whole tree built? ninja -C ${BUILD_DIR})"
    ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --strip)

# 2. What the tree holds.
foreach(file bin/kelvin bin/kelvind ${UDEVRULESDIR}/70-kelvin.rules
             include/kelvin/firmware_protocol/wire.pb.h include/kelvin/runtime/solve.hpp
             ${LIBDIR}/libkelvin_runtime.a ${LIBDIR}/cmake/kelvin/kelvinConfig.cmake
             ${LIBDIR}/cmake/kelvin/kelvinConfigVersion.cmake
             ${LIBDIR}/cmake/kelvin/kelvinTargets.cmake ${LIBDIR}/pkgconfig/kelvin.pc)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "cmake --install did not install ${file}")
  endif()
endforeach()
if(EXISTS ${prefix}/${LIBDIR}/libkelvin_sim_backend_usb.a)
  message(FATAL_ERROR "the test-only library kelvin_sim_backend_usb was installed")
endif()
file(GLOB package_files ${prefix}/${LIBDIR}/cmake/kelvin/*.cmake ${prefix}/${LIBDIR}/pkgconfig/*.pc)
foreach(file ${package_files})
  file(READ ${file} text)
  foreach(tree ${SOURCE_DIR} ${BUILD_DIR})
    string(FIND "${text}" "${tree}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${file} names ${tree}: the installed package is not relocatable")
    endif()
  endforeach()
endforeach()

# 3. The downstream project, configured and built from scratch against the prefix only.
run("configuring the downstream project" ${CMAKE_COMMAND} -S ${DOWNSTREAM_DIR} -B ${build}
    -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_COMPILER_LAUNCHER} -DCMAKE_CXX_FLAGS=${CXX_FLAGS}
    -DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS} -DCMAKE_BUILD_TYPE=)
expect_string("${output}" "kelvin ${VERSION} from ${prefix}/" "find_package(kelvin)")
run("building the downstream project" ${CMAKE_COMMAND} --build ${build})

# 4. Run them.
foreach(program downstream downstream_pc)
  run("${program}" ${build}/${program})
  expect("${output}" "n=4 on " "${program}")
  expect("${output}" "relative error [^\n]*: ok" "${program}")
  message(STATUS "${program}:\n${output}")
endforeach()
run("link_all" ${build}/link_all)
foreach(target kelvin::common kelvin::firmware_protocol kelvin::sim_backend kelvin::driver
               kelvin::driver::usb kelvin::driver::backends kelvin::runtime kelvin::tools::cli)
  expect("${output}" "(: | )${target}( |\n)" "link_all")
endforeach()
if(output MATCHES "sim_backend::usb")
  message(FATAL_ERROR "the package exports the test-only kelvin::sim_backend::usb:\n${output}")
endif()
message(STATUS "${output}")

# 5. The installed programs and the Python package.
run("kelvin --help" ${prefix}/bin/kelvin --help)
expect("${output}" "solve" "kelvin --help")
run("kelvind --help" ${prefix}/bin/kelvind --help)
if(PYTHONDIR)
  set(ENV{PYTHONPATH} ${prefix}/${PYTHONDIR})
  run("import kelvin" ${PYTHON} -c "print(__import__('kelvin').__file__)")
  expect_string("${output}" "${prefix}/${PYTHONDIR}/kelvin/" "the installed Python package")
endif()

# Passed: the installed tree (about 0.5 GB of static libraries with debug information) goes;
# after a failure it stays for a look.
file(REMOVE_RECURSE ${prefix} ${build})
