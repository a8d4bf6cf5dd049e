// What every p-bit job owns (parallel tempering, plain Gibbs, denoising chains): the total
// deadline, the wall clock and the link's byte count at the start, and at the end the shared
// summary block (job_summary.hpp) with the p-bit energy ledger. The p-bit counterpart of the
// resonator jobs' BoardJob (runtime/src/board_job.hpp).
//
// Thread contract: a PbitJob and its board are used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>

#include "kelvin/common/deadline.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/runtime/energy.hpp"
#include "kelvin/runtime/job_summary.hpp"

namespace kelvin::runtime::detail {

class PbitJob {
 public:
  PbitJob(driver::PbitBoard& board, std::chrono::milliseconds timeout)
      : board_(board),
        wall_start_(std::chrono::steady_clock::now()),
        link_bytes_start_(link_bytes()),
        deadline_(common::Deadline::after(timeout)) {}

  common::Deadline deadline() const noexcept { return deadline_; }

  // The shared block: serial, cells, `sweeps` at the board's nominal sweep rate, wall time, and
  // the ledger of these node updates, codes written, values read and host FLOPs with the link
  // bytes since the start (work.io_bytes is filled in here).
  void finish(JobSummary& s, std::uint64_t sweeps, PbitWork work, double host_flops) const {
    const driver::DeviceDescription& d = board_.description();
    const driver::PbitDescription& p = board_.pbit();
    s.serial = d.serial;
    s.cells = d.cells;
    s.device_time_s = p.sweep_rate_hz > 0.0 ? static_cast<double>(sweeps) / p.sweep_rate_hz : 0.0;
    work.io_bytes = link_bytes() - link_bytes_start_;
    s.energy = make_pbit_ledger(work);
    s.energy.host_flops = host_flops;
    s.energy.host_j = EnergyModel{}.host_per_flop * host_flops;
    s.wall_time_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
  }
  // The same with a GPU comparison that does every board node update (reading `degree`
  // couplings each): for jobs whose program has no smaller model behind it.
  void finish(JobSummary& s, std::uint64_t sweeps, std::uint64_t node_updates,
              std::uint64_t codes_written, std::uint64_t values_read, double host_flops) const {
    finish(s, sweeps,
           {node_updates, codes_written, values_read, 0, node_updates,
            node_updates * board_.pbit().degree},
           host_flops);
  }

 private:
  std::uint64_t link_bytes() const {
    const auto stats = board_.device().stats();
    return stats.bytes_sent + stats.bytes_received;
  }

  driver::PbitBoard& board_;
  std::chrono::steady_clock::time_point wall_start_;
  std::uint64_t link_bytes_start_;
  common::Deadline deadline_;
};

}  // namespace kelvin::runtime::detail
