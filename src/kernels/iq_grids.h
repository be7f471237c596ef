// The i-quants' constant tables: grids of 8 (or 4) magnitudes per index, the even-parity sign
// bytes of the 7-bit sign indices, and IQ4's non-linear 16 levels (iq_grids.cpp says how).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace dawn {

// Byte j of an entry is element j (IQ2: 8, 25 or 43; IQ1: int8 -1, 0 or +1).
extern const std::array<uint64_t, 256> kIq2xxsGrid;
extern const std::array<uint64_t, 512> kIq2xsGrid;
extern const std::array<uint64_t, 1024> kIq2sGrid;
extern const std::array<uint64_t, 2048> kIq1sGrid;
// Four magnitudes per entry (IQ3_XXS: 4..62; IQ3_S: odd 1..15).
extern const std::array<uint32_t, 256> kIq3xxsGrid;
extern const std::array<uint32_t, 512> kIq3sGrid;
// Sign byte of a 7-bit index: bit j set = element j negative; bit 7 makes the count even.
extern const std::array<uint8_t, 128> kSignsIq2xs;
extern const std::array<int8_t, 16> kValuesIq4nl;

inline int grid_byte(uint64_t e, int j) { return int((e >> (8 * j)) & 0xff); }
inline int grid_byte(uint32_t e, int j) { return int((e >> (8 * j)) & 0xff); }
inline int grid_int8(uint64_t e, int j) { return int(int8_t((e >> (8 * j)) & 0xff)); }

}  // namespace dawn
