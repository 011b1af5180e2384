#include "lib/data/sampler.h"

#include <algorithm>
#include <numeric>

#include <glog/logging.h>

#include "lib/data/random.h"

namespace forge {

EpochSampler::EpochSampler(size_t dataset_size, const SamplerOptions& options, int64_t epoch)
    : batch_size_(options.batch_size),
      drop_last_batch_(options.drop_last_batch),
      rank_(options.rank),
      world_size_(options.world_size) {
  CHECK_GT(options.world_size, 0);
  CHECK_GE(options.rank, 0);
  CHECK_LT(options.rank, options.world_size);
  CHECK_GT(options.batch_size, 0);
  CHECK_GT(options.repeats, 0);
  std::vector<size_t> order;
  if (options.shuffle) {
    order = Permutation(dataset_size, MixSeed(options.seed, static_cast<uint64_t>(epoch)));
  } else {
    order.resize(dataset_size);
    std::iota(order.begin(), order.end(), 0);
  }
  if (options.repeats > 1) {
    std::vector<size_t> repeated(dataset_size);
    for (size_t i = 0; i < dataset_size; ++i) repeated[i] = order[i / static_cast<size_t>(options.repeats)];
    order = std::move(repeated);
  }
  const size_t world = static_cast<size_t>(options.world_size);
  size_t total = dataset_size;
  if (options.uneven == SamplerOptions::Uneven::kDrop) total = dataset_size / world * world;
  if (options.uneven == SamplerOptions::Uneven::kPad) total = (dataset_size + world - 1) / world * world;
  if (dataset_size == 0) total = 0;
  // Pad by cycling through the order from its start, as DistributedSampler does.
  for (size_t i = dataset_size; i < total; ++i) order.push_back(order[i % dataset_size]);
  order.resize(total);
  for (size_t i = static_cast<size_t>(options.rank); i < total; i += world) indices_.push_back(order[i]);
}

int64_t EpochSampler::num_batches() const {
  const int64_t n = static_cast<int64_t>(indices_.size());
  return drop_last_batch_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

std::vector<size_t> EpochSampler::Batch(int64_t b) const {
  CHECK_GE(b, 0);
  CHECK_LT(b, num_batches());
  const size_t begin = static_cast<size_t>(b) * batch_size_;
  const size_t end = std::min(indices_.size(), begin + batch_size_);
  return std::vector<size_t>(indices_.begin() + begin, indices_.begin() + end);
}

}  // namespace forge
