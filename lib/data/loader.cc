#include "lib/data/loader.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/data/random.h"

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
      next_to_make_(start_batch),
      next_to_consume_(start_batch) {
  const int threads = options_.threads > 0
                          ? options_.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  for (int t = 0; t < threads; ++t) workers_.emplace_back([this] { Work(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  space_.notify_all();
  ready_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void Loader::Work() {
  const int64_t prefetch = std::max(1, options_.prefetch_batches);
  while (true) {
    int64_t b;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      space_.wait(lock, [&] {
        return stopping_ || !worker_status_.ok() || next_to_make_ >= sampler_.num_batches() ||
               next_to_make_ < next_to_consume_ + prefetch;
      });
      if (stopping_ || !worker_status_.ok() || next_to_make_ >= sampler_.num_batches()) return;
      b = next_to_make_++;
    }
    Batch batch;
    absl::Status status = MakeBatch(b, &batch);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!status.ok()) {
        if (worker_status_.ok()) worker_status_ = status;
      } else {
        done_.emplace(b, std::move(batch));
      }
    }
    ready_.notify_all();
  }
}

absl::Status Loader::MakeBatch(int64_t b, Batch* batch) {
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
    absl::StatusOr<EncodedSample> sample = dataset_.Read(indices[k]);
    absl::Status status = sample.status();
    if (sample.ok()) status = options_.transform(sample->image, seed, pixels + kept * sample_bytes);
    if (status.ok()) {
      label_data[kept++] = sample->label;
      batch->samples.push_back(indices[k]);
      continue;
    }
    const bool corrupt = absl::IsDataLoss(status);
    if (corrupt && !options_.skip_corrupt) return status;
    if (!corrupt && !absl::IsInvalidArgument(status)) {
      return absl::Status(status.code(), absl::StrCat(dataset_.Describe(indices[k]), ": ", status.message()));
    }
    ++batch->skipped;
    skipped_.fetch_add(1);
  }
  batch->index = b;
  batch->images = kept == n ? images : images.narrow(0, 0, kept);
  batch->labels = kept == n ? labels : labels.narrow(0, 0, kept);
  if (options_.nchw) {
    torch::Tensor nchw = buffers_->Get({kept, 3, options_.height, options_.width}, pinned_);
    nchw.copy_(batch->images.permute({0, 3, 1, 2}));
    batch->images = nchw;
  }
  return absl::OkStatus();
}

bool Loader::Next(Batch* batch) {
  if (!status_.ok()) return false;
  std::unique_lock<std::mutex> lock(mutex_);
  if (next_to_consume_ >= sampler_.num_batches()) return false;
  const auto start = std::chrono::steady_clock::now();
  ready_.wait(lock, [&] { return done_.count(next_to_consume_) > 0 || !worker_status_.ok(); });
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto it = done_.find(next_to_consume_);
  if (it == done_.end()) {
    status_ = worker_status_;
    return false;
  }
  *batch = std::move(it->second);
  done_.erase(it);
  ++next_to_consume_;
  lock.unlock();
  space_.notify_all();
  return true;
}

}  // namespace forge
