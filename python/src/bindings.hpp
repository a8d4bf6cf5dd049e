// Shared pieces of the kelvin Python module (_kelvin): argument conversion with clear errors,
// boards as Python objects, results and summaries as Python objects.
//
// Thread contract: every function here runs with the GIL held, except the device work inside
// with_board(), which releases it (and holds the board's own lock, so two Python threads never
// drive one board at once, while two boards run in parallel).
#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <pybind11/pybind11.h>
#include <Eigen/Core>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/device.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/tools/cli/json_writer.hpp"

namespace kelvin::python {

namespace py = pybind11;

// One open device, shared by the board object and any stream on it.
struct BoardHandle {
  std::shared_ptr<driver::Device> device;
  std::string uri;
  std::mutex busy;  // held while a job or a stream call uses the device
};

struct PyResonatorBoard {
  std::shared_ptr<BoardHandle> handle;
  driver::ResonatorBoard board;
};

struct PyPbitBoard {
  std::shared_ptr<BoardHandle> handle;
  driver::PbitBoard board;
};

// Runs f() without the GIL, holding the board's lock: device work never blocks other Python
// threads, and two threads on one board take turns.
template <typename F>
auto with_board(BoardHandle& handle, F&& f) {
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(handle.busy);
  return f();
}

// NumPy (or anything np.asarray accepts) to Eigen, float64: a real numeric array of exactly that
// rank and, where given, shape. Anything else (complex, bool, object or string dtypes, wrong
// rank, empty) is kelvin.InvalidArgumentError naming `name` and what it got. NaN and infinities
// pass through: the runtime's own checks name them.
Eigen::MatrixXd matrix_arg(const py::handle& value, const char* name);
Eigen::VectorXd vector_arg(const py::handle& value, const char* name);

// Seconds (a Python float) to the runtime's milliseconds; refuses non-finite or non-positive.
std::chrono::milliseconds timeout_arg(double seconds, const char* name = "timeout_s");

// A JSON value (the CLI's writer: one JSON layout for every Summary) as a Python object.
py::object python_json(const tools::cli::Json& json);

// A Summary as kelvin.Summary: its fields (the CLI's JSON "summary" object), brief and full
// reports; `kind` names the class ("SolveSummary").
template <typename Summary>
py::object summary_object(const Summary& summary, const char* kind) {
  const py::object cls = py::module_::import("kelvin._summary").attr("Summary");
  return cls(kind, python_json(tools::cli::to_json(summary.fields())), summary.brief_report(),
             summary.full_report());
}

// A result class of kelvin._results (a dataclass) built from keyword arguments.
py::object result_class(const char* name);

void bind_errors(py::module_& m);
void bind_boards(py::module_& m);
void bind_linear_algebra(py::module_& m);
void bind_natural_gradient(py::module_& m);
void bind_quartic(py::module_& m);
void bind_sampling(py::module_& m);
void bind_stream(py::module_& m);

}  // namespace kelvin::python

namespace kelvin::python {

// The enum value whose to_string() is `text`; else kelvin.InvalidArgumentError listing them.
template <typename Enum>
Enum enum_arg(const std::string& text, std::initializer_list<Enum> values, const char* name) {
  std::string known;
  for (const Enum v : values) {
    if (text == to_string(v))
      return v;
    known += (known.empty() ? "" : ", ") + std::string("'") + to_string(v) + "'";
  }
  throw common::Error(common::ErrorKind::kInvalidArgument,
                      name + std::string(" = '") + text + "' is not one of " + known);
}

}  // namespace kelvin::python
