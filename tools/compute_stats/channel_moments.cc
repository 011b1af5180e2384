#include "tools/compute_stats/channel_moments.h"

#include <algorithm>
#include <cmath>

namespace forge {

void ChannelMoments::Add(const Image& image) {
  // Per-image sums fit in 64 bits for any image under 2^40 pixels.
  uint64_t sum[3] = {0, 0, 0};
  uint64_t squares[3] = {0, 0, 0};
  const uint8_t* p = image.pixels.data();
  const size_t count = static_cast<size_t>(image.width) * image.height;
  for (size_t i = 0; i < count; ++i, p += 3) {
    for (int c = 0; c < 3; ++c) {
      const uint32_t v = p[c];
      sum[c] += v;
      squares[c] += v * v;
    }
  }
  pixels_ += count;
  for (int c = 0; c < 3; ++c) {
    sum_[c] += sum[c];
    sum_of_squares_[c] += squares[c];
  }
}

void ChannelMoments::Merge(const ChannelMoments& other) {
  pixels_ += other.pixels_;
  for (int c = 0; c < 3; ++c) {
    sum_[c] += other.sum_[c];
    sum_of_squares_[c] += other.sum_of_squares_[c];
  }
}

double ChannelMoments::Mean(int channel) const {
  if (pixels_ == 0) return 0.0;
  return static_cast<double>(static_cast<long double>(sum_[channel]) /
                             (static_cast<long double>(pixels_) * 255.0L));
}

double ChannelMoments::Std(int channel) const {
  if (pixels_ == 0) return 0.0;
  // N^2 * 255^2 * variance = N * sum(v^2) - sum(v)^2, exact in 128 bits for any dataset whose
  // pixel count stays below about 2^45 per channel.
  const unsigned __int128 n = pixels_;
  const unsigned __int128 s = sum_[channel];
  const unsigned __int128 scaled = n * sum_of_squares_[channel] - s * s;
  const long double variance =
      static_cast<long double>(scaled) / (static_cast<long double>(pixels_) * pixels_ * 255.0L * 255.0L);
  return static_cast<double>(std::sqrt(std::max(variance, 0.0L)));
}

std::string Uint128ToString(unsigned __int128 value) {
  if (value == 0) return "0";
  std::string digits;
  while (value > 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  return std::string(digits.rbegin(), digits.rend());
}

}  // namespace forge
