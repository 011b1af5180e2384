#include "lib/data/random.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

namespace forge {
namespace {

TEST(PermutationTest, IsAPermutationAndDependsOnlyOnSeed) {
  std::vector<size_t> p = Permutation(1000, 5);
  std::vector<size_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(Permutation(1000, 5), p);
  EXPECT_NE(Permutation(1000, 6), p);
  EXPECT_TRUE(Permutation(0, 1).empty());
  EXPECT_EQ(Permutation(1, 1), std::vector<size_t>{0});
}

TEST(PermutationTest, PinnedValues) {
  // mt19937_64's output is fixed by the C++ standard and UniformBelow avoids std::
  // distributions, so these values hold on every platform; changing them reshuffles datasets.
  std::mt19937_64 first(0);
  EXPECT_EQ(first(), 2947667278772165694ull);
  EXPECT_EQ(Permutation(8, 0), (std::vector<size_t>{6, 4, 3, 0, 1, 7, 5, 2}));
  EXPECT_EQ(SampleIndices(20, 5, 3), (std::vector<size_t>{2, 7, 9, 15, 18}));
}

TEST(PermutationTest, EveryPositionUniform) {
  const size_t n = 5, trials = 20000;
  std::vector<std::vector<int>> counts(n, std::vector<int>(n));
  for (size_t seed = 0; seed < trials; ++seed) {
    std::vector<size_t> p = Permutation(n, seed);
    for (size_t i = 0; i < n; ++i) ++counts[i][p[i]];
  }
  for (size_t i = 0; i < n; ++i) {
    for (size_t v = 0; v < n; ++v) EXPECT_NEAR(counts[i][v], trials / n, 300) << i << " " << v;
  }
}

TEST(SampleIndicesTest, DistinctSortedDeterministic) {
  std::vector<size_t> sample = SampleIndices(1000, 100, 42);
  ASSERT_EQ(sample.size(), 100u);
  EXPECT_TRUE(std::is_sorted(sample.begin(), sample.end()));
  EXPECT_EQ(std::set<size_t>(sample.begin(), sample.end()).size(), 100u);
  EXPECT_LT(sample.back(), 1000u);
  EXPECT_EQ(SampleIndices(1000, 100, 42), sample);
  EXPECT_NE(SampleIndices(1000, 100, 43), sample);
  EXPECT_EQ(SampleIndices(5, 10, 1).size(), 5u);
}

TEST(SampleIndicesTest, CoversTheWholeRangeUniformly) {
  // Not the first N: over many seeds every index is drawn about k/n of the time.
  const size_t n = 50, k = 10, trials = 5000;
  std::vector<int> hits(n);
  for (size_t seed = 0; seed < trials; ++seed) {
    for (size_t i : SampleIndices(n, k, seed)) ++hits[i];
  }
  for (size_t i = 0; i < n; ++i) EXPECT_NEAR(hits[i], 1000, 150) << "index " << i;  // > 5 sigma
}

TEST(MixSeedTest, NearbyInputsGiveDifferentSeeds) {
  std::set<uint64_t> seeds;
  for (uint64_t epoch = 0; epoch < 10; ++epoch) {
    for (uint64_t index = 0; index < 100; ++index) seeds.insert(MixSeed(7, epoch, index));
  }
  EXPECT_EQ(seeds.size(), 1000u);
  EXPECT_EQ(MixSeed(1, 2, 3), MixSeed(1, 2, 3));
}

}  // namespace
}  // namespace forge
