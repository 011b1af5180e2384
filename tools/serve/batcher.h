// Requests from many threads answered in batches: each caller hands in one image and waits, and
// a worker thread runs whatever has gathered through the model at once, so that concurrent
// clients share a device's batch instead of queueing for it one image at a time.
//
//   Batcher batcher([&](const std::vector<absl::string_view>& images, int k) {
//     return predictor->Predict(images, k);
//   }, BatcherOptions());
//   absl::StatusOr<TopK> top = batcher.Predict(jpeg_bytes, 5);  // from any thread
#ifndef FORGE_TOOLS_SERVE_BATCHER_H_
#define FORGE_TOOLS_SERVE_BATCHER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lib/engine/predictor.h"

namespace forge {

// Answers a batch: one result per image, in order, each with at most k classes (Predictor::Predict).
using BatchPredictFn =
    std::function<std::vector<absl::StatusOr<TopK>>(const std::vector<absl::string_view>& images, int k)>;

struct BatcherOptions {
  // A batch runs once it holds max_batch images, or once its oldest image has waited `window`
  // (default 5 ms), whichever comes first. Images that arrive while a batch runs wait for the
  // next one, which then starts at once if its oldest image has already waited the window.
  int max_batch = 32;
  absl::Duration window = absl::Milliseconds(5);
  // When no batch is running, waiting gains nothing (the model is idle; what comes meanwhile
  // gathers for the next batch): with this (the default), a worker that finds no other batch
  // running takes the waiting images at once, and the window applies only while one runs. A
  // lone client then pays no window; under load, batches form while their predecessors run.
  bool start_when_idle = true;
  // Threads taking batches, each calling the predict function with its own. With 2 (the
  // default), one batch is decoded while the other runs on the model, when the function lets
  // them overlap as Predictor::Predict does (its lock covers only the forward pass).
  int workers = 2;
};

struct BatcherStats {
  int64_t requests = 0;       // images answered
  int64_t batches = 0;        // calls of the predict function
  int64_t largest_batch = 0;  // images in the largest of them
  int64_t queued = 0;         // images waiting for a batch now
};

class Batcher {
 public:
  // Starts the worker threads; `predict` is called from them, up to options.workers calls at once.
  Batcher(BatchPredictFn predict, const BatcherOptions& options);
  // Answers every request still queued, then stops the threads.
  ~Batcher();

  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // The image's top-k, once the batch it joined has run (blocks until then). The bytes must stay
  // valid until it returns. The batch runs with the largest k of its requests; each answer is cut
  // to its own k. Errors: those of `predict` for this image; Internal when `predict` throws or
  // answers a different number of images.
  absl::StatusOr<TopK> Predict(absl::string_view image, int k);

  BatcherStats stats() const;

 private:
  struct Request;

  void Loop();
  void Run(std::vector<Request*>& batch);

  const BatchPredictFn predict_;
  const BatcherOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable queued_;  // a request arrived, or stopping
  std::condition_variable done_;    // a batch's answers are in
  std::deque<Request*> queue_;
  int running_ = 0;  // batches being predicted now
  bool stopping_ = false;
  BatcherStats stats_;
  std::vector<std::thread> threads_;
};

}  // namespace forge

#endif  // FORGE_TOOLS_SERVE_BATCHER_H_
