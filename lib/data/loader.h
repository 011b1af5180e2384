// The input pipeline of training and evaluation: reads samples of an ImageDataset in the order
// an EpochSampler gives, transforms them on worker threads into uint8 image batches, and hands
// the batches out in order, a bounded number prepared ahead. The workers share out samples, not
// batches, so that every thread decodes even when only one batch is wanted (prefetch 1).
//
// Every sample's randomness comes from (seed, epoch, position in the epoch's global order), so batches are the
// same whatever the thread count or prefetch depth, and a restart at batch b sees what an
// uninterrupted run would have seen.
//
//   Loader loader(*dataset, options, epoch, /*start_batch=*/0);
//   Batch batch;
//   while (loader.Next(&batch)) Train(batch.images, batch.labels);
//   if (!loader.status().ok()) return loader.status();
#ifndef FORGE_LIB_DATA_LOADER_H_
#define FORGE_LIB_DATA_LOADER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/data/dataset.h"
#include "lib/data/sampler.h"
#include "lib/parallel/ordered_pipeline.h"

namespace forge {

// Turns one encoded image into height x width x 3 uint8 pixels at `out`, drawing any randomness
// from `seed`. Must be thread-safe. An InvalidArgument status means the image cannot be
// decoded (or is refused, e.g. for its size): the sample is skipped and counted. An exception
// it throws (c10::Error, std::bad_alloc) is caught and ends the epoch with an error naming
// the sample.
using SampleTransform =
    std::function<absl::Status(absl::string_view encoded, uint64_t seed, uint8_t* out)>;

// A free list of batch buffers (uint8 tensors), so that batches reuse memory instead of
// allocating it: a fresh multi-megabyte buffer per batch costs a page fault per 4 KiB page
// when first written (measured at 224 x 224: some 37 faults per image, about 8% of the
// pipeline's time, measured with 2 threads), and pinned memory is slower still to allocate. A tensor
// from Get() gives its memory back when its last view is gone, even after the Loader that
// made it (the pool is held by std::shared_ptr; buffers returning after the pool is gone are
// freed). Share one pool between the epochs' Loaders of a run. Thread-safe.
//
//   auto buffers = std::make_shared<BatchBufferPool>();
//   options.buffers = buffers;  // for every epoch's Loader
class BatchBufferPool : public std::enable_shared_from_this<BatchBufferPool> {
 public:
  // Keeps at most `max_free` unused buffers (the rest are freed).
  explicit BatchBufferPool(size_t max_free = 16) : max_free_(max_free) {}

  // A contiguous, uninitialised uint8 tensor of `sizes`, page-locked when `pinned`.
  torch::Tensor Get(at::IntArrayRef sizes, bool pinned);
  // Unused buffers held.
  size_t free_buffers() const;

 private:
  struct Free {
    torch::Tensor buffer;  // 1-D, the bytes
    bool pinned;
  };
  void Put(torch::Tensor buffer, bool pinned);

  const size_t max_free_;
  mutable std::mutex mutex_;
  std::vector<Free> free_;  // guarded by mutex_
};

struct LoaderOptions {
  SamplerOptions sampler;
  int height = 224;
  int width = 224;
  SampleTransform transform;
  int threads = 0;              // 0: UsableCores() (lib/util/cores.h)
  // Batches prepared ahead of the consumer, at least 1. Memory, not parallelism: all threads
  // work on the samples of the next batch even at 1.
  int prefetch_batches = 4;
  bool nchw = false;            // images as N x 3 x H x W (a copy) instead of N x H x W x 3
  bool pin_memory = true;       // page-locked batches when CUDA is available
  // A damaged record (CRC mismatch, DataLoss) stops the epoch with an error naming the shard and
  // offset, unless this is set: then it is skipped and counted like an undecodable image.
  bool skip_corrupt = false;
  // Where batch images come from; null: a pool of the Loader's own (reused within the epoch).
  std::shared_ptr<BatchBufferPool> buffers;
};

struct Batch {
  int64_t index = 0;            // batch number within the epoch
  torch::Tensor images;         // uint8, N x H x W x 3 (or N x 3 x H x W)
  torch::Tensor labels;         // int64, N
  std::vector<size_t> samples;  // dataset index of each image
  int skipped = 0;              // samples of this batch that could not be used
};

class Loader {
 public:
  Loader(const ImageDataset& dataset, LoaderOptions options, int64_t epoch, int64_t start_batch = 0);
  ~Loader();  // stops the workers; safe at any point of the epoch
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch in order; false at the end of the epoch or after an error (see status()).
  // The error is the first in batch order: every batch before it is handed out first.
  bool Next(Batch* batch);

  const absl::Status& status() const { return status_; }
  int64_t num_batches() const { return sampler_.num_batches(); }
  // Seconds Next() spent waiting for a batch that was not ready yet.
  double wait_seconds() const { return wait_seconds_; }
  // Samples skipped (undecodable, or corrupt with skip_corrupt) in the batches handed out so far.
  int64_t skipped() const { return skipped_; }

 private:
  // What a worker reports for one sample; its pixels and label are in its batch's Pending.
  struct SampleDone {
    bool skipped = false;
  };
  // A batch whose samples are being made, each by whichever worker claimed it, into its slot.
  struct Pending {
    torch::Tensor images;  // n x H x W x 3 (or n x 3 x H x W), slot k for the batch's sample k
    torch::Tensor labels;  // int64, n
  };

  // Makes the sample at `position` of the epoch into its slot of its batch.
  absl::StatusOr<SampleDone> ProduceSample(int64_t position);
  // Batch `b`'s Pending, made (buffers taken from the pool) by the first of its samples.
  absl::StatusOr<Pending> PendingBatch(int64_t b);
  // One sample into `out`: its label, or the status of reading or transforming it.
  absl::StatusOr<int> MakeSample(size_t index, uint64_t seed, uint8_t* out);
  // Pixels of one sample written to `out` in the batch's layout.
  absl::Status Transform(absl::string_view encoded, uint64_t seed, uint8_t* out) const;

  const ImageDataset& dataset_;
  const LoaderOptions options_;
  const bool pinned_;
  const std::shared_ptr<BatchBufferPool> buffers_;
  const int64_t epoch_;
  const EpochSampler sampler_;
  const int64_t batch_size_;
  const int64_t sample_bytes_;

  // Consumer's thread only.
  int64_t next_batch_;
  absl::Status status_;
  double wait_seconds_ = 0;
  int64_t skipped_ = 0;

  // Batches with at least one sample claimed and not yet handed out: at most about
  // prefetch_batches (the pipeline's window is prefetch_batches batches of samples).
  std::mutex pending_mutex_;
  std::map<int64_t, Pending> pending_;  // guarded by pending_mutex_
  // Last: its destructor stops the workers before anything they use goes away. Items are
  // sample positions, so every worker can work on the same batch.
  std::unique_ptr<OrderedPipeline<SampleDone>> pipeline_;
};

}  // namespace forge

#endif  // FORGE_LIB_DATA_LOADER_H_
