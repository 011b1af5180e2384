// Which samples each step of training sees: a per-epoch permutation determined by (seed, epoch)
// alone, partitioned across ranks like PyTorch's DistributedSampler (rank r takes positions
// r, r + world, ...), cut into batches, and resumable at any batch. Batch b of every rank together
// is batch b of one process with world times the batch size, so a global step sees the same
// images, with the same per-sample randomness (GlobalPosition), whatever the number of ranks.
#ifndef FORGE_LIB_DATA_SAMPLER_H_
#define FORGE_LIB_DATA_SAMPLER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace forge {

struct SamplerOptions {
  bool shuffle = true;     // false: dataset order (evaluation)
  uint64_t seed = 0;
  int rank = 0;            // this process's position in [0, world_size)
  int world_size = 1;
  // When the dataset does not divide evenly across ranks: kPad repeats samples from the start of
  // the (shuffled) order, as DistributedSampler does; kDrop drops the tail (training: the global
  // batches are then those of one process); kUnequal gives the first ranks one sample more, so
  // that every sample is seen exactly once (evaluation).
  enum class Uneven { kPad, kDrop, kUnequal };
  Uneven uneven = Uneven::kPad;
  int batch_size = 1;
  // false keeps a last, smaller batch; true drops it.
  bool drop_last_batch = false;
  // Repeated augmentation (torchvision's RASampler): each image of the shuffled order appears this
  // many times in a row, the whole cut to the dataset's length, so an epoch sees 1 / repeats of
  // the images, each `repeats` times with different per-sample randomness, and the copies of an
  // image go to consecutive ranks. 1: off.
  int repeats = 1;
};

// The samples of one epoch for one rank, in order, cut into batches.
//
//   EpochSampler sampler(dataset->size(), options, epoch);
//   for (int64_t b = start_batch; b < sampler.num_batches(); ++b) Load(sampler.Batch(b));
class EpochSampler {
 public:
  EpochSampler(size_t dataset_size, const SamplerOptions& options, int64_t epoch);

  // Sample indices this rank sees in the epoch, in order.
  const std::vector<size_t>& indices() const { return indices_; }
  int64_t num_batches() const;
  // Dataset indices of batch `b` (0 <= b < num_batches()).
  std::vector<size_t> Batch(int64_t b) const;
  // Position within this rank's epoch of the first sample of batch `b`.
  int64_t FirstPosition(int64_t b) const { return b * batch_size_; }
  // The position in the epoch's global order of this rank's sample at `position`: what
  // per-sample seeds derive from, so that they do not depend on the number of ranks.
  int64_t GlobalPosition(int64_t position) const { return position * world_size_ + rank_; }

 private:
  std::vector<size_t> indices_;
  int batch_size_;
  bool drop_last_batch_;
  int rank_;
  int world_size_;
};

}  // namespace forge

#endif  // FORGE_LIB_DATA_SAMPLER_H_
