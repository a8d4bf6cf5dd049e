// kelvin.stream: a resonator board's ADC stream as an iterator of NumPy blocks
// (driver/resonator/sample_stream.hpp), each with its sequence numbers and the samples lost just
// before it; counters() says, at every board report, produced == received + lost + buffered.
// The iterator ends after duration_s (or max_samples) once the board is stopped and drained, so
// the final counters cover every sample the stream made.
#include <chrono>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"

namespace kelvin::python {

namespace {

using Clock = std::chrono::steady_clock;

struct PyStream {
  py::object board_object;  // keeps the board alive
  PyResonatorBoard* board = nullptr;
  std::unique_ptr<driver::SampleStream> stream;
  std::optional<double> duration_s;
  std::optional<std::uint64_t> max_samples;
  std::chrono::milliseconds frame_timeout{1000};
  Clock::time_point started;
  bool done = false;

  void stop() {
    if (!stream->stopped()) {
      const auto deadline = common::Deadline::after(std::chrono::seconds(10));
      with_board(*board->handle, [&] { stream->stop(deadline); });
    }
  }
};

py::object block_object(driver::StreamFrame frame) {
  const auto rows = static_cast<py::ssize_t>(frame.metadata.sample_count);
  const auto cols = static_cast<py::ssize_t>(frame.cells);
  py::array_t<std::int16_t> codes({rows, cols});
  py::array_t<double> volts({rows, cols});
  auto c = codes.mutable_unchecked<2>();
  auto v = volts.mutable_unchecked<2>();
  for (py::ssize_t i = 0; i < rows; ++i) {
    for (py::ssize_t j = 0; j < cols; ++j) {
      const std::int16_t code = frame.samples[static_cast<std::size_t>(i * cols + j)];
      c(i, j) = code;
      v(i, j) = frame.adc.to_physical(static_cast<std::int64_t>(code));
    }
  }
  const auto& md = frame.metadata;
  return result_class("StreamBlock")(
      py::arg("samples") = volts, py::arg("codes") = codes, py::arg("unit") = frame.adc.unit,
      py::arg("lsb") = frame.adc.lsb, py::arg("offset") = frame.adc.offset,
      py::arg("stream_id") = md.stream_id, py::arg("first_sequence") = md.first_sequence,
      py::arg("first_tick") = md.first_tick, py::arg("lost_before") = md.lost_before,
      py::arg("board_overflows") = md.board_overflows,
      py::arg("error") = driver::to_string(md.error), py::arg("end_of_stream") = md.end_of_stream);
}

}  // namespace

void bind_stream(py::module_& m) {
  const driver::StreamOptions d;
  py::class_<PyStream>(m, "Stream",
                       "A running stream (from kelvin.stream): iterate for StreamBlocks.")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__",
           [](PyStream& s) -> py::object {
             for (;;) {
               if (s.done)
                 throw py::stop_iteration();
               const double elapsed =
                   std::chrono::duration<double>(Clock::now() - s.started).count();
               const bool enough =
                   (s.duration_s && elapsed >= *s.duration_s) ||
                   (s.max_samples && s.stream->counters().received >= *s.max_samples);
               if (enough)
                 s.stop();
               const auto deadline = common::Deadline::after(s.frame_timeout);
               driver::StreamFrame frame =
                   with_board(*s.board->handle, [&] { return s.stream->recv(deadline); });
               if (frame.metadata.end_of_stream)
                 s.done = true;
               if (frame.metadata.sample_count > 0 ||
                   frame.metadata.error != driver::StreamErrorKind::kNone)
                 return block_object(std::move(frame));
             }
           })
      .def("stop", &PyStream::stop,
           "Stops acquisition; iteration then drains what the board holds and ends.")
      .def(
          "counters",
          [](const PyStream& s) {
            return python_json(tools::cli::stream_counters_json(s.stream->counters()));
          },
          "received, lost (overflow_lost + transit_lost), gaps, frames, produced, buffered, "
          "accounted (produced == received + lost + buffered), clock slip and round trip.")
      .def_property_readonly("resumable", [](const PyStream& s) { return s.stream->resumable(); })
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyStream& s, const py::object&, const py::object&, const py::object&) {
        try {
          s.stop();
        } catch (const std::exception&) {
          // Leaving the with-block must not hide the error that ended it; the destructor
          // stops the board on a best-effort basis too.
        }
        return false;
      });

  m.def(
      "stream",
      [](py::object board, std::optional<double> duration_s,
         std::optional<std::uint64_t> max_samples, std::uint32_t decimation, bool average,
         bool reset_state, std::uint32_t max_samples_per_frame, double reply_timeout_s,
         double min_reply_timeout_s, bool resume_reads, double frame_timeout_s,
         double start_timeout_s) {
        auto* b = board.cast<PyResonatorBoard*>();
        driver::StreamOptions o;
        o.request.decimation = decimation;
        o.request.average = average;
        o.request.reset_state = reset_state;
        o.max_samples_per_frame = max_samples_per_frame;
        o.reply_timeout = timeout_arg(reply_timeout_s, "reply_timeout_s");
        o.min_reply_timeout = min_reply_timeout_s > 0.0
                                  ? timeout_arg(min_reply_timeout_s, "min_reply_timeout_s")
                                  : std::chrono::milliseconds(0);
        o.resume_reads = resume_reads;
        o.validate();
        if (duration_s && !(*duration_s > 0.0)) {
          throw common::Error(common::ErrorKind::kInvalidArgument,
                              fmt::format("duration_s = {} must be positive", *duration_s));
        }
        PyStream s;
        s.board_object = board;
        s.board = b;
        s.duration_s = duration_s;
        s.max_samples = max_samples;
        s.frame_timeout = timeout_arg(frame_timeout_s, "frame_timeout_s");
        const auto deadline =
            common::Deadline::after(timeout_arg(start_timeout_s, "start_timeout_s"));
        s.stream = with_board(*b->handle, [&] {
          return std::make_unique<driver::SampleStream>(b->board, o, deadline);
        });
        s.started = Clock::now();
        return s;
      },
      py::arg("board"), py::kw_only(), py::arg("duration_s") = py::none(),
      py::arg("max_samples") = py::none(), py::arg("decimation") = d.request.decimation,
      py::arg("average") = d.request.average, py::arg("reset_state") = d.request.reset_state,
      py::arg("max_samples_per_frame") = d.max_samples_per_frame,
      py::arg("reply_timeout_s") = std::chrono::duration<double>(d.reply_timeout).count(),
      py::arg("min_reply_timeout_s") = std::chrono::duration<double>(d.min_reply_timeout).count(),
      py::arg("resume_reads") = d.resume_reads, py::arg("frame_timeout_s") = 1.0,
      py::arg("start_timeout_s") = 10.0,
      "Streams the board's ADC samples as it is programmed (program it first: a solve, or "
      "program_couplings/program_biases/set_noise). Iterate the returned Stream for "
      "StreamBlock(samples [V], codes, first_sequence, lost_before, error, ...); it ends after "
      "duration_s or max_samples (or stop()) once the board's ring is drained.");
}

}  // namespace kelvin::python
