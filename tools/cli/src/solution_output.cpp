#include "solution_output.hpp"

#include <iterator>

#include <fmt/format.h>

namespace kelvin::tools::cli {

Json solve_result_json(const runtime::SolveResult& result) {
  Json out{{"x", vector_json(result.x)}};
  if (result.standard_error.size() > 0)
    out["stderr"] = vector_json(result.standard_error);
  out["summary"] = summary_json(result.summary);
  out["energy"] = energy_json(result.summary.energy);
  out["residual"] = result.summary.relative_residual;
  return out;
}

std::string solution_text(const runtime::SolveResult& result) {
  // Ten significant digits are more than any board run resolves; --json has every digit.
  const bool with_stderr = result.standard_error.size() == result.x.size();
  // The block path's column is an error estimate, not a standard error (solve.hpp).
  const char* column = result.summary.block ? "est. error" : "stderr";
  std::string out = with_stderr ? fmt::format("{:>5}  {:>18}  {:>10}\n", "i", "x", column)
                                : fmt::format("{:>5}  {:>18}\n", "i", "x");
  for (Eigen::Index i = 0; i < result.x.size(); ++i) {
    if (with_stderr) {
      fmt::format_to(std::back_inserter(out), "{:>5}  {:>18.10g}  {:>10.3g}\n", i, result.x(i),
                     result.standard_error(i));
    } else {
      fmt::format_to(std::back_inserter(out), "{:>5}  {:>18.10g}\n", i, result.x(i));
    }
  }
  return out + "\n" + result.summary.full_report();
}

}  // namespace kelvin::tools::cli
