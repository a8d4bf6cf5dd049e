// kelvin.find(), kelvin.open() and the board objects (ResonatorBoard, PbitBoard): what a board
// says about itself (describe(), the same object `kelvin probe --json` prints), its link
// statistics, closing, and the resonator board's raw registers for bench work.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "kelvin/common/deadline.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"

namespace kelvin::python {

namespace {

using common::Error;
using common::ErrorKind;

py::dict link_stats(const BoardHandle& h) {
  const driver::LinkStats s = h.device->stats();
  py::dict d;
  d["requests"] = s.requests;
  d["bytes_sent"] = s.bytes_sent;
  d["bytes_received"] = s.bytes_received;
  d["bad_frames"] = s.bad_frames;
  d["stale_replies"] = s.stale_replies;
  d["retries"] = s.retries;
  d["lost_replies"] = s.lost_replies;
  d["refusals"] = s.refusals;
  d["round_trip_us"] = s.round_trip_us;
  d["reply_wait_us"] = s.reply_wait_us;
  return d;
}

py::object describe(const BoardHandle& h) {
  return python_json(tools::cli::description_json(h.device->description(), h.uri));
}

std::shared_ptr<BoardHandle> open_handle(const std::string& uri, double open_timeout_s) {
  driver::OpenOptions options;
  options.open_timeout = timeout_arg(open_timeout_s, "open_timeout_s");
  auto handle = std::make_shared<BoardHandle>();
  handle->uri = uri;
  {
    py::gil_scoped_release release;
    handle->device = std::shared_ptr<driver::Device>(driver::backends::open(uri, options));
  }
  handle->uri = handle->device->address().to_string();
  return handle;
}

std::string board_repr(const BoardHandle& h, const char* cls) {
  const auto& d = h.device->description();
  return fmt::format("<kelvin.{} {} ({} cells, serial {}){}>", cls, h.uri, d.cells, d.serial,
                     h.device->is_open() ? "" : " closed");
}

// The shared members of both board classes.
template <typename Class>
void common_members(Class& cls, const char* name) {
  using Board = typename Class::type;
  cls.def_property_readonly(
         "uri", [](const Board& b) { return b.handle->uri; },
         "The board's address (a URI that opens it again).")
      .def_property_readonly("serial",
                             [](const Board& b) { return b.handle->device->description().serial; })
      .def_property_readonly(
          "cells", [](const Board& b) { return b.handle->device->description().cells; },
          "Cells (resonator) or lattice nodes (p-bit).")
      .def_property_readonly("closed", [](const Board& b) { return !b.handle->device->is_open(); })
      .def(
          "describe", [](const Board& b) { return describe(*b.handle); },
          "What the board says about itself: family, serial, firmware, ranges and units of its "
          "DACs and ADC, timing and capabilities (the object `kelvin probe --json` prints).")
      .def(
          "link_stats", [](const Board& b) { return link_stats(*b.handle); },
          "Requests, bytes, retries, lost and stale replies and the smoothed round trip.")
      .def(
          "close", [](Board& b) { b.handle->device->close(); },
          "Closes the link; later calls raise kelvin.DisconnectedError. Idempotent.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__",
           [](Board& b, const py::object&, const py::object&, const py::object&) {
             b.handle->device->close();
             return false;
           })
      .def("__repr__", [name](const Board& b) { return board_repr(*b.handle, name); });
}

// One int16 code, refusing values outside int16 (or fractional) rather than wrapping.
std::int16_t int16_code(double v, const char* name, std::size_t index) {
  if (!(v >= -32768.0 && v <= 32767.0) || v != std::floor(v))
    throw Error(ErrorKind::kOutOfRange,
                fmt::format("{}[{}] = {} is not an int16 code", name, index, v));
  return static_cast<std::int16_t>(v);
}

std::vector<std::int16_t> codes_arg(const py::handle& value, const char* name) {
  const Eigen::VectorXd v = vector_arg(value, name);
  std::vector<std::int16_t> out(static_cast<std::size_t>(v.size()));
  for (Eigen::Index i = 0; i < v.size(); ++i)
    out[static_cast<std::size_t>(i)] = int16_code(v(i), name, static_cast<std::size_t>(i));
  return out;
}

}  // namespace

void bind_boards(py::module_& m) {
  py::class_<PyResonatorBoard> resonator(m, "ResonatorBoard",
                                         "A resonator SPU board (open it with kelvin.open).");
  common_members(resonator, "ResonatorBoard");
  resonator
      .def(
          "program_couplings",
          [](PyResonatorBoard& b, const py::handle& codes, double timeout_s) {
            const Eigen::MatrixXd c = matrix_arg(codes, "codes");
            const auto n = static_cast<std::uint32_t>(c.rows());
            if (c.cols() != c.rows() || c != c.transpose()) {
              throw Error(ErrorKind::kInvalidArgument,
                          fmt::format("coupling codes must be a symmetric square matrix; got {}x{}",
                                      c.rows(), c.cols()));
            }
            driver::SymmetricCodes sym(n);
            for (std::uint32_t j = 0; j < n; ++j)
              for (std::uint32_t i = 0; i <= j; ++i)
                sym.set(i, j, int16_code(c(i, j), "codes", i * n + j));
            const auto deadline = common::Deadline::after(timeout_arg(timeout_s));
            with_board(*b.handle, [&] { b.board.program_couplings(sym, deadline); });
          },
          py::arg("codes"), py::kw_only(), py::arg("timeout_s") = 5.0,
          "Writes the coupling DAC codes (a symmetric int16 matrix, n <= cells).")
      .def(
          "program_biases",
          [](PyResonatorBoard& b, const py::handle& codes, double timeout_s) {
            const auto c = codes_arg(codes, "codes");
            const auto deadline = common::Deadline::after(timeout_arg(timeout_s));
            with_board(*b.handle, [&] { b.board.program_biases(c, deadline); });
          },
          py::arg("codes"), py::kw_only(), py::arg("timeout_s") = 5.0,
          "Writes the bias DAC codes (int16, one per cell).")
      .def(
          "set_noise",
          [](PyResonatorBoard& b, std::uint32_t code, double timeout_s) {
            const auto deadline = common::Deadline::after(timeout_arg(timeout_s));
            with_board(*b.handle, [&] { b.board.set_noise(code, deadline); });
          },
          py::arg("code"), py::kw_only(), py::arg("timeout_s") = 5.0, "Writes the noise DAC code.");
  py::class_<PyPbitBoard> pbit(m, "PbitBoard", "A p-bit TSU board (open it with kelvin.open).");
  common_members(pbit, "PbitBoard");

  m.def(
      "open",
      [](const std::string& uri, double open_timeout_s) -> py::object {
        auto handle = open_handle(uri, open_timeout_s);
        const auto family = handle->device->description().family;
        if (family == driver::BoardFamily::kPbit) {
          driver::PbitBoard board(handle->device);
          return py::cast(PyPbitBoard{handle, std::move(board)});
        }
        driver::ResonatorBoard board(handle->device);
        return py::cast(PyResonatorBoard{handle, std::move(board)});
      },
      py::arg("uri") = std::string(driver::backends::kDefaultResonatorUri), py::kw_only(),
      py::arg("open_timeout_s") = 5.0,
      "Opens the board at `uri` (sim:resonator?cells=8&seed=1, sim:pbit?..., tcp:HOST:PORT, "
      "unix:/path, usb:serial=...) and returns a ResonatorBoard or PbitBoard.");
  m.def(
      "find",
      [](const std::string& filter) {
        std::vector<driver::DeviceAddress> found;
        {
          py::gil_scoped_release release;
          found = driver::backends::find(filter);
        }
        std::vector<std::string> uris;
        for (const auto& a : found)
          uris.push_back(a.to_string());
        return uris;
      },
      py::arg("filter") = std::string(),
      "URIs of the boards that can be opened (with a filter such as 'sim' or 'tcp', those of "
      "its scheme), as `kelvin find` lists them.");
  m.def(
      "uri_help", [](const std::string& scheme) { return driver::backends::uri_help(scheme); },
      py::arg("scheme") = std::string(), "The URI forms and parameters of each scheme.");
  m.attr("DEFAULT_RESONATOR_URI") = std::string(driver::backends::kDefaultResonatorUri);
  m.attr("DEFAULT_PBIT_URI") = std::string(driver::backends::kDefaultPbitUri);
}

}  // namespace kelvin::python
