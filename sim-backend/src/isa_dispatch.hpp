// Internal to kelvin_sim_backend: the widest vector instruction set this CPU runs, for the hot
// loops that are compiled once per set (linear_kernel.cpp, gaussian_stream.cpp) and must give
// the same bits on each (no FMA, element-wise IEEE operations only).
//
// Thread contract: best_isa() is safe from any thread (a function-local static).
#pragma once

namespace kelvin::sim_backend::detail {

enum class Isa { kGeneric, kAvx2, kAvx512 };

inline Isa detect_isa() noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2"))
    return Isa::kAvx2;
#endif
  return Isa::kGeneric;
}

inline Isa best_isa() noexcept {
  static const Isa isa = detect_isa();
  return isa;
}

inline const char* isa_name(Isa isa) noexcept {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512f";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kGeneric:
      break;
  }
#if defined(__x86_64__)
  return "sse2";
#else
  return "generic";
#endif
}

}  // namespace kelvin::sim_backend::detail
