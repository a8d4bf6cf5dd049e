# cmake -DMPIEXEC=<mpiexec> -DKELVIN_MPI=<kelvin-mpi> -DRANKS=<n> -P run_kelvin_mpi_solve.cmake
# Runs `kelvin-mpi solve --laplacian 256 --json` on RANKS ranks (each its own 8-cell emulated
# board) and checks the one JSON object rank 0 prints: converged, within the tolerance, the
# scale-out block naming every rank's board, and x of the right length.
execute_process(
  COMMAND ${MPIEXEC} -n ${RANKS} ${KELVIN_MPI} solve --laplacian 256 --tolerance 1e-4
          --uri "sim:resonator?cells=8&seed={rank}" --timeout-s 60 --json
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "kelvin-mpi solve failed (${rc}):\n${out}\n${err}")
endif()
string(JSON converged GET "${out}" summary converged)
string(JSON residual GET "${out}" summary relative_residual)
string(JSON ranks GET "${out}" summary scale_out ranks)
string(JSON boards LENGTH "${out}" summary scale_out boards)
string(JSON unknowns LENGTH "${out}" x)
if(NOT converged OR residual GREATER 1e-4 OR NOT ranks EQUAL RANKS OR NOT boards EQUAL RANKS
   OR NOT unknowns EQUAL 256)
  message(FATAL_ERROR "unexpected result (converged ${converged}, residual ${residual}, ranks "
                      "${ranks}, boards ${boards}, x of ${unknowns}):\n${out}")
endif()
message(STATUS "kelvin-mpi solve on ${RANKS} ranks: residual ${residual}")
