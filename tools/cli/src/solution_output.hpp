// How `kelvin solve` and `kelvin demo` print a solve: the JSON object {"x", "stderr",
// "summary", "energy", "residual"} ("stderr" only where the method has one: not on the block
// path) and the text table with the full report.
//
// Thread contract: pure functions.
#pragma once

#include <string>

#include "kelvin/runtime/solve.hpp"
#include "kelvin/tools/cli/json_writer.hpp"

namespace kelvin::tools::cli {

Json solve_result_json(const runtime::SolveResult& result);
std::string solution_text(const runtime::SolveResult& result);

}  // namespace kelvin::tools::cli
