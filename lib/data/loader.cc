#include "lib/data/loader.h"

#include <algorithm>
#include <chrono>
#include <cstring>
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
      sampler_(dataset.size(), options_.sampler, epoch),
      batch_size_(options_.sampler.batch_size),
      sample_bytes_(static_cast<int64_t>(options_.height) * options_.width * 3),
      next_batch_(std::max<int64_t>(start_batch, 0)) {
  // Items are the epoch's sample positions from batch start_batch on. The window is the
  // prefetch depth in samples: a worker starts a sample only while it lies within the
  // prefetch_batches batches from the one Next() will hand out, so memory stays bounded while
  // every thread can work on the samples of that very batch.
  const int64_t num_batches = sampler_.num_batches();
  const int64_t begin = sampler_.FirstPosition(std::min(next_batch_, num_batches));
  const int64_t end = num_batches == 0
                          ? 0
                          : sampler_.FirstPosition(num_batches - 1) +
                                static_cast<int64_t>(sampler_.Batch(num_batches - 1).size());
  PipelineOptions pipeline;
  pipeline.threads = options_.threads;  // 0: UsableCores()
  pipeline.window = std::max(1, options_.prefetch_batches) * batch_size_;
  pipeline_ = std::make_unique<OrderedPipeline<SampleDone>>(
      begin, std::max(begin, end), pipeline,
      [this](int64_t position) { return ProduceSample(position); });
}

Loader::~Loader() = default;

absl::StatusOr<Loader::Pending> Loader::PendingBatch(int64_t b) {
  std::lock_guard<std::mutex> lock(pending_mutex_);
  auto it = pending_.find(b);
  if (it != pending_.end()) return it->second;
  // What escapes here (the batch buffer's allocation) names the batch.
  try {
    const int64_t n = std::min<int64_t>(
        batch_size_, static_cast<int64_t>(sampler_.indices().size()) - sampler_.FirstPosition(b));
    Pending pending;
    pending.images = options_.nchw
                         ? buffers_->Get({n, 3, options_.height, options_.width}, pinned_)
                         : buffers_->Get({n, options_.height, options_.width, 3}, pinned_);
    pending.labels = torch::empty({n}, torch::kInt64);
    return pending_.emplace(b, std::move(pending)).first->second;
  } catch (...) {
    return CurrentExceptionStatus(absl::StrCat("batch ", b, " of epoch ", epoch_));
  }
}

absl::StatusOr<Loader::SampleDone> Loader::ProduceSample(int64_t position) {
  const int64_t b = position / batch_size_;
  const int64_t k = position - sampler_.FirstPosition(b);
  absl::StatusOr<Pending> pending = PendingBatch(b);
  if (!pending.ok()) return pending.status();
  const uint64_t seed =
      MixSeed(options_.sampler.seed, static_cast<uint64_t>(epoch_), static_cast<uint64_t>(sampler_.GlobalPosition(position)));
  // Each sample has its own slot, so the workers write without a lock; the consumer reads the
  // slots only after the pipeline handed it every sample of the batch.
  absl::StatusOr<int> label = MakeSample(sampler_.indices()[static_cast<size_t>(position)], seed,
                                         pending->images.data_ptr<uint8_t>() + k * sample_bytes_);
  if (label.ok()) {
    pending->labels.data_ptr<int64_t>()[k] = *label;
    return SampleDone{};
  }
  const absl::Status& status = label.status();
  const bool corrupt = absl::IsDataLoss(status);
  if (corrupt && !options_.skip_corrupt) return status;
  if (!corrupt && !absl::IsInvalidArgument(status)) return status;
  return SampleDone{/*skipped=*/true};
}

absl::Status Loader::Transform(absl::string_view encoded, uint64_t seed, uint8_t* out) const {
  if (!options_.nchw) return options_.transform(encoded, seed, out);
  // The transform writes H x W x 3; the batch wants 3 x H x W, so go through a buffer the thread
  // keeps (no allocation per sample) and spread the channels into their planes.
  thread_local std::vector<uint8_t> hwc;
  const int64_t plane = static_cast<int64_t>(options_.height) * options_.width;
  hwc.resize(static_cast<size_t>(plane * 3));
  absl::Status status = options_.transform(encoded, seed, hwc.data());
  if (!status.ok()) return status;
  for (int64_t p = 0; p < plane; ++p) {
    out[p] = hwc[3 * p];
    out[plane + p] = hwc[3 * p + 1];
    out[2 * plane + p] = hwc[3 * p + 2];
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Loader::MakeSample(size_t index, uint64_t seed, uint8_t* out) {
  absl::Status status;
  int label = 0;
  // LibTorch and the allocator throw; on a worker thread that would end the process.
  try {
    absl::StatusOr<EncodedSample> sample = dataset_.Read(index);
    status = sample.status();
    if (sample.ok()) {
      status = Transform(sample->image, seed, out);
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

bool Loader::Next(Batch* batch) {
  if (!status_.ok() || next_batch_ >= num_batches()) return false;
  const auto start = std::chrono::steady_clock::now();
  const int64_t b = next_batch_;
  const std::vector<size_t> indices = sampler_.Batch(b);
  const int64_t n = static_cast<int64_t>(indices.size());
  std::vector<bool> skipped(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    SampleDone done;
    if (!pipeline_->Next(&done)) {
      // The first error in sample order; the batches before it were handed out already.
      status_ = pipeline_->status();
      if (status_.ok()) status_ = absl::InternalError(absl::StrCat("loader: batch ", b, " ended early"));
      wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return false;
    }
    skipped[static_cast<size_t>(k)] = done.skipped;
  }
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Pending pending;
  {
    std::lock_guard<std::mutex> lock(pending_mutex_);
    auto it = pending_.find(b);
    if (it != pending_.end()) {
      pending = std::move(it->second);
      pending_.erase(it);
    }
  }
  if (!pending.images.defined()) {  // Every sample made it; a bug if not.
    status_ = absl::InternalError(absl::StrCat("loader: batch ", b, " was made without buffers"));
    return false;
  }
  ++next_batch_;
  Batch result;
  result.index = b;
  // Skipped samples leave holes: the kept ones move down over them, in order (rare, cheap).
  uint8_t* pixels = pending.images.data_ptr<uint8_t>();
  int64_t* labels = pending.labels.data_ptr<int64_t>();
  int64_t kept = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (skipped[static_cast<size_t>(k)]) {
      ++result.skipped;
      continue;
    }
    if (kept != k) {
      std::memmove(pixels + kept * sample_bytes_, pixels + k * sample_bytes_, sample_bytes_);
      labels[kept] = labels[k];
    }
    result.samples.push_back(indices[static_cast<size_t>(k)]);
    ++kept;
  }
  skipped_ += result.skipped;
  result.images = kept == n ? pending.images : pending.images.narrow(0, 0, kept);
  result.labels = kept == n ? pending.labels : pending.labels.narrow(0, 0, kept);
  *batch = std::move(result);
  return true;
}

}  // namespace forge
