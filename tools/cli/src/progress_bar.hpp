// A progress bar on stderr for long commands (sweep, stream): a bar, the percentage, done/total,
// the rate and the ETA, redrawn in place at most 10 times a second and cleared at the end. Drawn
// only when stderr is a terminal (isatty(2)); otherwise it prints nothing, so that logs and
// redirected stderr stay clean. Only the CLI prints: library jobs report progress through an
// optional callback in their Options (for example SweepOptions::on_point).
//
// Thread contract: one thread per ProgressBar; format_progress() and format_eta() are pure.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

namespace kelvin::tools::cli {

// "label [#########...........]  45%  450/1000 points  12.3 points/s  ETA 0:45" in `width`
// columns at most (the bar shrinks to fit; at least 10 columns of bar). Without a rate yet
// (done == 0 or elapsed_s <= 0) the rate reads "-" and the ETA "--:--"; show_rate = false leaves
// the rate out (when `done` is time). `extra` is appended after the ETA.
std::string format_progress(std::string_view label, double done, double total,
                            std::string_view unit, double elapsed_s, bool show_rate,
                            std::string_view extra, std::size_t width);
// Seconds as "M:SS" or "H:MM:SS"; "--:--" if negative or not finite.
std::string format_eta(double seconds);

class ProgressBar {
 public:
  // Enabled only if stderr is a terminal (pass `enabled` to force either way).
  ProgressBar(std::string label, double total, std::string unit, bool show_rate = true);
  ProgressBar(std::string label, double total, std::string unit, bool show_rate, bool enabled);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  bool enabled() const noexcept { return enabled_; }
  // Redraws if at least 100 ms passed since the last redraw (always at done >= total).
  void update(double done, std::string_view extra = {});
  // Clears the line (once; the destructor calls it too).
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  double total_;
  std::string unit_;
  bool show_rate_;
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_{};
};

}  // namespace kelvin::tools::cli
