#include "tools/serve/batcher.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace forge {

struct Batcher::Request {
  absl::string_view image;
  int k = 0;
  absl::Time queued;
  absl::StatusOr<TopK> answer = absl::InternalError("not answered");
  bool done = false;
};

Batcher::Batcher(BatchPredictFn predict, const BatcherOptions& options)
    : predict_(std::move(predict)), options_(options) {
  for (int i = 0; i < std::max(1, options.workers); ++i) threads_.emplace_back([this] { Loop(); });
}

Batcher::~Batcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

absl::StatusOr<TopK> Batcher::Predict(absl::string_view image, int k) {
  Request request;
  request.image = image;
  request.k = k;
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_) return absl::UnavailableError("the server is stopping");
  request.queued = absl::Now();
  queue_.push_back(&request);
  queued_.notify_all();
  done_.wait(lock, [&] { return request.done; });
  return std::move(request.answer);
}

BatcherStats Batcher::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  BatcherStats stats = stats_;
  stats.queued = static_cast<int64_t>(queue_.size());
  return stats;
}

void Batcher::Loop() {
  const size_t max_batch = static_cast<size_t>(std::max(1, options_.max_batch));
  std::vector<Request*> batch;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to answer
    // Not full yet and another batch running: wait for more until the oldest request has waited
    // the window, then look again (another worker may have taken the queue meanwhile).
    const bool idle = options_.start_when_idle && running_ == 0;
    if (!stopping_ && !idle && queue_.size() < max_batch) {
      const absl::Duration left = queue_.front()->queued + options_.window - absl::Now();
      if (left > absl::ZeroDuration()) {
        queued_.wait_for(lock, absl::ToChronoNanoseconds(left));
        continue;
      }
    }
    const size_t n = std::min(queue_.size(), max_batch);
    batch.assign(queue_.begin(), queue_.begin() + n);
    queue_.erase(queue_.begin(), queue_.begin() + n);
    ++running_;
    lock.unlock();
    Run(batch);
    lock.lock();
    --running_;
    queued_.notify_all();  // a worker waiting out the window may now find the model idle
    for (Request* request : batch) request->done = true;
    stats_.requests += n;
    stats_.batches += 1;
    stats_.largest_batch = std::max<int64_t>(stats_.largest_batch, n);
    done_.notify_all();
  }
}

void Batcher::Run(std::vector<Request*>& batch) {
  std::vector<absl::string_view> images;
  int k = 1;
  for (const Request* request : batch) {
    images.push_back(request->image);
    k = std::max(k, request->k);
  }
  std::vector<absl::StatusOr<TopK>> answers;
  try {
    answers = predict_(images, k);
  } catch (const std::exception& e) {
    answers.assign(batch.size(), absl::InternalError(absl::StrCat("prediction failed: ", e.what())));
  } catch (...) {
    answers.assign(batch.size(), absl::InternalError("prediction failed"));
  }
  if (answers.size() != batch.size()) {
    answers.assign(batch.size(), absl::InternalError(absl::StrCat("prediction answered ", answers.size(),
                                                                  " images of ", batch.size())));
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Request& request = *batch[i];
    request.answer = std::move(answers[i]);
    if (request.answer.ok()) {
      const size_t keep = static_cast<size_t>(std::max(request.k, 0));
      if (request.answer->classes.size() > keep) request.answer->classes.resize(keep);
      if (request.answer->probabilities.size() > keep) request.answer->probabilities.resize(keep);
    }
  }
}

}  // namespace forge
