// kelvin.generate_quartic: generation on a resonator board's quartic cells
// (runtime/quartic_generation.hpp, contract D of issue 17) from a checkpoint given as a path or as
// a dict of the checkpoint's fields (NumPy arrays allowed; "kind" and "version" may be left out).
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "kelvin/runtime/quartic_generation.hpp"

namespace kelvin::python {

namespace {

runtime::QuarticGenerator checkpoint_arg(const py::object& checkpoint) {
  if (py::isinstance<py::dict>(checkpoint)) {
    py::dict fields(checkpoint);  // a copy: the caller's dict is left alone
    fields = fields.attr("copy")();
    if (!fields.contains("kind"))
      fields["kind"] = "kelvin.quartic-generator";
    if (!fields.contains("version"))
      fields["version"] = 1;
    const py::cpp_function plain([](const py::object& o) -> py::object {
      if (py::hasattr(o, "tolist"))  // NumPy arrays and scalars
        return o.attr("tolist")();
      throw py::type_error("checkpoint: a value of type " +
                           py::str(py::type::of(o).attr("__name__")).cast<std::string>() +
                           " is not JSON");
    });
    const std::string text = py::module_::import("json")
                                 .attr("dumps")(fields, py::arg("default") = plain)
                                 .cast<std::string>();
    return runtime::parse_quartic_checkpoint(text, "(dict)");
  }
  const py::object path = py::module_::import("os").attr("fspath")(checkpoint);
  return runtime::read_quartic_checkpoint(py::str(path).cast<std::string>());
}

py::array_t<double> rows_array(const std::vector<std::vector<double>>& rows, std::size_t cols) {
  py::array_t<double> out({static_cast<py::ssize_t>(rows.size()), static_cast<py::ssize_t>(cols)});
  auto o = out.mutable_unchecked<2>();
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < cols; ++j)
      o(static_cast<py::ssize_t>(i), static_cast<py::ssize_t>(j)) = rows[i][j];
  return out;
}

}  // namespace

void bind_quartic(py::module_& m) {
  const runtime::QuarticGenerationOptions d;
  m.def(
      "generate_quartic",
      [](PyResonatorBoard& b, const py::object& checkpoint, std::uint32_t samples,
         bool record_trajectories, double timeout_s, const std::string& calibration) {
        runtime::QuarticGenerationOptions o;
        o.samples = samples;
        o.record_trajectories = record_trajectories;
        o.timeout = timeout_arg(timeout_s);
        o.calibration = runtime::calibration::CalibrationSelection::parse(calibration);
        o.validate();
        const runtime::QuarticGenerator g = checkpoint_arg(checkpoint);
        runtime::QuarticGenerationResult r =
            with_board(*b.handle, [&] { return runtime::generate_quartic(b.board, g, o); });
        const std::size_t visible = g.visible.size();
        py::array_t<double> images = rows_array(r.images, visible);
        py::array_t<double> pixels = rows_array(r.images, visible);
        auto p = pixels.mutable_unchecked<2>();
        for (py::ssize_t i = 0; i < p.shape(0); ++i)
          for (py::ssize_t j = 0; j < p.shape(1); ++j)
            p(i, j) = g.pixel_offset + g.pixel_scale * p(i, j);
        py::object trajectories = py::none();
        if (record_trajectories) {
          const auto steps = static_cast<py::ssize_t>(g.uncoupled_samples + g.coupled_samples);
          py::array_t<double> t({static_cast<py::ssize_t>(r.trajectories.size()), steps,
                                 static_cast<py::ssize_t>(visible)});
          double* out = t.mutable_data();
          for (const std::vector<double>& one : r.trajectories)
            out = std::copy(one.begin(), one.end(), out);
          trajectories = t;
        }
        const auto vector = [](std::vector<double>& v) {
          return py::array_t<double>(static_cast<py::ssize_t>(v.size()), v.data());
        };
        return result_class("QuarticGenerationResult")(
            py::arg("images") = images, py::arg("pixels") = pixels,
            py::arg("image_shape") = py::make_tuple(g.image_rows, g.image_cols),
            py::arg("heat_kt") = vector(r.heat_kt), py::arg("heat") = vector(r.heat),
            py::arg("trajectories") = trajectories,
            py::arg("summary") = summary_object(r.summary, "QuarticGenerationSummary"));
      },
      py::arg("board"), py::arg("checkpoint"), py::kw_only(), py::arg("samples") = d.samples,
      py::arg("record_trajectories") = d.record_trajectories,
      py::arg("timeout_s") = std::chrono::duration<double>(d.timeout).count(),
      py::arg("calibration") = std::string("auto"),
      "Generates `samples` images on a resonator board's quartic cells from a checkpoint (a path, "
      "or a dict of its fields: kind \"kelvin.quartic-generator\", docs/generative.md): per "
      "sample, reset to 0, the uncoupled wells for uncoupled_samples us, then the learned "
      "couplings and biases for coupled_samples us. calibration: \"auto\", \"none\" or a file. "
      "Returns QuarticGenerationResult(images (samples x visible volts), pixels (offset + scale * "
      "volts), image_shape, heat_kt, heat (V^2/us), trajectories (samples x periods x visible "
      "volts, or None), summary).");
}

}  // namespace kelvin::python
