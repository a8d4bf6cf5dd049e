// The resonator SPU board's API: settings in codes, validated against the board's own
// DeviceDescription before anything is sent (sizes, code ranges, durations, capabilities). The
// wire mapping lives apart, in resonator_protocol (src/), as libsigrok separates api.c from
// protocol.c.
//
// Thread contract: a ResonatorBoard forwards to its Device, so its calls may come from several
// threads and are serialized per request; a sequence such as program -> run is not atomic, so
// a caller that shares one board between threads must hold its own lock around sequences.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kelvin/common/deadline.hpp"
#include "kelvin/driver/device.hpp"

namespace kelvin::driver {

// Symmetric coupling codes, stored as the upper triangle including the diagonal, row by row:
// the wire's order (kelvin/firmware_protocol/wire_layout.hpp), so upper() is sent as it is.
class SymmetricCodes {
 public:
  explicit SymmetricCodes(std::uint32_t n);
  std::uint32_t size() const noexcept { return n_; }
  std::int16_t get(std::uint32_t i, std::uint32_t j) const;
  void set(std::uint32_t i, std::uint32_t j, std::int16_t code);  // sets (i,j) and (j,i)
  std::span<const std::int16_t> upper() const noexcept { return upper_; }

 private:
  std::size_t index(std::uint32_t i, std::uint32_t j) const;
  std::uint32_t n_;
  std::vector<std::int16_t> upper_;
};

struct RunRequest {
  // Output samples to take (one per `decimation` ADC sample periods). Must be in
  // [1, max_samples_per_run].
  std::uint64_t samples = 0;
  // Start from x = 0 instead of where the previous run left the cells. Default: warm start.
  bool reset_state = false;
  // Also accumulate sums of products x_i x_j (needs CAPABILITY_SECOND_MOMENTS).
  bool accumulate_products = false;
  // Also return every raw ADC sample (needs CAPABILITY_SAMPLE_RECORD; samples <=
  // max_record_samples).
  bool record_samples = false;
  // Which dynamics to integrate (kRlc needs a board that lists it). Default: overdamped.
  Dynamics dynamics = Dynamics::kOverdamped;
  // ADC samples per output sample, 1 to the board's max_decimation (needs
  // CAPABILITY_DECIMATION above 1). Default 1: every ADC sample.
  std::uint32_t decimation = 1;
  // Output the rounded mean of each block of `decimation` ADC samples instead of its last.
  bool average = false;
};

// A free-running acquisition into the board's ring buffer (needs CAPABILITY_STREAMING).
struct StreamRequest {
  Dynamics dynamics = Dynamics::kOverdamped;
  std::uint32_t decimation = 1;  // as RunRequest::decimation
  bool average = false;          // as RunRequest::average
  bool reset_state = false;      // start from x = 0
  // Device tick at which acquisition begins (needs capability::kTimedStart); 0 (default): now.
  // A multiple of ticks_per_sample; a tick the board's clock has passed gives
  // Error(kLateCommand) and nothing starts.
  std::uint64_t start_tick = 0;
};

struct StreamTicket {
  std::uint64_t stream_id = 0;
  std::uint64_t first_tick = 0;  // device tick of the first output sample
  std::uint64_t ticks_per_output_sample = 0;
  std::uint64_t ring_capacity_samples = 0;
};

// One read from the ring, and the stream's counters after it. Counters are cumulative since the
// stream started: produced == first_sequence + sample_count + buffered, and every sample before
// first_sequence + sample_count was sent once or is counted in lost.
struct StreamChunk {
  std::uint64_t stream_id = 0;
  std::uint32_t cells = 0;
  std::uint64_t first_sequence = 0;  // stream index of the first sample here
  std::uint64_t first_tick = 0;
  std::uint64_t sample_count = 0;
  std::vector<std::int16_t> samples;  // sample-major ADC codes (convert with `adc`)
  std::uint64_t produced = 0;
  std::uint64_t lost = 0;             // overwritten in the ring before they were ever sent
  std::uint64_t overruns = 0;         // episodes of overwriting
  std::uint64_t clipped_samples = 0;  // here
  std::uint64_t buffered = 0;         // produced after this chunk's last sample
  bool running = false;
  double clock_slip_us = 0.0;  // emulated boards: device time behind the wall clock
  CodeScale adc;
};

struct RunTicket {
  std::uint64_t run_id = 0;
  std::uint64_t first_tick = 0;
  std::uint64_t sample_count = 0;
};

// What the board accumulated during one run, in raw ADC codes (convert with `adc`).
struct RunResult {
  std::uint64_t run_id = 0;
  std::uint32_t cells = 0;
  std::uint64_t first_tick = 0;
  std::uint64_t sample_count = 0;
  std::vector<std::int64_t> sums;          // per cell
  std::vector<std::int64_t> product_sums;  // upper-triangle order (wire_layout.hpp), if requested
  std::vector<std::int16_t> samples;       // sample-major, if recorded
  std::uint64_t clipped_samples = 0;       // samples with a cell at the ADC rails
  std::uint64_t overflow_count = 0;        // runs the board dropped unread (cumulative)
  CodeScale adc;

  // Mean of cell i in ADC codes and in physical units.
  double mean_code(std::uint32_t i) const;
  double mean_physical(std::uint32_t i) const { return adc.to_physical(mean_code(i)); }
  // Product sum for (i, j) in codes^2 (either order). Requires accumulate_products.
  std::int64_t product_sum(std::uint32_t i, std::uint32_t j) const;
};

// What the host has asked this board to do, counted as requests succeed (for energy ledgers):
// DAC codes written, ADC conversions (every ADC sample period of every cell, decimated or not)
// and cell-sample-periods of analog integration.
struct BoardActivity {
  std::uint64_t dac_codes = 0;
  std::uint64_t adc_conversions = 0;
  std::uint64_t cell_sample_periods = 0;

  BoardActivity operator-(const BoardActivity& earlier) const noexcept {
    return {dac_codes - earlier.dac_codes, adc_conversions - earlier.adc_conversions,
            cell_sample_periods - earlier.cell_sample_periods};
  }
};

class ResonatorBoard {
 public:
  // Throws Error(kNotSupported) if the device is not a resonator board.
  explicit ResonatorBoard(std::shared_ptr<Device> device);

  const DeviceDescription& description() const noexcept { return device_->description(); }
  std::uint32_t cells() const noexcept { return description().cells; }
  Device& device() noexcept { return *device_; }
  // Cumulative since this board object (or the one it was copied from) was made.
  BoardActivity activity() const noexcept;

  // Throws Error(kInvalidArgument) for a size mismatch, Error(kOutOfRange) for codes outside
  // the DAC's range, Error(kDevice) if the board refuses.
  void program_couplings(const SymmetricCodes& codes, common::Deadline deadline);
  void program_biases(std::span<const std::int16_t> codes, common::Deadline deadline);
  void set_noise(std::uint32_t code, common::Deadline deadline);
  // J4 codes per cell (needs CAPABILITY_QUARTIC); all 0 makes the cells linear again.
  void set_quartic(std::span<const std::uint16_t> codes, common::Deadline deadline);

  RunTicket start_run(const RunRequest& request, common::Deadline deadline);
  // Waits for the run's duration (at the board's tick rate) beyond a round trip before asking
  // again for a reply presumed lost.
  RunResult read_results(std::uint64_t run_id, common::Deadline deadline);
  // start_run + read_results within one deadline.
  RunResult run(const RunRequest& request, common::Deadline deadline);

  // Streams. start_stream fails with Error(kDevice) while a stream runs and Error(kLateCommand)
  // for a start_tick already passed; read_stream returns up to max_samples (0: as many as one
  // frame holds) of the oldest unsent samples, possibly none, and the board forgets them;
  // read_stream_from (needs capability::kResumableRead) acknowledges every sample before
  // from_sequence and returns up to max_samples from there (or from the oldest the ring still
  // holds), keeping them on the board until a later read acknowledges them, so that a read
  // whose reply was lost can be asked again; stop_stream ends acquisition (the ring stays
  // readable). Each is one request (Device::request: resent after a lost reply, the board
  // answering the repeat with the same samples); SampleStream passes resend = false because it
  // recovers and counts on its own.
  StreamTicket start_stream(const StreamRequest& request, common::Deadline deadline,
                            const RequestOptions& options = {});
  StreamChunk read_stream(std::uint32_t max_samples, common::Deadline deadline,
                          const RequestOptions& options = {});
  StreamChunk read_stream_from(std::uint64_t from_sequence, std::uint32_t max_samples,
                               common::Deadline deadline, const RequestOptions& options = {});
  void stop_stream(common::Deadline deadline, const RequestOptions& options = {});

 private:
  struct Counters;
  void count(std::uint64_t dac_codes, std::uint64_t sample_periods) noexcept;
  // Adds a stream read's samples to the energy ledger.
  StreamChunk counted(StreamChunk chunk) noexcept;

  std::shared_ptr<Device> device_;
  std::shared_ptr<Counters> counters_;
};

}  // namespace kelvin::driver
