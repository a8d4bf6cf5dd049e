// Injected board defects for bring-up work: an emulated board built with broken parts, so that
// `kelvin selftest` (and any bring-up tool) can be shown to find them. Chosen by URI, for example
//   sim:resonator?cells=8&defect=stuck:3,open:1-2
//   sim:pbit?rows=8&cols=8&defect=noisy:5,bias_dead:9
// Kinds (C a cell or p-bit index, I-J a coupled pair; docs/boards.md, "Defects for bring-up"):
//   stuck:C      C's ADC (resonator) or read-out (p-bit) is stuck: the resonator cell always reads
//                kStuckAdcCode; the p-bit always reads (and drives its neighbours with) +1.
//   open:I-J     the coupling between I and J has no effect (resonator: A_IJ = A_JI = 0 whatever
//                the code; p-bit: the lattice edge I-J, which must exist, carries no weight).
//   noisy:C      C's noise is kDefectNoiseFactor (10) times nominal: a resonator cell's noise
//                amplitude (its variance 100x); a p-bit's input noise, which widens its sigmoid
//                10x: P(+1) = sigmoid(2 beta h / 10), so its response curve flattens.
//   offset:C     a large offset: kDefectAdcOffsetCodes ADC codes on a resonator cell; on a p-bit a
//                comparator offset of +kDefectSigmoidOffset in the sigmoid's argument:
//                P(+1) = sigmoid(2 beta h + 4), so at h = 0 it reads +1 98% of the time.
//   bias_dead:C  C's bias DAC ignores its code (acts as code 0).
// Several are combined with commas; a repeated item is kept once. A board without defects behaves
// bit for bit as before they existed.
//
// Thread contract: plain values and pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kelvin::sim_backend {

// The code a stuck resonator ADC reads (0x1234).
inline constexpr std::int16_t kStuckAdcCode = 0x1234;
// A noisy cell's noise amplitude, or a noisy p-bit's sigmoid width, relative to nominal.
inline constexpr double kDefectNoiseFactor = 10.0;
// The ADC offset of an offset:C resonator cell, in codes (about 62 mV).
inline constexpr double kDefectAdcOffsetCodes = 1024.0;
// The comparator offset of an offset:C p-bit, in the sigmoid's argument (2 beta h units).
inline constexpr double kDefectSigmoidOffset = 4.0;

struct BoardDefects {
  // Sorted, without repeats; pairs as (I, J) with I < J.
  std::vector<std::uint32_t> stuck;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> open;
  std::vector<std::uint32_t> noisy;
  std::vector<std::uint32_t> offset;
  std::vector<std::uint32_t> bias_dead;

  // True when no defect is configured.
  bool none() const noexcept;
  // Throws std::invalid_argument naming the item if a cell or p-bit index is >= `count` (`what`
  // names them: "cell", "p-bit").
  void check_indices(std::uint32_t count, std::string_view what) const;
  // Per index 0..count-1: whether it is in `list` (for the emulators' loops).
  static std::vector<bool> mask(const std::vector<std::uint32_t>& list, std::uint32_t count);
};

// Parses "stuck:3,open:1-2,noisy:0,offset:5,bias_dead:7". Throws std::invalid_argument naming
// the bad item (unknown kind, missing or malformed index, a pair I-I).
BoardDefects parse_defect_spec(std::string_view text);
// The canonical text of the defects (kinds in the order above, indices ascending), "none" if
// there are none.
std::string to_string(const BoardDefects& defects);

}  // namespace kelvin::sim_backend
