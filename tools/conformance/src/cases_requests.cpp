// Resonator-board requests: register writes, their size and range errors, and runs with their
// results.
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "case_lists.hpp"
#include "case_support.hpp"

namespace kelvin::tools::conformance::detail {
namespace {

std::string le16(std::size_t count, std::int32_t code) {
  std::string bytes;
  for (std::size_t i = 0; i < count; ++i) {
    bytes.push_back(static_cast<char>(code & 0xff));
    bytes.push_back(static_cast<char>((code >> 8) & 0xff));
  }
  return bytes;
}

Envelope biases(std::uint32_t cells, std::size_t count, std::int32_t code) {
  Envelope e;
  e.mutable_program_biases()->set_cells(cells);
  e.mutable_program_biases()->set_codes_le16(le16(count, code));
  return e;
}

Envelope start_run(std::uint64_t ticks, bool record) {
  Envelope e;
  e.mutable_start_run()->set_duration_ticks(ticks);
  e.mutable_start_run()->set_reset_state(true);
  e.mutable_start_run()->set_accumulate_products(true);
  e.mutable_start_run()->set_record_samples(record);
  return e;
}

Envelope read_results(std::uint64_t run_id) {
  Envelope e;
  e.mutable_read_results()->set_run_id(run_id);
  return e;
}

void registers_acknowledged(const CaseContext& context) {
  Session s = open_session(context);
  require_resonator(s);
  program(s);  // every write must be acknowledged
}

void wrong_sizes(const CaseContext& context) {
  Session s = open_session(context);
  require_resonator(s);
  const std::uint32_t n = s.info.cell_count();
  expect_error(exchange(*s.device, biases(n + 1, n + 1, 0)), wire::ERROR_CODE_INVALID_ARGUMENT,
               fmt::format("ProgramBiases for {} cells on a board of {}", n + 1, n));
  expect_error(exchange(*s.device, biases(n, n - 1, 0)), wire::ERROR_CODE_INVALID_ARGUMENT,
               fmt::format("ProgramBiases with {} codes for {} cells", n - 1, n));
  Envelope couplings;
  couplings.mutable_program_couplings()->set_cells(n);
  couplings.mutable_program_couplings()->set_upper_codes_le16(le16(n, 0));  // not n(n+1)/2
  expect_error(exchange(*s.device, couplings), wire::ERROR_CODE_INVALID_ARGUMENT,
               "ProgramCouplings with N codes instead of N(N+1)/2");
  program(s);
  const std::uint64_t tps = s.info.ticks_per_sample();
  if (tps > 1) {
    expect_error(exchange(*s.device, start_run(1000 * tps + 1, false)),
                 wire::ERROR_CODE_INVALID_ARGUMENT,
                 "a StartRun duration that is not a multiple of ticks_per_sample");
  }
}

void out_of_range(const CaseContext& context) {
  Session s = open_session(context);
  require_resonator(s);
  program(s);
  const std::uint32_t n = s.info.cell_count();
  const auto& bias = s.info.bias_dac();
  bool tried = false;
  if (bias.min_code() > -32768) {
    const auto code = static_cast<std::int32_t>(bias.min_code() - 1);
    expect_error(exchange(*s.device, biases(n, n, code)), wire::ERROR_CODE_OUT_OF_RANGE,
                 fmt::format("bias code {} is below bias_dac.min_code {}", code, bias.min_code()));
    tried = true;
  }
  const auto& noise = s.info.noise_dac();
  if (noise.max_code() < UINT32_MAX) {
    Envelope e;
    e.mutable_set_noise()->set_code(static_cast<std::uint32_t>(noise.max_code() + 1));
    expect_error(exchange(*s.device, e), wire::ERROR_CODE_OUT_OF_RANGE,
                 fmt::format("noise code {} is above noise_dac.max_code {}", noise.max_code() + 1,
                             noise.max_code()));
    tried = true;
  }
  if (!tried)
    throw CaseSkipped("the bias and noise DACs take every code their fields can carry");
}

void run_and_results(const CaseContext& context) {
  Session s = open_session(context);
  require_resonator(s);
  program(s);
  constexpr std::uint64_t kSamples = 1000;
  const std::uint32_t n = s.info.cell_count();
  const Exchange started =
      exchange(*s.device, start_run(kSamples * s.info.ticks_per_sample(), true));
  const auto& ticket = expect_reply(started, Envelope::kRunStarted, "RunStarted").run_started();
  check(ticket.sample_count() == kSamples, fmt::format("sample_count {}", kSamples), started);
  driver::RequestOptions wait;
  wait.service_time = std::chrono::milliseconds(50);
  const Exchange read =
      exchange(*s.device, read_results(ticket.run_id()), std::chrono::seconds(10), wait);
  const auto& r = expect_reply(read, Envelope::kRunResults, "RunResults").run_results();
  check(r.run_id() == ticket.run_id(), fmt::format("run_id {}", ticket.run_id()), read);
  check(r.first_tick() == ticket.first_tick(),
        fmt::format("first_tick {} as RunStarted said", ticket.first_tick()), read);
  check(r.sample_count() == kSamples && r.cells() == n,
        fmt::format("{} samples of {} cells", kSamples, n), read);
  check(r.sums().size() == static_cast<int>(n), fmt::format("{} sums", n), read);
  check(r.product_sums().size() == static_cast<int>(n * (n + 1) / 2),
        fmt::format("{} product sums (upper triangle)", n * (n + 1) / 2), read);
  check(r.samples_le16().size() == kSamples * n * 2,
        fmt::format("{} bytes of recorded samples", kSamples * n * 2), read);
  expect_error(exchange(*s.device, read_results(ticket.run_id())), wire::ERROR_CODE_UNKNOWN_RUN,
               "the results were read already");
  expect_error(exchange(*s.device, read_results(ticket.run_id() + 1000)),
               wire::ERROR_CODE_UNKNOWN_RUN, "no such run was started");
}

}  // namespace

std::vector<Case> request_cases() {
  return {
      {"requests.registers_are_acknowledged",
       "ProgramCouplings, ProgramBiases and SetNoise with valid codes are acknowledged",
       registers_acknowledged},
      {"requests.wrong_sizes_are_refused",
       "wrong cell counts, code counts and run durations are INVALID_ARGUMENT", wrong_sizes},
      {"requests.out_of_range_is_refused",
       "a bias or noise code outside its DAC's range is OUT_OF_RANGE", out_of_range},
      {"runs.results_match_the_ticket",
       "a run's results match its RunStarted; a second read is UNKNOWN_RUN", run_and_results},
  };
}

}  // namespace kelvin::tools::conformance::detail
