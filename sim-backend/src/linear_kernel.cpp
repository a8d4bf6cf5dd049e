#include "kelvin/sim_backend/linear_kernel.hpp"

#include <algorithm>

#include "isa_dispatch.hpp"

namespace kelvin::sim_backend {
namespace {

// Eight doubles; loads and stores through the unaligned, aliasing variant.
typedef double V8 __attribute__((vector_size(64)));
typedef double V8u __attribute__((vector_size(64), may_alias, aligned(8)));
constexpr std::size_t kLanes = 8;
static_assert(kPanelGroupRows == 4 * kLanes);

// acc[r] = sum over columns [begin, end) of panel column r times v[j], one column after the
// other, from 0.0.
#define KELVIN_PANEL_SUM(matrix, group, vec, acc)                               \
  do {                                                                          \
    const PanelMatrix& pm_ = (matrix);                                          \
    const double* base_ = pm_.data.data() + (group)*pm_.cols * kPanelGroupRows; \
    acc[0] = acc[1] = acc[2] = acc[3] = V8{};                                   \
    for (std::size_t j = pm_.col_begin[group]; j < pm_.col_end[group]; ++j) {   \
      const double s_ = (vec)[j];                                               \
      const double* col_ = base_ + j * kPanelGroupRows;                         \
      acc[0] += *reinterpret_cast<const V8u*>(col_) * s_;                       \
      acc[1] += *reinterpret_cast<const V8u*>(col_ + kLanes) * s_;              \
      acc[2] += *reinterpret_cast<const V8u*>(col_ + 2 * kLanes) * s_;          \
      acc[3] += *reinterpret_cast<const V8u*>(col_ + 3 * kLanes) * s_;          \
    }                                                                           \
  } while (false)

[[gnu::always_inline]] inline void apply_body(const LinearKernelArgs& a) {
  const std::size_t groups = a.phi->groups();
  for (std::size_t g = 0; g < groups; ++g) {
    V8 drift[4];
    KELVIN_PANEL_SUM(*a.phi, g, a.z, drift);
    V8 kick[4] = {};
    if (a.factor != nullptr)
      KELVIN_PANEL_SUM(*a.factor, g, a.xi, kick);
    for (std::size_t r = 0; r < 4; ++r) {
      const std::size_t row = g * kPanelGroupRows + r * kLanes;
      V8 v = drift[r] + *reinterpret_cast<const V8u*>(a.offset + row);
      if (a.factor != nullptr)
        v = v + kick[r];
      const V8 lo = *reinterpret_cast<const V8u*>(a.lo + row);
      const V8 hi = *reinterpret_cast<const V8u*>(a.hi + row);
      v = v < lo ? lo : v;  // std::clamp: (v < lo) ? lo : (hi < v) ? hi : v
      v = hi < v ? hi : v;
      *reinterpret_cast<V8u*>(a.next + row) = v;
    }
  }
}

#undef KELVIN_PANEL_SUM

void apply_generic(const LinearKernelArgs& a) {
  apply_body(a);
}

#if defined(__x86_64__) && defined(__GNUC__)
[[gnu::target("avx2")]] void apply_avx2(const LinearKernelArgs& a) {
  apply_body(a);
}
[[gnu::target("avx512f")]] void apply_avx512(const LinearKernelArgs& a) {
  apply_body(a);
}
#endif

}  // namespace

PanelMatrix to_panels(const Eigen::MatrixXd& m, bool trim_zero_columns) {
  PanelMatrix p;
  p.rows = static_cast<std::size_t>(m.rows());
  p.cols = static_cast<std::size_t>(m.cols());
  const std::size_t groups = (p.rows + kPanelGroupRows - 1) / kPanelGroupRows;
  p.data.assign(groups * p.cols * kPanelGroupRows, 0.0);
  p.col_begin.assign(groups, 0);
  p.col_end.assign(groups, p.cols);
  for (std::size_t g = 0; g < groups; ++g) {
    std::size_t first = p.cols;
    std::size_t last = 0;
    for (std::size_t j = 0; j < p.cols; ++j) {
      for (std::size_t r = 0; r < kPanelGroupRows; ++r) {
        const std::size_t i = g * kPanelGroupRows + r;
        if (i >= p.rows)
          break;
        const double v = m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
        p.data[(g * p.cols + j) * kPanelGroupRows + r] = v;
        if (v != 0.0) {
          first = std::min(first, j);
          last = j + 1;
        }
      }
    }
    if (trim_zero_columns) {
      p.col_begin[g] = first < last ? first : 0;
      p.col_end[g] = first < last ? last : 0;
    }
  }
  return p;
}

void apply_linear(const LinearKernelArgs& args) {
#if defined(__x86_64__) && defined(__GNUC__)
  switch (detail::best_isa()) {
    case detail::Isa::kAvx512:
      return apply_avx512(args);
    case detail::Isa::kAvx2:
      return apply_avx2(args);
    case detail::Isa::kGeneric:
      break;
  }
#endif
  apply_generic(args);
}

const char* linear_kernel_isa() noexcept {
  return detail::isa_name(detail::best_isa());
}

}  // namespace kelvin::sim_backend
