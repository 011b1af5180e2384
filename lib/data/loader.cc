#include "lib/data/loader.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/data/random.h"
#include "lib/util/exception_status.h"

namespace forge {

torch::Tensor BatchBufferPool::Get(at::IntArrayRef sizes, bool pinned) {
  int64_t bytes = 1;
  for (const int64_t size : sizes) bytes *= size;
  torch::Tensor buffer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->buffer.numel() == bytes && it->pinned == pinned) {
        buffer = std::move(it->buffer);
        free_.erase(it);
        break;
      }
    }
  }
  if (!buffer.defined()) {
    buffer = torch::empty({bytes}, torch::TensorOptions().dtype(torch::kUInt8).pinned_memory(pinned));
  }
  std::weak_ptr<BatchBufferPool> pool = weak_from_this();
  void* data = buffer.data_ptr();
  // The deleter holds the buffer (so its memory stays valid) and hands it back.
  return torch::from_blob(
      data, sizes,
      [pool, buffer, pinned](void*) mutable {
        if (std::shared_ptr<BatchBufferPool> owner = pool.lock()) {
          owner->Put(std::move(buffer), pinned);
        }
      },
      torch::TensorOptions().dtype(torch::kUInt8));
}

size_t BatchBufferPool::free_buffers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return free_.size();
}

void BatchBufferPool::Put(torch::Tensor buffer, bool pinned) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_.size() < max_free_) free_.push_back({std::move(buffer), pinned});
}

Loader::Loader(const ImageDataset& dataset, LoaderOptions options, int64_t epoch, int64_t start_batch)
    : dataset_(dataset),
      options_(std::move(options)),
      pinned_(options_.pin_memory && torch::cuda::is_available()),
      buffers_(options_.buffers != nullptr ? options_.buffers : std::make_shared<BatchBufferPool>()),
      epoch_(epoch),
      sampler_(dataset.size(), options_.sampler, epoch) {
  // The window is the prefetch depth: a worker starts batch b only while b is fewer than
  // prefetch_batches ahead of the one Next() will hand out.
  PipelineOptions pipeline;
  pipeline.threads = options_.threads;  // 0: UsableCores()
  pipeline.window = std::max(1, options_.prefetch_batches);
  pipeline_ = std::make_unique<OrderedPipeline<Batch>>(
      start_batch, sampler_.num_batches(), pipeline, [this](int64_t b) -> absl::StatusOr<Batch> {
        // What escapes MakeBatch (e.g. the batch buffer's allocation) names the batch.
        try {
          return MakeBatch(b);
        } catch (...) {
          return CurrentExceptionStatus(absl::StrCat("batch ", b, " of epoch ", epoch_));
        }
      });
}

Loader::~Loader() = default;

absl::StatusOr<int> Loader::MakeSample(size_t index, uint64_t seed, uint8_t* out) {
  absl::Status status;
  int label = 0;
  // LibTorch and the allocator throw; on a worker thread that would end the process.
  try {
    absl::StatusOr<EncodedSample> sample = dataset_.Read(index);
    status = sample.status();
    if (sample.ok()) {
      status = options_.transform(sample->image, seed, out);
      label = sample->label;
    }
  } catch (...) {
    return CurrentExceptionStatus(dataset_.Describe(index));
  }
  if (status.ok()) return label;
  // A damaged record's error names its shard and offset already, and an undecodable image is
  // only counted; anything else gets the sample's name.
  if (absl::IsDataLoss(status) || absl::IsInvalidArgument(status)) return status;
  return absl::Status(status.code(), absl::StrCat(dataset_.Describe(index), ": ", status.message()));
}

absl::StatusOr<Batch> Loader::MakeBatch(int64_t b) {
  Batch batch;
  const std::vector<size_t> indices = sampler_.Batch(b);
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t sample_bytes = static_cast<int64_t>(options_.height) * options_.width * 3;
  torch::Tensor images = buffers_->Get({n, options_.height, options_.width, 3}, pinned_);
  torch::Tensor labels = torch::empty({n}, torch::kInt64);
  uint8_t* pixels = images.data_ptr<uint8_t>();
  int64_t* label_data = labels.data_ptr<int64_t>();
  int64_t kept = 0;
  for (int64_t k = 0; k < n; ++k) {
    const uint64_t seed = MixSeed(options_.sampler.seed, static_cast<uint64_t>(epoch_),
                                  static_cast<uint64_t>(sampler_.FirstPosition(b) + k));
    absl::StatusOr<int> label = MakeSample(indices[k], seed, pixels + kept * sample_bytes);
    if (label.ok()) {
      label_data[kept++] = *label;
      batch.samples.push_back(indices[k]);
      continue;
    }
    const absl::Status& status = label.status();
    const bool corrupt = absl::IsDataLoss(status);
    if (corrupt && !options_.skip_corrupt) return status;
    if (!corrupt && !absl::IsInvalidArgument(status)) return status;
    ++batch.skipped;
    skipped_.fetch_add(1);
  }
  batch.index = b;
  batch.images = kept == n ? images : images.narrow(0, 0, kept);
  batch.labels = kept == n ? labels : labels.narrow(0, 0, kept);
  if (options_.nchw) {
    torch::Tensor nchw = buffers_->Get({kept, 3, options_.height, options_.width}, pinned_);
    nchw.copy_(batch.images.permute({0, 3, 1, 2}));
    batch.images = nchw;
  }
  return batch;
}

bool Loader::Next(Batch* batch) {
  if (!status_.ok()) return false;
  const auto start = std::chrono::steady_clock::now();
  const bool got = pipeline_->Next(batch);
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!got) status_ = pipeline_->status();
  return got;
}

}  // namespace forge
