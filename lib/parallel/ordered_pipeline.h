// Parallel work whose results are used in order: the one way the tools run work on threads.
// `produce(i)` runs on worker threads, a bounded window of indices ahead of the consumer, which
// takes the results one by one, in index order, on its own thread. So what the consumer sees
// never depends on the thread count, memory stays bounded by the window, and an error is the
// first one in index order, whatever the scheduling.
//
// The loader (lib/data) pulls samples with OrderedPipeline::Next (items as small as one sample,
// so that all workers share the next batch); shard and compute_stats push results into a
// callback with RunOrderedPipeline.
#ifndef FORGE_LIB_PARALLEL_ORDERED_PIPELINE_H_
#define FORGE_LIB_PARALLEL_ORDERED_PIPELINE_H_

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "lib/util/cores.h"
#include "lib/util/exception_status.h"

namespace forge {

struct PipelineOptions {
  // Worker threads; <= 0: UsableCores(). Never more than there are indices.
  int threads = 0;
  // Indices claimed (being produced, or produced and waiting) ahead of the consumer, at least
  // 1; <= 0: 4 per thread. This bounds the memory the results hold.
  int64_t window = 0;
};

// Calls produce(i) for i in [begin, end) on worker threads and hands out the results in index
// order through Next(). Workers claim indices in increasing order, never `window` or more
// ahead of the next one the consumer will take. An error status from produce(i), or an
// exception escaping it (turned into a Status by CurrentExceptionStatus, "item <i>: ..."),
// ends the stream at i: Next() hands out every result before i, then returns false with
// status() set to that error, and workers claim nothing after i. The destructor stops the
// workers at any point (it waits for the produce calls in progress and drops their results).
// If no thread can be started at all, Next() produces on the calling thread.
//
//   OrderedPipeline<int> squares(0, 10, {.threads = 3, .window = 8},
//                                [](int64_t i) -> absl::StatusOr<int> { return i * i; });
//   int square;
//   while (squares.Next(&square)) Use(square);
//   if (!squares.status().ok()) return squares.status();
template <typename T>
class OrderedPipeline {
 public:
  using Produce = std::function<absl::StatusOr<T>(int64_t index)>;

  OrderedPipeline(int64_t begin, int64_t end, const PipelineOptions& options, Produce produce)
      : produce_(std::move(produce)),
        end_(std::max(begin, end)),
        next_claim_(begin),
        next_consume_(begin) {
    const int threads = options.threads > 0 ? options.threads : UsableCores();
    window_ = options.window > 0 ? options.window : int64_t{4} * threads;
    slots_.resize(static_cast<size_t>(std::min(window_, std::max<int64_t>(end_ - begin, 1))));
    const int64_t worker_count = std::min<int64_t>(threads, end_ - begin);
    for (int64_t t = 0; t < worker_count; ++t) {
      try {
        workers_.emplace_back([this] { Work(); });
      } catch (const std::system_error&) {
        break;  // Fewer workers (or none: then Next() produces inline).
      }
    }
  }

  ~OrderedPipeline() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    consumed_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  OrderedPipeline(const OrderedPipeline&) = delete;
  OrderedPipeline& operator=(const OrderedPipeline&) = delete;

  // Moves the result of the next index into *result, waiting for it; false after the last
  // index or at the first error (see status()).
  bool Next(T* result) {
    if (!status_.ok()) return false;
    std::optional<absl::StatusOr<T>> taken;
    if (workers_.empty()) {
      if (next_consume_ >= end_) return false;
      taken = Call(next_consume_++);
    } else {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (next_consume_ >= end_) return false;
        std::optional<absl::StatusOr<T>>& slot = Slot(next_consume_);
        produced_.wait(lock, [&] { return slot.has_value(); });
        taken = std::move(slot);
        slot.reset();
        ++next_consume_;
      }
      consumed_.notify_all();
    }
    if (!taken->ok()) {
      status_ = std::move(*taken).status();
      return false;
    }
    *result = std::move(**taken);
    return true;
  }

  // OK, or the error that ended the stream.
  const absl::Status& status() const { return status_; }

 private:
  std::optional<absl::StatusOr<T>>& Slot(int64_t index) {
    return slots_[static_cast<size_t>(index % static_cast<int64_t>(slots_.size()))];
  }

  absl::StatusOr<T> Call(int64_t index) {
    try {
      return produce_(index);
    } catch (...) {
      return CurrentExceptionStatus(absl::StrCat("item ", index));
    }
  }

  void Work() {
    while (true) {
      int64_t index;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        consumed_.wait(lock, [&] {
          return stopping_ || next_claim_ >= end_ || next_claim_ > failed_at_ ||
                 next_claim_ < next_consume_ + window_;
        });
        if (stopping_ || next_claim_ >= end_ || next_claim_ > failed_at_) return;
        index = next_claim_++;
      }
      absl::StatusOr<T> result = Call(index);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        // Every index below this one is claimed already: the consumer sees them all, so the
        // error it reports is the first in index order.
        if (!result.ok()) failed_at_ = std::min(failed_at_, index);
        Slot(index) = std::move(result);
      }
      produced_.notify_all();
    }
  }

  const Produce produce_;
  const int64_t end_;
  int64_t window_ = 1;
  std::vector<std::thread> workers_;

  std::mutex mutex_;
  std::condition_variable produced_;  // a result arrived in its slot
  std::condition_variable consumed_;  // the consumer took a result, or stopping_
  // Results of indices [next_consume_, next_consume_ + slots_.size()) at index % size. The
  // slots are not larger than the window, so no two unconsumed claimed indices share one.
  std::vector<std::optional<absl::StatusOr<T>>> slots_;  // guarded by mutex_
  int64_t next_claim_;                                    // guarded by mutex_
  int64_t next_consume_;                                  // guarded by mutex_
  int64_t failed_at_ = std::numeric_limits<int64_t>::max();  // guarded by mutex_
  bool stopping_ = false;                                 // guarded by mutex_

  absl::Status status_;  // consumer's thread only
};

// Runs produce(i) for i in [0, count) on worker threads (see OrderedPipeline) and
// consume(i, result) for i = 0, 1, ... in order on the calling thread. Returns the first error
// in index order, of produce or consume (consume's error stops the run at once), after every
// worker has finished. T must be default-constructible.
//
//   std::vector<int> squares;
//   absl::Status status = RunOrderedPipeline<int>(
//       10, {.threads = 3, .window = 8}, [](int64_t i) -> absl::StatusOr<int> { return i * i; },
//       [&](int64_t i, int square) {
//         squares.push_back(square);
//         return absl::OkStatus();
//       });
template <typename T>
absl::Status RunOrderedPipeline(int64_t count, const PipelineOptions& options,
                                typename OrderedPipeline<T>::Produce produce,
                                const std::function<absl::Status(int64_t, T)>& consume) {
  OrderedPipeline<T> pipeline(0, count, options, std::move(produce));
  T result{};
  for (int64_t i = 0; pipeline.Next(&result); ++i) {
    if (absl::Status status = consume(i, std::move(result)); !status.ok()) return status;
  }
  return pipeline.status();
}

}  // namespace forge

#endif  // FORGE_LIB_PARALLEL_ORDERED_PIPELINE_H_
