// What `kelvin sample -o FILE.h5` puts under /data of its run file (docs/run-files.md): the
// model (edges [E x 3] as i, j, J; bias [n]) and the result (sampling: mean, mean_stderr,
// mean_ess, mean_split_rhat [n], edge_correlations and edge_correlation_stderr [E]; tempering:
// mean of the coldest replica [n], best_state [lattice nodes], betas [R]). Undefined values
// (a stderr without error bars) are NaN.
//
// Thread contract: pure functions of their arguments (they write to the file given).
#pragma once

#include <vector>

#include "kelvin/runtime/pbit/ising_model.hpp"
#include "kelvin/runtime/pbit/ising_sampling.hpp"
#include "kelvin/runtime/pbit/parallel_tempering.hpp"
#include "kelvin/tools/run_file/run_file.hpp"

namespace kelvin::tools::cli {

void write_model_data(run_file::RunFile& file, const runtime::IsingModel& model);
void write_sampling_data(run_file::RunFile& file, const runtime::IsingSamplingResult& result);
void write_tempering_data(run_file::RunFile& file, const runtime::TemperingResult& result,
                          const std::vector<double>& coldest_mean);

}  // namespace kelvin::tools::cli
