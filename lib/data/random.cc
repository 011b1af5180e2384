#include "lib/data/random.h"

#include <algorithm>
#include <numeric>

namespace forge {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The first k positions of `indices` become a uniform sample without replacement, in random
// order (partial Fisher-Yates).
void ShufflePrefix(std::vector<size_t>& indices, size_t k, uint64_t seed) {
  std::mt19937_64 engine(seed);
  const size_t n = indices.size();
  for (size_t i = 0; i < k && i + 1 < n; ++i) {
    std::swap(indices[i], indices[i + UniformBelow(engine, n - i)]);
  }
}

}  // namespace

uint64_t UniformBelow(std::mt19937_64& engine, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t value;
  do {
    value = engine();
  } while (value >= limit);
  return value % bound;
}

std::vector<size_t> Permutation(size_t n, uint64_t seed) {
  std::vector<size_t> indices(n);
  std::iota(indices.begin(), indices.end(), 0);
  ShufflePrefix(indices, n, seed);
  return indices;
}

std::vector<size_t> SampleIndices(size_t n, size_t k, uint64_t seed) {
  std::vector<size_t> indices(n);
  std::iota(indices.begin(), indices.end(), 0);
  if (k >= n) return indices;
  ShufflePrefix(indices, k, seed);
  indices.resize(k);
  std::sort(indices.begin(), indices.end());
  return indices;
}

uint64_t MixSeed(uint64_t a, uint64_t b, uint64_t c) {
  return SplitMix64(SplitMix64(SplitMix64(a) ^ b) ^ c);
}

}  // namespace forge
