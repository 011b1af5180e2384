#include "lib/data/sampler.h"

#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>

namespace forge {
namespace {

SamplerOptions Options(int batch_size, int rank = 0, int world_size = 1) {
  SamplerOptions options;
  options.seed = 3;
  options.batch_size = batch_size;
  options.rank = rank;
  options.world_size = world_size;
  return options;
}

TEST(EpochSamplerTest, EpochIsAPermutationFixedBySeedAndEpoch) {
  EpochSampler a(100, Options(8), 0);
  std::vector<size_t> sorted = a.indices();
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < 100; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(EpochSampler(100, Options(8), 0).indices(), a.indices());
  EXPECT_NE(EpochSampler(100, Options(8), 1).indices(), a.indices());
  SamplerOptions other = Options(8);
  other.seed = 4;
  EXPECT_NE(EpochSampler(100, other, 0).indices(), a.indices());
}

TEST(EpochSamplerTest, BatchesCoverTheEpochAndResumeAnywhere) {
  EpochSampler sampler(100, Options(8), 2);
  EXPECT_EQ(sampler.num_batches(), 13);  // 12 full + 4 left over
  std::vector<size_t> joined;
  for (int64_t b = 0; b < sampler.num_batches(); ++b) {
    std::vector<size_t> batch = sampler.Batch(b);
    EXPECT_EQ(batch.size(), b < 12 ? 8u : 4u);
    EXPECT_EQ(sampler.FirstPosition(b), b * 8);
    joined.insert(joined.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(joined, sampler.indices());
  // A sampler rebuilt later (e.g. after a restart) gives the same batch 7.
  EXPECT_EQ(EpochSampler(100, Options(8), 2).Batch(7), sampler.Batch(7));
  SamplerOptions drop = Options(8);
  drop.drop_last_batch = true;
  EXPECT_EQ(EpochSampler(100, drop, 2).num_batches(), 12);
}

TEST(EpochSamplerTest, RanksPartitionLikeDistributedSampler) {
  // 10 samples over 4 ranks: padded to 12 by repeating the first two of the order.
  const SamplerOptions base = Options(2);
  EpochSampler whole(10, base, 5);
  std::map<size_t, int> seen;
  for (int rank = 0; rank < 4; ++rank) {
    SamplerOptions options = base;
    options.rank = rank;
    options.world_size = 4;
    EpochSampler sampler(10, options, 5);
    ASSERT_EQ(sampler.indices().size(), 3u);
    for (size_t k = 0; k < 3; ++k) {
      const size_t position = rank + 4 * k;  // DistributedSampler: indices[rank::world]
      EXPECT_EQ(sampler.indices()[k], whole.indices()[position % 10]);
      ++seen[sampler.indices()[k]];
    }
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen[whole.indices()[0]], 2);
  EXPECT_EQ(seen[whole.indices()[1]], 2);
  // Dropping the uneven tail instead: 8 samples, each once.
  std::set<size_t> dropped;
  for (int rank = 0; rank < 4; ++rank) {
    SamplerOptions options = base;
    options.rank = rank;
    options.world_size = 4;
    options.uneven = SamplerOptions::Uneven::kDrop;
    EpochSampler sampler(10, options, 5);
    EXPECT_EQ(sampler.indices().size(), 2u);
    dropped.insert(sampler.indices().begin(), sampler.indices().end());
  }
  EXPECT_EQ(dropped.size(), 8u);
  // Unequal shares instead: every sample exactly once, the first two ranks one more.
  std::multiset<size_t> once;
  for (int rank = 0; rank < 4; ++rank) {
    SamplerOptions options = base;
    options.rank = rank;
    options.world_size = 4;
    options.uneven = SamplerOptions::Uneven::kUnequal;
    EpochSampler sampler(10, options, 5);
    EXPECT_EQ(sampler.indices().size(), rank < 2 ? 3u : 2u);
    once.insert(sampler.indices().begin(), sampler.indices().end());
  }
  EXPECT_EQ(once, std::multiset<size_t>(whole.indices().begin(), whole.indices().end()));
}

TEST(EpochSamplerTest, GlobalBatchesDoNotDependOnTheNumberOfRanks) {
  // 2 ranks with batch 3 each see, at every step, the 6 samples one process with batch 6 sees,
  // at the same global positions.
  SamplerOptions one = Options(6);
  one.uneven = SamplerOptions::Uneven::kDrop;
  one.drop_last_batch = true;
  const EpochSampler whole(20, one, 3);
  ASSERT_EQ(whole.num_batches(), 3);
  for (int64_t b = 0; b < whole.num_batches(); ++b) {
    std::map<int64_t, size_t> by_position;  // global position -> sample
    for (int rank = 0; rank < 2; ++rank) {
      SamplerOptions options = Options(3, rank, 2);
      options.uneven = SamplerOptions::Uneven::kDrop;
      options.drop_last_batch = true;
      const EpochSampler sampler(20, options, 3);
      ASSERT_EQ(sampler.num_batches(), whole.num_batches());
      const std::vector<size_t> batch = sampler.Batch(b);
      for (size_t k = 0; k < batch.size(); ++k) {
        by_position[sampler.GlobalPosition(sampler.FirstPosition(b) + static_cast<int64_t>(k))] = batch[k];
      }
    }
    const std::vector<size_t> expected = whole.Batch(b);
    ASSERT_EQ(by_position.size(), expected.size());
    for (size_t k = 0; k < expected.size(); ++k) {
      EXPECT_EQ(by_position.at(whole.GlobalPosition(whole.FirstPosition(b) + static_cast<int64_t>(k))), expected[k]);
    }
  }
}

TEST(EpochSamplerTest, RepeatedAugmentationSendsAnImagesCopiesToDifferentRanks) {
  // 10 images, 3 repeats: the first 4 images of the shuffled order, 3 + 3 + 3 + 1 times.
  SamplerOptions options = Options(1);
  options.repeats = 3;
  const EpochSampler alone(10, options, 2);
  const std::vector<size_t> permutation = EpochSampler(10, Options(1), 2).indices();
  ASSERT_EQ(alone.indices().size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(alone.indices()[i], permutation[i / 3]) << i;
  // On 3 ranks (kDrop: 9 positions), rank r's k-th sample is the k-th image's copy r.
  options.world_size = 3;
  options.uneven = SamplerOptions::Uneven::kDrop;
  for (int rank = 0; rank < 3; ++rank) {
    options.rank = rank;
    const EpochSampler sampler(10, options, 2);
    ASSERT_EQ(sampler.indices().size(), 3u);
    for (size_t k = 0; k < 3; ++k) EXPECT_EQ(sampler.indices()[k], permutation[k]) << rank;
  }
}

TEST(EpochSamplerTest, UnshuffledIsDatasetOrder) {
  SamplerOptions options = Options(4);
  options.shuffle = false;
  EpochSampler sampler(6, options, 9);
  EXPECT_EQ(sampler.indices(), (std::vector<size_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(sampler.Batch(1), (std::vector<size_t>{4, 5}));
}

TEST(EpochSamplerTest, EmptyDataset) {
  EpochSampler sampler(0, Options(4), 0);
  EXPECT_EQ(sampler.num_batches(), 0);
}

}  // namespace
}  // namespace forge
