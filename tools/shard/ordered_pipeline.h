// Parallel work whose results must be used in order: `produce` runs on several threads, a bounded
// window ahead of `consume`, which sees the results one by one, in index order, on the calling
// thread. `shard` uses it to decode and re-encode images in parallel while writing records in a
// fixed order, so that its output does not depend on the thread count.
#ifndef FORGE_TOOLS_SHARD_ORDERED_PIPELINE_H_
#define FORGE_TOOLS_SHARD_ORDERED_PIPELINE_H_

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace forge {

// Calls produce(i) for every i in [0, count) on `threads` worker threads (at least 1), at most
// `window` (at least 1) indices ahead of the consumer, and consume(i, result) for i = 0, 1, ...
// in order on the calling thread. Stops early and returns the first non-OK status of consume;
// produce must not fail (encode failures in T). Returns once every worker has finished.
//
//   std::vector<int> squares;
//   absl::Status status = RunOrderedPipeline<int>(
//       10, 3, 8, [](size_t i) { return int(i * i); },
//       [&](size_t i, int square) { squares.push_back(square); return absl::OkStatus(); });
template <typename T>
absl::Status RunOrderedPipeline(size_t count, int threads, size_t window,
                                const std::function<T(size_t)>& produce,
                                const std::function<absl::Status(size_t, T)>& consume) {
  window = std::max<size_t>(window, 1);
  threads = std::max(threads, 1);
  std::vector<std::optional<T>> slots(window);
  std::mutex mutex;
  std::condition_variable produced;
  std::condition_variable consumed;
  size_t next_claim = 0;    // next index a worker takes
  size_t next_consume = 0;  // index the consumer waits for
  bool stop = false;

  auto work = [&] {
    while (true) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mutex);
        consumed.wait(lock, [&] {
          return stop || next_claim >= count || next_claim < next_consume + window;
        });
        if (stop || next_claim >= count) return;
        i = next_claim++;
      }
      T result = produce(i);
      {
        std::lock_guard<std::mutex> lock(mutex);
        slots[i % window] = std::move(result);
      }
      produced.notify_all();
    }
  };
  std::vector<std::thread> workers;
  const size_t worker_count = std::min<size_t>(static_cast<size_t>(threads), count);
  for (size_t t = 0; t < worker_count; ++t) workers.emplace_back(work);

  absl::Status status;
  for (size_t i = 0; i < count && status.ok(); ++i) {
    T result;
    {
      std::unique_lock<std::mutex> lock(mutex);
      produced.wait(lock, [&] { return slots[i % window].has_value(); });
      result = std::move(*slots[i % window]);
      slots[i % window].reset();
      next_consume = i + 1;
    }
    consumed.notify_all();
    status = consume(i, std::move(result));
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    stop = true;
  }
  consumed.notify_all();
  for (std::thread& worker : workers) worker.join();
  return status;
}

}  // namespace forge

#endif  // FORGE_TOOLS_SHARD_ORDERED_PIPELINE_H_
