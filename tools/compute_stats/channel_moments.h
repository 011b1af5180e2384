// Exact per-channel pixel moments: integer sums of 8-bit values and of their squares, so that
// the result does not depend on the order in which images (or threads) are added.
#ifndef FORGE_TOOLS_COMPUTE_STATS_CHANNEL_MOMENTS_H_
#define FORGE_TOOLS_COMPUTE_STATS_CHANNEL_MOMENTS_H_

#include <array>
#include <cstdint>
#include <string>

#include "lib/image/image.h"

namespace forge {

class ChannelMoments {
 public:
  // Adds every pixel of `image` (RGB).
  void Add(const Image& image);
  // Adds `other`'s pixels to this one's.
  void Merge(const ChannelMoments& other);

  uint64_t pixels() const { return pixels_; }
  uint64_t sum(int channel) const { return sum_[channel]; }
  unsigned __int128 sum_of_squares(int channel) const { return sum_of_squares_[channel]; }

  // Mean of `channel` with values scaled to [0, 1]; 0 when no pixel was added.
  double Mean(int channel) const;
  // Population standard deviation of `channel` in [0, 1] units, computed from the exact
  // integer sums (no cancellation); 0 when no pixel was added.
  double Std(int channel) const;

 private:
  uint64_t pixels_ = 0;
  std::array<uint64_t, 3> sum_{};
  std::array<unsigned __int128, 3> sum_of_squares_{};
};

// Decimal digits of `value`.
std::string Uint128ToString(unsigned __int128 value);

}  // namespace forge

#endif  // FORGE_TOOLS_COMPUTE_STATS_CHANNEL_MOMENTS_H_
