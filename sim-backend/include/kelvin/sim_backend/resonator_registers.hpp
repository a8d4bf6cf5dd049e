// Register map and numeric specification of the emulated resonator SPU board ("overdamped-ou").
// Every number the firmware reports in DeviceInfo, or applies to a request, is defined here.
//
// Thread contract: compile-time constants and pure constexpr functions; safe from any thread.
//
// ---------------------------------------------------------------------------------------------
// The board
// ---------------------------------------------------------------------------------------------
// N overdamped linear cells (1 <= N <= 256, 8 by default) obey
//     dx = -(A x - b) dt + sqrt(2 D) dW,        x in volts, t in microseconds,
// with A symmetric (the coupling matrix), b the bias vector and D = 1/beta the diffusion.
//
// Coupling DAC  int16, codes [-32767, 32767] (-32768 is reserved: ERROR_CODE_OUT_OF_RANGE),
//               lsb 2^-14 per microsecond ("1/us"), offset 0: A_ij = code_ij * 2^-14.
//               Programmed as the upper triangle including the diagonal, row by row, N(N+1)/2
//               little-endian int16 codes; A is symmetric by construction. Both layouts are the
//               wire's (kelvin/firmware_protocol/wire_layout.hpp).
// Bias DAC      int16, codes [-32767, 32767] (-32768 reserved), lsb 2^-13 "V/us", offset 0:
//               b_i = code_i * 2^-13. All biases are 0 at power-up.
// Noise DAC     one uint16 code [0, 65535] for the whole board, lsb 2^-16 "V^2/us", offset 0:
//               D = code * 2^-16. Code 0 (no noise) at power-up.
// ADC           int16, codes [-32768, 32767], lsb 2^-14 "V", offset 0 (full scale +-2 V):
//               code = saturate(llround(x / 2^-14)), rounding half-way cases away from zero.
//               A cell clips when llround(x / lsb) lies outside [-32768, 32767]; a sample in
//               which at least one cell clips counts once in RunResults.clipped_samples.
// Analog rails  every state component is clamped to [-2.5 V, +2.5 V] after each integration
//               step. A programmed A that is not positive definite makes the state run away;
//               it then sits on the rails (ADC codes clipped) instead of overflowing.
// Clock         tick_rate_hz = 100e6, ticks_per_sample = 100: the ADC samples at 1 MS/s, so one
//               sample period is h = 1 us.
// Runs          StartRun.duration_ticks must be a positive multiple of ticks_per_sample
//               (ERROR_CODE_INVALID_ARGUMENT otherwise); sample_count = duration / 100 must not
//               exceed max_samples_per_run = 2^32, which keeps the int64 sums of products
//               (|code_i code_j| <= 2^30) from overflowing. For each sample, the board advances
//               the state by one sample period with the exact step below, then samples the ADC.
//               The device tick counter starts at 0 at power-up; a run that starts at tick T
//               takes its samples at ticks T + 100, T + 200, ..., T + duration, so its
//               first_tick is T + 100, and the counter then stands at T + duration. The global
//               sample index of the sample taken at tick t is t / ticks_per_sample (the first
//               sample after power-up has index 1). reset_state sets x = 0 before the run;
//               otherwise the state carries over from the previous run (warm start).
// Exact step    Not Euler: with Phi = expm(-A h), Gamma = int_0^h expm(-A s) ds, c = Gamma b
//               and Q = int_0^h expm(-A s) (2D) expm(-A^T s) ds (Van Loan's block exponential),
//                   x_{k+1} = clamp(Phi x_k + c + L xi_k),   L L^T = Q,   xi_k ~ N(0, I).
//               L comes from a Cholesky factor of Q, or, when Q is singular, from its symmetric
//               eigen-decomposition with negative eigenvalues clamped to 0. The sums in the step
//               are taken in a fixed order (row by row, column 0 first).
//               Overflow guard: if a single sample period of a runaway (non-positive-definite)
//               A would amplify the state by more than kMaxStepGain, the board splits the period
//               into m = 2^k equal substeps (the smallest k that keeps each substep's gain below
//               the bound), clamping to the rails after every substep. Boards with a stable A
//               (all practical cases) always use m = 1.
// Noise         Philox4x32-10 (Random123), key = {seed low 32 bits, seed high 32 bits}, counter
//               = {sample index low 32, sample index high 32, cell pair j, substep s (0 when
//               m = 1)}. The four output words w0..w3 of one call give, through Random123's
//               r123::boxmuller(w0 | w1 << 32, w2 | w3 << 32), the normals xi of cells 2j and
//               2j + 1 (a lone last cell uses the first one). The stream depends only on the
//               seed and the global sample index, so one run of 2n samples yields exactly the
//               ADC codes of two consecutive runs of n samples.
// Accumulation  per cell, the int64 sum of its ADC codes; with accumulate_products, the int64
//               sums of code_i * code_j over the upper triangle including the diagonal, row by
//               row; with record_samples, every ADC code (sample-major, little-endian int16).
//               At most max_record_samples(N) = min(65536, (max_frame_payload - 4096) / (2 N))
//               samples may be recorded (ERROR_CODE_RESOURCE_EXHAUSTED at StartRun otherwise);
//               a run whose RunResults could exceed max_frame_payload in the worst case (large N
//               recording with accumulate_products) is refused the same way.
// Result buffer results of up to 8 unread runs; starting a 9th evicts the oldest unread run
//               and increments overflow_count (cumulative since power-up, reported in every
//               RunResults). ReadResults returns and removes a run's results.
// Dynamics      chosen per run or stream (since protocol v3). DYNAMICS_OVERDAMPED is the
//               board above. DYNAMICS_RLC integrates the underdamped RLC cells of
//               rlc_circuit.hpp (Melanson et al., arXiv 2312.04836): the coupling codes set
//               the Maxwell capacitance matrix
//               C = A * 1e-9 F us (A = I/us gives 1 nF per cell, so RC = 1 us with R = 1 kOhm),
//               L = 100 uH per cell, the noise DAC sets kappa0 = D * 1e-12 A^2 s per unit, so
//               that the stationary voltage covariance kappa0 r C^-1 equals D A^-1 as in the
//               overdamped mode, and each bias code injects b * 1 mA into its cell. The state
//               is z = [v; i] (2N: capacitor voltages, then inductor currents); the exact step
//               of the 2N-dimensional SDE (Van Loan, over h = 1 us) is taken like the
//               overdamped one, with the noise normals of "cells" 0..2N-1 from the same stream;
//               the rails clamp the voltages only, and the ADC reads the voltages. The inductors
//               short DC, so the stationary mean voltage is 0 whatever b is: RLC runs are for
//               second moments (inversion, Gaussian sampling). A must be positive definite
//               (C is a capacitance matrix): StartRun refuses it otherwise. Overdamped runs
//               disconnect the inductors: their currents are set to 0.
// Quartic DAC   (v3) uint16 code per cell, lsb 2^-12 "1/(V^2 us)": J4_i = code * 2^-12, adding
//               + 4 J4 x^3 to the overdamped drift (potential term J4 x^4; Whitelam, PRL 136,
//               037101). While any J4 != 0, an overdamped sample period is integrated with
//               kQuarticSubsteps = 16 Strang-split substeps (quartic_stepper.hpp); noise substep
//               index s = 0..15. RLC runs refuse J4 != 0.
// Decimation    (v3) StartRun/StartStream.decimation = K in [1, 65536] (0 means 1): one output
//               sample per K ADC samples, either the last of them or (average) the mean of the
//               K codes per cell, rounded half away from zero. duration_ticks must be a
//               multiple of 100 K; sums, products and records hold output samples; an output
//               sample counts as clipped if any of its ADC samples clipped.
// Streaming     (v3) StartStream runs the board free, paced by the device clock (the emulator
//               follows the host's steady clock: one ADC sample per microsecond), into a ring
//               buffer of ring_capacity_samples output samples (default 4 MiB of codes:
//               2^21 / N samples). When the host does not read in time, the oldest unread
//               samples are overwritten and counted in lost_samples; each such episode counts
//               one overrun. The emulator computes due samples when a request arrives; it
//               spends at most 100 ms per request doing so, and if that does not suffice
//               (large boards are slower than real time) its clock falls behind the wall clock,
//               reported as clock_slip_us: those samples are late, never lost.
//               (v6) ReadStream.from_sequence makes reads resumable: samples sent but not
//               acknowledged stay in the ring until a later from_sequence passes them
//               (SampleRing::read_from), so a lost reply can be read again.
// Couplings     (v3) a board is built `signed` (any off-diagonal sign) or `capacitive`: then an
//               off-diagonal code > 0 is refused (ERROR_CODE_OUT_OF_RANGE), as coupling
//               capacitors only realize A_ij <= 0.
// Imperfections (v3) per-serial flaws (board_imperfections.hpp), when the board is built with
//               them: with c_i, n_i, r_i the capacitance, noise and resistance scales, g the
//               coupling-DAC gain and (o_i, a_i) the ADC offset and gain,
//                 overdamped: dx = -diag(1/c) (g A x - b + 4 J4 x^3) dt
//                                  + sqrt(2D) diag(n / c) dW
//                 RLC:        C = g A * 1e-9 with C_ii scaled by c_i, R_i = r_i R,
//                             kappa0_i = n_i^2 kappa0
//                 ADC:        code = saturate(llround(a_i x_i / lsb + o_i)).
//               An ideal board (the default) has c = n = r = a = g = 1, o = 0.
// Timed start   (v5) StartStream.start_tick = T > 0: acquisition begins at device tick T, the
//               first output sample has tick T + ticks_per_output_sample. The board's clock is
//               its tick counter, which runs only while the board integrates (runs, streams),
//               so T is compared with it: T below it is refused with ERROR_CODE_LATE_COMMAND;
//               T must be a multiple of 100 and at most kMaxStartAheadTicks (60 s) ahead
//               (INVALID_ARGUMENT). The emulator maps T onto its steady clock at 10 ns a tick.
// Identity      family BOARD_FAMILY_RESONATOR, firmware "kelvin-sim 0.2.0", kProtocolVersion,
//               capabilities SECOND_MOMENTS | SAMPLE_RECORD | STATE_RESET | RLC_DYNAMICS |
//               QUARTIC | DECIMATION | STREAMING | TIMED_START | RESUMABLE_READ,
//               max_frame_payload = kelvin::firmware_protocol::kMaxFramePayload (1 MiB).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kelvin/firmware_protocol/framing.hpp"

namespace kelvin::sim_backend::resonator {

// Identity.
inline constexpr std::string_view kModel = "overdamped-ou";
inline constexpr std::string_view kFirmwareVersion = "kelvin-sim 0.2.0";

// Cells.
inline constexpr std::uint32_t kMinCells = 1;
inline constexpr std::uint32_t kMaxCells = 256;
inline constexpr std::uint32_t kDefaultCells = 8;

// Coupling DAC: A_ij = code * lsb, in 1/us.
inline constexpr std::uint32_t kCouplingBits = 16;
inline constexpr std::int32_t kCouplingMinCode = -32767;
inline constexpr std::int32_t kCouplingMaxCode = 32767;
inline constexpr double kCouplingLsb = 1.0 / 16384.0;  // 2^-14 per microsecond
inline constexpr std::string_view kCouplingUnit = "1/us";

// Bias DAC: b_i = code * lsb, in V/us.
inline constexpr std::uint32_t kBiasBits = 16;
inline constexpr std::int32_t kBiasMinCode = -32767;
inline constexpr std::int32_t kBiasMaxCode = 32767;
inline constexpr double kBiasLsb = 1.0 / 8192.0;  // 2^-13 V/us
inline constexpr std::string_view kBiasUnit = "V/us";

// int16 code that both signed DACs reserve (outside their ranges).
inline constexpr std::int32_t kReservedDacCode = -32768;

// Noise DAC: D = code * lsb, in V^2/us.
inline constexpr std::uint32_t kNoiseBits = 16;
inline constexpr std::uint32_t kNoiseMinCode = 0;
inline constexpr std::uint32_t kNoiseMaxCode = 65535;
inline constexpr double kNoiseLsb = 1.0 / 65536.0;  // 2^-16 V^2/us
inline constexpr std::string_view kNoiseUnit = "V^2/us";

// ADC: x = code * lsb, in V.
inline constexpr std::uint32_t kAdcBits = 16;
inline constexpr std::int32_t kAdcMinCode = -32768;
inline constexpr std::int32_t kAdcMaxCode = 32767;
inline constexpr double kAdcLsb = 1.0 / 16384.0;  // 2^-14 V
inline constexpr std::string_view kAdcUnit = "V";

// Analog rails: |x_i| <= 2.5 V after every step.
inline constexpr double kRailVolts = 2.5;

// Clock.
inline constexpr double kTickRateHz = 100e6;
inline constexpr std::uint32_t kTicksPerSample = 100;
inline constexpr double kSamplePeriodUs = 1.0;  // h = ticks_per_sample / tick_rate_hz

// Runs and results.
inline constexpr std::uint64_t kMaxSamplesPerRun = std::uint64_t{1} << 32;
inline constexpr std::size_t kResultSlots = 8;
inline constexpr std::size_t kMaxFramePayload = kelvin::firmware_protocol::kMaxFramePayload;
inline constexpr std::size_t kRecordHeadroomBytes = 4096;
inline constexpr std::uint32_t kRecordSampleCap = 65536;

// Largest gain of one integration substep before the overflow guard splits the sample period.
inline constexpr double kMaxStepGain = 1e12;

// Quartic DAC: J4_i = code * lsb, in 1/(V^2 us).
inline constexpr std::uint32_t kQuarticBits = 16;
inline constexpr std::uint32_t kQuarticMinCode = 0;
inline constexpr std::uint32_t kQuarticMaxCode = 65535;
inline constexpr double kQuarticLsb = 1.0 / 4096.0;  // 2^-12 per V^2 us
inline constexpr std::string_view kQuarticUnit = "1/(V^2 us)";
inline constexpr std::uint32_t kQuarticSubsteps = 16;

// Decimation.
inline constexpr std::uint32_t kMaxDecimation = 65536;

// RLC dynamics: SI values per unit of the registers (see "Dynamics" above).
inline constexpr double kRlcResistanceOhm = 1.0e3;
inline constexpr double kRlcInductanceHenry = 1.0e-4;
inline constexpr double kRlcCapacitancePerUnit = 1.0e-9;      // F per 1/us of A
inline constexpr double kRlcNoiseIntensityPerUnit = 1.0e-12;  // A^2 s per V^2/us of D
inline constexpr double kRlcBiasCurrentPerUnit = 1.0e-3;      // A per V/us of b
inline constexpr double kSamplePeriodSeconds = 1.0e-6;

// Streaming: default ring of 4 MiB of int16 codes; at most 100 ms of catch-up per request.
inline constexpr std::size_t kDefaultRingBytes = std::size_t{4} << 20;
inline constexpr double kStreamCatchUpBudgetSeconds = 0.1;

// Capabilities (wire Capability bits): SECOND_MOMENTS | SAMPLE_RECORD | STATE_RESET |
// RLC_DYNAMICS | QUARTIC | DECIMATION | STREAMING | TIMED_START | RESUMABLE_READ.
inline constexpr std::uint64_t kCapabilities = 1u | 2u | 4u | 8u | 16u | 32u | 64u | 256u | 512u;
// Furthest a timed stream start may lie ahead of the board's clock: 60 s of ticks.
inline constexpr std::uint64_t kMaxStartAheadTicks = 6'000'000'000ULL;

// Default ring capacity, in samples of `cells` codes.
constexpr std::uint64_t default_ring_samples(std::uint32_t cells) {
  return kDefaultRingBytes / (2 * std::uint64_t{cells});
}

// Largest StartRun.record_samples run, in samples, for a board of `cells` cells.
constexpr std::uint32_t max_record_samples(std::uint32_t cells) {
  const std::size_t by_frame = (kMaxFramePayload - kRecordHeadroomBytes) / (2 * std::size_t{cells});
  return static_cast<std::uint32_t>(std::min<std::size_t>(kRecordSampleCap, by_frame));
}

static_assert(max_record_samples(8) == 65280);
static_assert(max_record_samples(1) == 65536);

}  // namespace kelvin::sim_backend::resonator
