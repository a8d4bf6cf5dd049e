// The resonator board's integrators, one per kind of dynamics (resonator_registers.hpp, "Exact
// step", "Dynamics", "Quartic DAC", "Imperfections"):
//   - overdamped, linear: the exact discretization of dx = diag(1/c) (-g A x + b) dt +
//     sqrt(2D) diag(n/c) dW over one sample period, split into 2^k substeps by the overflow guard;
//   - RLC: the exact discretization of the 2N-dimensional [v; i] circuit (rlc_circuit.hpp);
//   - overdamped with J4 != 0: QuarticStepper (quartic_stepper.hpp).
// The linear steps are discretized at unit noise and without input when the couplings change, so
// that a bias or noise write only redoes their constant offset (Gamma u) or noise factor
// (sqrt(D) L), not the matrix exponentials. The RLC and quartic steps are prepared on demand, when
// a run or stream first needs them after a change, so that a board that never runs them never
// pays for their set-up.
//
// Bit-identical output: the hot loop (linear_kernel.hpp) takes each row's sums column 0 first,
// starting at 0.0, and the library is compiled with -ffp-contract=off (see
// resonator_registers.hpp).
//
// Thread contract: not thread-safe; owned and used by one board model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "kelvin/sim_backend/board_imperfections.hpp"
#include "kelvin/sim_backend/exact_discretization.hpp"
#include "kelvin/sim_backend/gaussian_stream.hpp"
#include "kelvin/sim_backend/linear_kernel.hpp"
#include "kelvin/sim_backend/resonator_register_file.hpp"

namespace spdlog {
class logger;
}

namespace kelvin::sim_backend {

class QuarticStepper;

// The dynamics of a run or stream (wire Dynamics).
enum class Dynamics { kOverdamped, kRlc };

// One discretized linear step (n-dimensional overdamped or 2n-dimensional RLC), with copies of
// its matrices in the hot loop's panel layout (linear_kernel.hpp).
struct LinearStep {
  std::size_t dim = 0;  // n (overdamped) or 2n (RLC)
  std::uint32_t substeps = 1;
  Eigen::MatrixXd gamma;        // int_0^tau expm(F s) ds
  Eigen::MatrixXd input_map;    // maps b (V/us) to the drift's constant input
  Eigen::MatrixXd unit_factor;  // L1, L1 L1^T = Q at unit noise
  FactorMethod factor_method = FactorMethod::kCholesky;
  PanelMatrix phi;             // expm(F tau)
  std::vector<double> offset;  // Gamma u, padded to phi.padded_rows() with zeros
  PanelMatrix factor;          // sqrt(D) L1 (RLC) or sqrt(2D) L1 (overdamped)
  std::vector<double> lo, hi;  // the rails of each row (+-inf for the currents), padded
  bool noisy = false;
  bool ready = false;
};

class ResonatorSteppers {
 public:
  // No step is ready until install_overdamped().
  ResonatorSteppers(std::uint32_t cells, const BoardImperfections& flaws);
  ~ResonatorSteppers();
  ResonatorSteppers(const ResonatorSteppers&) = delete;
  ResonatorSteppers& operator=(const ResonatorSteppers&) = delete;

  // The overdamped step of coupling matrix A, at unit noise and without input, with the
  // overflow guard; changes nothing. Throws std::runtime_error if even 2^20 substeps do not tame
  // a runaway A.
  LinearStep discretize_overdamped(const Eigen::MatrixXd& coupling) const;
  // Installs the overdamped step of newly programmed couplings (from discretize_overdamped) and
  // drops the RLC and quartic steps of the old ones; sets its rails and applies the registers' b
  // and D.
  void install_overdamped(LinearStep step, const ResonatorRegisters& registers);

  // After a bias or noise write: the ready steps take the registers' b, or D.
  void update_input(const ResonatorRegisters& registers);
  void update_noise(const ResonatorRegisters& registers);
  // After a J4 write: the quartic stepper is rebuilt when next needed.
  void drop_quartic() noexcept;

  // Readies the step `dynamics` needs with these registers: the RLC step (BoardError
  // INVALID_ARGUMENT if J4 != 0 or A is not positive definite), or the quartic stepper for
  // overdamped dynamics with J4 != 0. Requires installed couplings.
  void prepare(Dynamics dynamics, const ResonatorRegisters& registers);

  // Advances z = [v; i] (2n values) by one ADC sample period with the noise of global ADC sample
  // index `adc_index`, with the step prepare() readied. The rails clamp the voltages only.
  void step(Dynamics dynamics, std::span<double> z, std::uint64_t adc_index,
            const GaussianStream& noise);

  // Integration substeps per sample period of the overdamped step (1 unless the guard engaged).
  std::uint32_t overdamped_substeps() const noexcept { return overdamped_.substeps; }
  // Whether A, as the RLC cells' capacitance matrix (g A with C_ii scaled by c_i), is positive
  // definite: the condition for a running RLC stream to take newly programmed couplings.
  bool realizable_as_capacitance(const Eigen::MatrixXd& coupling) const;

 private:
  void prepare_rlc(const ResonatorRegisters& registers);
  void prepare_quartic(const ResonatorRegisters& registers);
  void advance_linear(const LinearStep& st, std::span<double> z, std::uint64_t adc_index,
                      const GaussianStream& noise);

  std::uint32_t cells_;
  BoardImperfections flaws_;
  std::shared_ptr<spdlog::logger> log_;
  Eigen::VectorXd inv_capacitance_scale_;  // 1 / c_i
  LinearStep overdamped_;
  LinearStep rlc_;
  std::unique_ptr<QuarticStepper> quartic_;
  // The unit steps of the last kCachedCouplings coupling matrices installed, with the quartic
  // stepper built for them and a J4: a host that alternates between a few matrices (quartic
  // generation's uncoupled and coupled phases, twice per generated sample) reuses them instead
  // of discretizing again. The same inputs give the same step, so results are bit-identical.
  struct CachedCoupling {
    Eigen::MatrixXd coupling;
    LinearStep overdamped;  // as discretize_overdamped() returned it
    Eigen::VectorXd j4;     // of `quartic`, when set
    std::shared_ptr<const QuarticStepper> quartic;
  };
  static constexpr std::size_t kCachedCouplings = 2;
  const CachedCoupling* cached(const Eigen::MatrixXd& coupling) const noexcept;
  std::vector<CachedCoupling> cache_;  // most recently installed last
  std::vector<double> next_, xi_;      // scratch of the linear step, 2n (next_: padded) each
};

}  // namespace kelvin::sim_backend
