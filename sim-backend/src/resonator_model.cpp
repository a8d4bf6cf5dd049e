// ResonatorModel's power-up and register writes: the wire mapping (resonator_wire_codes.hpp)
// turns the messages' bytes into codes, the register file (resonator_register_file.hpp) checks
// them and turns them into values, and the steppers (resonator_steppers.hpp) follow. Runs are in
// resonator_run.cpp, streams in resonator_stream.cpp.
#include "kelvin/sim_backend/resonator_model.hpp"

#include <utility>

#include <spdlog/logger.h>

#include "kelvin/common/logging.hpp"
#include "kelvin/firmware_protocol/wire_layout.hpp"
#include "kelvin/sim_backend/resonator_registers.hpp"
#include "resonator_wire_codes.hpp"

namespace kelvin::sim_backend {
namespace {

namespace reg = resonator;

const ResonatorConfig& validated(const ResonatorConfig& config) {
  config.validate();
  return config;
}

// The drawn flaws with the noise and ADC offset of noisy:C and offset:C defects.
BoardImperfections with_defects(BoardImperfections flaws, const BoardDefects& defects) {
  for (const std::uint32_t c : defects.noisy)
    flaws.noise_scale(static_cast<Eigen::Index>(c)) *= kDefectNoiseFactor;
  for (const std::uint32_t c : defects.offset)
    flaws.adc_offset_codes(static_cast<Eigen::Index>(c)) += kDefectAdcOffsetCodes;
  return flaws;
}

}  // namespace

ResonatorModel::ResonatorModel(const ResonatorConfig& config)
    : config_(validated(config)),
      noise_(config.seed),
      log_(common::logger("kelvin.sim")),
      flaws_(with_defects(
          draw_imperfections(config_.effective_serial(), config_.cells, config_.imperfections),
          config_.defects)),
      stuck_(config_.defects.stuck.empty()
                 ? std::vector<bool>{}
                 : BoardDefects::mask(config_.defects.stuck, config_.cells)),
      registers_(config_.cells),
      steppers_(config_.cells, flaws_),
      block_sums_(config_.cells, 0),
      adc_codes_(config_.cells, 0),
      z_(2 * std::size_t{config_.cells}, 0.0),
      results_(reg::kResultSlots),
      ring_(config.cells, config.effective_ring_samples()),
      clock_(config.clock ? config.clock : steady_board_clock()) {
  log_->debug("resonator board {} powered up: {} cells, seed {}, {} couplings, {} imperfections",
              config_.effective_serial(), config_.cells, config_.seed,
              config_.coupling_kind == CouplingKind::kCapacitive ? "capacitive" : "signed",
              config_.imperfections_name);
  if (!config_.defects.none())
    log_->info("resonator board {} has injected defects: {}", config_.effective_serial(),
               to_string(config_.defects));
}

ResonatorModel::~ResonatorModel() = default;

void ResonatorModel::program_couplings(std::uint32_t cells,
                                       std::span<const std::uint8_t> upper_codes_le16) {
  const std::uint32_t n = config_.cells;
  detail::check_cells("ProgramCouplings", cells, n);
  const std::vector<std::int16_t> codes =
      detail::signed_codes("ProgramCouplings.upper_codes_le16",
                           firmware_protocol::upper_triangle_size(n), upper_codes_le16);
  Eigen::MatrixXd a = coupling_matrix(n, codes, config_.coupling_kind);
  for (const auto& [i, j] : config_.defects.open) {  // open:I-J: the coupling has no effect
    a(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = 0.0;
    a(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(i)) = 0.0;
  }
  LinearStep step = steppers_.discretize_overdamped(a);
  // A running RLC stream would have to use this matrix as its capacitance matrix from the next
  // sample.
  if (stream_.running && stream_.request.dynamics == Dynamics::kRlc &&
      !steppers_.realizable_as_capacitance(a)) {
    throw BoardError(BoardErrorCode::kInvalidArgument,
                     "an RLC stream is running and this coupling matrix is not positive "
                     "definite, so it cannot be its capacitance matrix");
  }

  // Commit.
  const std::uint32_t substeps = step.substeps;
  const FactorMethod method = step.factor_method;
  registers_.coupling = std::move(a);
  registers_.programmed = true;
  steppers_.install_overdamped(std::move(step), registers_);
  log_->debug("couplings programmed: {} substep(s) per sample, noise factor by {}", substeps,
              method == FactorMethod::kCholesky ? "Cholesky" : "eigen-decomposition");
}

void ResonatorModel::program_biases(std::uint32_t cells, std::span<const std::uint8_t> codes_le16) {
  const std::uint32_t n = config_.cells;
  detail::check_cells("ProgramBiases", cells, n);
  const std::vector<std::int16_t> codes =
      detail::signed_codes("ProgramBiases.codes_le16", n, codes_le16);
  registers_.bias = bias_vector(codes);
  for (const std::uint32_t c : config_.defects.bias_dead)  // bias_dead:C acts as code 0
    registers_.bias(static_cast<Eigen::Index>(c)) = 0.0;
  steppers_.update_input(registers_);
}

void ResonatorModel::set_noise(std::uint32_t code) {
  registers_.noise_code = checked_noise_code(code);
  steppers_.update_noise(registers_);
}

void ResonatorModel::set_quartic(std::uint32_t cells, std::span<const std::uint8_t> codes_le16) {
  const std::uint32_t n = config_.cells;
  detail::check_cells("SetQuartic", cells, n);
  const std::vector<std::uint16_t> codes =
      detail::unsigned_codes("SetQuartic.codes_le16", n, codes_le16);
  Eigen::VectorXd j4 = quartic_vector(codes);
  if (stream_.running && stream_.request.dynamics == Dynamics::kRlc && j4.any()) {
    throw BoardError(BoardErrorCode::kInvalidArgument,
                     "an RLC stream is running: the quartic term applies to overdamped dynamics "
                     "only, so J4 must stay 0");
  }
  registers_.j4 = std::move(j4);
  steppers_.drop_quartic();
}

}  // namespace kelvin::sim_backend
