// Deterministic random choices shared by the data tools: the same numbers on every platform and
// standard library (std:: distributions are implementation-defined, so they are not used).
#ifndef FORGE_LIB_DATA_RANDOM_H_
#define FORGE_LIB_DATA_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace forge {

// Uniform in [0, bound) (bound > 0), without modulo bias.
uint64_t UniformBelow(std::mt19937_64& engine, uint64_t bound);

// A uniformly random permutation of [0, n) determined by `seed`.
std::vector<size_t> Permutation(size_t n, uint64_t seed);

// `k` distinct indices drawn uniformly from [0, n) with `seed`, in increasing order; all of
// [0, n) when k >= n.
std::vector<size_t> SampleIndices(size_t n, size_t k, uint64_t seed);

// A 64-bit seed mixed from several values (e.g. seed, epoch, sample index) with splitmix64,
// so that nearby inputs give unrelated streams.
uint64_t MixSeed(uint64_t a, uint64_t b, uint64_t c = 0);

}  // namespace forge

#endif  // FORGE_LIB_DATA_RANDOM_H_
