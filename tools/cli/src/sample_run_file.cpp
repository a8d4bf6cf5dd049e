#include "sample_run_file.hpp"

#include <array>
#include <cstdint>
#include <tuple>

#include "run_file_output.hpp"

namespace kelvin::tools::cli {

void write_model_data(run_file::RunFile& file, const runtime::IsingModel& model) {
  std::vector<std::int64_t> edges;
  edges.reserve(model.edges.size() * 3);
  for (const auto& [i, j, w] : model.edges) {
    edges.push_back(i);
    edges.push_back(j);
    edges.push_back(w);
  }
  const std::array<std::uint64_t, 2> edge_shape{model.edges.size(), 3};
  write_data(file, "edges", edges, edge_shape);
  std::vector<std::int64_t> bias(model.nodes, 0);
  for (std::size_t i = 0; i < model.bias.size() && i < bias.size(); ++i)
    bias[i] = model.bias[i];
  const std::array<std::uint64_t, 1> bias_shape{bias.size()};
  write_data(file, "bias", bias, bias_shape);
}

void write_sampling_data(run_file::RunFile& file, const runtime::IsingSamplingResult& result) {
  write_data(file, "mean", result.mean);
  write_data(file, "mean_stderr", result.mean_stderr);
  write_data(file, "mean_ess", result.mean_ess);
  write_data(file, "mean_split_rhat", result.mean_split_rhat);
  std::vector<double> correlations;
  correlations.reserve(result.edge_correlations.size());
  for (const auto& edge : result.edge_correlations)
    correlations.push_back(std::get<2>(edge));
  write_data(file, "edge_correlations", correlations);
  write_data(file, "edge_correlation_stderr", result.edge_correlation_stderr);
}

void write_tempering_data(run_file::RunFile& file, const runtime::TemperingResult& result,
                          const std::vector<double>& coldest_mean) {
  write_data(file, "mean", coldest_mean);
  const std::vector<std::int64_t> best(result.best_state.begin(), result.best_state.end());
  const std::array<std::uint64_t, 1> shape{best.size()};
  write_data(file, "best_state", best, shape);
  write_data(file, "betas", result.summary.betas);
}

}  // namespace kelvin::tools::cli
