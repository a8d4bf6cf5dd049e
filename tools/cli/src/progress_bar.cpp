// The CLI's progress bar (progress_bar.hpp).
#include "progress_bar.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace kelvin::tools::cli {

namespace {

constexpr auto kMinRedraw = std::chrono::milliseconds(100);  // at most 10 redraws a second

std::size_t terminal_width() {
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  return 80;
}

std::string count_text(double v) {
  return v == std::floor(v) && std::abs(v) < 1e15 ? fmt::format("{:.0f}", v)
                                                  : fmt::format("{:.3g}", v);
}

}  // namespace

std::string format_eta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0.0)
    return "--:--";
  const auto s = static_cast<long long>(std::llround(seconds));
  if (s >= 3600)
    return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string format_progress(std::string_view label, double done, double total,
                            std::string_view unit, double elapsed_s, bool show_rate,
                            std::string_view extra, std::size_t width) {
  const double fraction = total > 0.0 ? std::clamp(done / total, 0.0, 1.0) : 0.0;
  const bool have_rate = done > 0.0 && elapsed_s > 0.0;
  const double rate = have_rate ? done / elapsed_s : 0.0;
  const std::string rate_text =
      !show_rate ? std::string()
                 : fmt::format("  {} {}/s", have_rate ? fmt::format("{:.3g}", rate) : "-", unit);
  const std::string eta = format_eta(have_rate ? (total - done) / rate : -1.0);
  std::string tail = fmt::format(" {:3.0f}%  {}/{} {}{}  ETA {}", fraction * 100.0,
                                 count_text(done), count_text(total), unit, rate_text, eta);
  if (!extra.empty())
    tail += fmt::format("  {}", extra);
  const std::size_t fixed = label.size() + 3 + tail.size();  // "label [" ... "]"
  const std::size_t bar = width > fixed + 10 ? width - fixed : 10;
  const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(bar));
  return fmt::format("{} [{}{}]{}", label, std::string(filled, '#'), std::string(bar - filled, '.'),
                     tail);
}

ProgressBar::ProgressBar(std::string label, double total, std::string unit, bool show_rate)
    : ProgressBar(std::move(label), total, std::move(unit), show_rate, isatty(STDERR_FILENO) != 0) {
}

ProgressBar::ProgressBar(std::string label, double total, std::string unit, bool show_rate,
                         bool enabled)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      show_rate_(show_rate),
      enabled_(enabled) {}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::update(double done, std::string_view extra) {
  if (!enabled_)
    return;
  const auto now = Clock::now();
  if (drawn_ && now - last_draw_ < kMinRedraw && done < total_)
    return;
  last_draw_ = now;
  drawn_ = true;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const std::size_t width = terminal_width();
  const std::string line = format_progress(label_, done, total_, unit_, elapsed, show_rate_, extra,
                                           width > 1 ? width - 1 : width);
  std::fprintf(stderr, "\r%s\x1b[K", line.c_str());  // \x1b[K: erase the rest of the line
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!enabled_ || !drawn_)
    return;
  std::fprintf(stderr, "\r\x1b[K");
  std::fflush(stderr);
  drawn_ = false;
  enabled_ = false;
}

}  // namespace kelvin::tools::cli
