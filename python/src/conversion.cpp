// Argument and result conversion for the Python module (bindings.hpp).
#include <cmath>
#include <string>

#include <fmt/format.h>
#include <pybind11/numpy.h>

#include "bindings.hpp"
#include "kelvin/common/error.hpp"

namespace kelvin::python {

using common::Error;
using common::ErrorKind;

namespace {

// np.asarray(value) checked for a real numeric dtype, the rank and a size.
py::array real_array(const py::handle& value, const char* name, int rank) {
  const py::module_ np = py::module_::import("numpy");
  py::array array;
  try {
    array = np.attr("asarray")(value);
  } catch (const py::error_already_set& e) {
    throw Error(ErrorKind::kInvalidArgument, fmt::format("{} is not an array: {}", name, e.what()));
  }
  const char kind = array.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} must be a real numeric array (float or int); got dtype {}", name,
                            py::str(array.dtype()).cast<std::string>()));
  }
  if (array.ndim() != rank) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} must be {}-dimensional; got shape {}", name, rank,
                            py::str(array.attr("shape")).cast<std::string>()));
  }
  if (array.size() == 0) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} is empty (shape {})", name,
                            py::str(array.attr("shape")).cast<std::string>()));
  }
  return array;
}

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

// float64 in C or Fortran order is read in place into the one copy the runtime needs; other
// dtypes and strided views are converted to float64 first.
Eigen::MatrixXd matrix_arg(const py::handle& value, const char* name) {
  const py::array a = real_array(value, name, 2);
  if (py::isinstance<py::array_t<double, py::array::f_style>>(a)) {
    const auto f = a.cast<py::array_t<double, py::array::f_style>>();
    return Eigen::Map<const Eigen::MatrixXd>(f.data(), f.shape(0), f.shape(1));
  }
  if (py::isinstance<py::array_t<double, py::array::c_style>>(a)) {
    const auto c = a.cast<py::array_t<double, py::array::c_style>>();
    return Eigen::Map<const RowMajor>(c.data(), c.shape(0), c.shape(1));
  }
  const auto f = py::array_t<double, py::array::f_style>::ensure(a);
  return Eigen::Map<const Eigen::MatrixXd>(f.data(), f.shape(0), f.shape(1));
}

Eigen::VectorXd vector_arg(const py::handle& value, const char* name) {
  const auto a = py::array_t<double, py::array::f_style>::ensure(real_array(value, name, 1));
  return Eigen::Map<const Eigen::VectorXd>(a.data(), a.shape(0));
}

std::chrono::milliseconds timeout_arg(double seconds, const char* name) {
  if (!std::isfinite(seconds) || seconds <= 0.0 || seconds > 1e6) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("{} = {} must be a positive number of seconds (at most 1e6)", name, seconds));
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1e3)));
}

py::object python_json(const tools::cli::Json& json) {
  return py::module_::import("json").attr("loads")(
      json.dump(-1, ' ', false, tools::cli::Json::error_handler_t::replace));
}

py::object result_class(const char* name) {
  return py::module_::import("kelvin._results").attr(name);
}

}  // namespace kelvin::python
