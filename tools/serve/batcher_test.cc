// The batcher with a stand-in for the model: who waits for whom, what each caller gets back.
#include "tools/serve/batcher.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace forge {
namespace {

// A model that answers image "<n>" with classes n, n + 1, ..., n + k - 1 and records each batch's size.
class FakeModel {
 public:
  std::vector<absl::StatusOr<TopK>> operator()(const std::vector<absl::string_view>& images, int k) {
    {
      absl::MutexLock lock(&mutex_);
      batch_sizes_.push_back(static_cast<int>(images.size()));
    }
    std::vector<absl::StatusOr<TopK>> answers;
    for (absl::string_view image : images) {
      int n = 0;
      if (!absl::SimpleAtoi(image, &n)) {
        answers.push_back(absl::InvalidArgumentError("not an image"));
        continue;
      }
      TopK top;
      for (int i = 0; i < k; ++i) {
        top.classes.push_back(n + i);
        top.probabilities.push_back(1.0f / (i + 2));
      }
      answers.push_back(top);
    }
    return answers;
  }

  std::vector<int> batch_sizes() {
    absl::MutexLock lock(&mutex_);
    return batch_sizes_;
  }

 private:
  absl::Mutex mutex_;
  std::vector<int> batch_sizes_;
};

BatchPredictFn Use(FakeModel& model) {
  return [&model](const std::vector<absl::string_view>& images, int k) { return model(images, k); };
}

// Calls batcher.Predict from `threads` threads at once, image i = "i" with k = 1 + i % 3.
std::vector<absl::StatusOr<TopK>> PredictConcurrently(Batcher& batcher, int threads) {
  std::vector<absl::StatusOr<TopK>> answers(threads, absl::UnknownError("not run"));
  std::vector<std::string> images(threads);
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    images[i] = std::to_string(i);
    workers.emplace_back([&, i] { answers[i] = batcher.Predict(images[i], 1 + i % 3); });
  }
  for (std::thread& worker : workers) worker.join();
  return answers;
}

TEST(BatcherTest, ConcurrentCallersShareOneBatchAndGetTheirOwnAnswers) {
  FakeModel model;
  BatcherOptions options;
  options.max_batch = 8;
  options.window = absl::Seconds(30);  // the batch runs when full, long before
  options.start_when_idle = false;
  Batcher batcher(Use(model), options);
  std::vector<absl::StatusOr<TopK>> answers = PredictConcurrently(batcher, 8);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(answers[i].ok()) << answers[i].status();
    ASSERT_EQ(answers[i]->classes.size(), 1 + i % 3) << "cut to the caller's own k";
    ASSERT_EQ(answers[i]->probabilities.size(), answers[i]->classes.size());
    EXPECT_EQ(answers[i]->classes[0], i);
  }
  EXPECT_EQ(model.batch_sizes(), std::vector<int>({8}));
  const BatcherStats stats = batcher.stats();
  EXPECT_EQ(stats.requests, 8);
  EXPECT_EQ(stats.batches, 1);
  EXPECT_EQ(stats.largest_batch, 8);
}

TEST(BatcherTest, BatchesHoldAtMostMaxBatch) {
  FakeModel model;
  BatcherOptions options;
  options.max_batch = 4;
  options.window = absl::Milliseconds(20);
  Batcher batcher(Use(model), options);
  std::vector<absl::StatusOr<TopK>> answers = PredictConcurrently(batcher, 10);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(answers[i].ok()) << answers[i].status();
    EXPECT_EQ(answers[i]->classes[0], i);
  }
  int total = 0;
  for (int size : model.batch_sizes()) {
    EXPECT_LE(size, 4);
    total += size;
  }
  EXPECT_EQ(total, 10);
  EXPECT_GE(batcher.stats().batches, 3);
}

TEST(BatcherTest, ALoneRequestRunsAtOnceOnAnIdleModel) {
  FakeModel model;
  BatcherOptions options;
  options.window = absl::Seconds(30);
  Batcher batcher(Use(model), options);
  absl::StatusOr<TopK> answer = batcher.Predict("5", 2);  // would time the test out if it waited
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->classes, std::vector<int>({5, 6}));
}

TEST(BatcherTest, RequestsArrivingWhileABatchRunsGatherIntoTheNext) {
  // The first batch holds the model until three more requests are queued; they then run
  // together as the next batch.
  std::atomic<bool> release{false};
  std::atomic<int> calls{0};
  std::vector<int> sizes(2, 0);
  BatcherOptions options;
  options.window = absl::Milliseconds(100);
  options.workers = 1;
  auto batcher = std::make_unique<Batcher>(
      [&](const std::vector<absl::string_view>& images, int k) {
        const int call = calls.fetch_add(1);
        if (call < 2) sizes[call] = static_cast<int>(images.size());
        for (int tries = 0; call == 0 && tries < 5000 && !release.load(); ++tries) {
          absl::SleepFor(absl::Milliseconds(2));
        }
        return std::vector<absl::StatusOr<TopK>>(images.size(), TopK{{1}, {1.0f}});
      },
      options);
  std::thread first([&] { EXPECT_TRUE(batcher->Predict("0", 1).ok()); });
  for (int tries = 0; tries < 5000 && calls.load() == 0; ++tries) absl::SleepFor(absl::Milliseconds(1));
  std::vector<std::thread> more;
  for (int i = 1; i <= 3; ++i) more.emplace_back([&] { EXPECT_TRUE(batcher->Predict("1", 1).ok()); });
  for (int tries = 0; tries < 5000 && batcher->stats().queued < 3; ++tries) absl::SleepFor(absl::Milliseconds(1));
  release.store(true);
  first.join();
  for (std::thread& thread : more) thread.join();
  EXPECT_EQ(sizes, std::vector<int>({1, 3}));
  EXPECT_EQ(batcher->stats().batches, 2);
}

TEST(BatcherTest, ALoneRequestRunsAfterTheWindowWhenToldToWait) {
  FakeModel model;
  BatcherOptions options;
  options.window = absl::Milliseconds(50);
  options.start_when_idle = false;
  Batcher batcher(Use(model), options);
  const absl::Time start = absl::Now();
  absl::StatusOr<TopK> answer = batcher.Predict("5", 2);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->classes, std::vector<int>({5, 6}));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  options.window = absl::ZeroDuration();
  Batcher at_once(Use(model), options);
  EXPECT_TRUE(at_once.Predict("1", 1).ok());
}

TEST(BatcherTest, OneBadImageLeavesTheOthersAnswered) {
  FakeModel model;
  BatcherOptions options;
  options.max_batch = 2;
  options.window = absl::Seconds(30);
  options.start_when_idle = false;
  Batcher batcher(Use(model), options);
  absl::StatusOr<TopK> good = absl::UnknownError("not run"), bad = absl::UnknownError("not run");
  std::thread first([&] { good = batcher.Predict("3", 1); });
  std::thread second([&] { bad = batcher.Predict("garbage", 1); });
  first.join();
  second.join();
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->classes[0], 3);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(model.batch_sizes(), std::vector<int>({2}));
}

TEST(BatcherTest, AModelThatThrowsOrMiscountsFailsItsBatchOnly) {
  BatcherOptions options;
  options.window = absl::ZeroDuration();
  Batcher throws([](const std::vector<absl::string_view>&, int) -> std::vector<absl::StatusOr<TopK>> {
    throw std::runtime_error("out of memory");
  }, options);
  absl::StatusOr<TopK> answer = throws.Predict("1", 1);
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(answer.status().message().find("out of memory"), absl::string_view::npos) << answer.status();
  EXPECT_EQ(throws.Predict("2", 1).status().code(), absl::StatusCode::kInternal) << "still answering";

  Batcher miscounts([](const std::vector<absl::string_view>&, int) { return std::vector<absl::StatusOr<TopK>>(); },
                    options);
  EXPECT_EQ(miscounts.Predict("1", 1).status().code(), absl::StatusCode::kInternal);
}

TEST(BatcherTest, TwoWorkersRunTwoBatchesAtOnce) {
  std::atomic<int> inside{0}, most{0};
  BatcherOptions options;
  options.max_batch = 1;
  options.window = absl::ZeroDuration();
  options.workers = 2;
  Batcher batcher(
      [&](const std::vector<absl::string_view>& images, int k) {
        const int now = inside.fetch_add(1) + 1;
        for (int seen = most.load(); seen < now && !most.compare_exchange_weak(seen, now);) {
        }
        // Until the other batch is in too (at most 10 s).
        for (int tries = 0; tries < 5000 && inside.load() < 2; ++tries) absl::SleepFor(absl::Milliseconds(2));
        inside.fetch_sub(1);
        return std::vector<absl::StatusOr<TopK>>(images.size(), TopK{{1}, {1.0f}});
      },
      options);
  std::vector<absl::StatusOr<TopK>> answers = PredictConcurrently(batcher, 2);
  EXPECT_TRUE(answers[0].ok() && answers[1].ok());
  EXPECT_EQ(most.load(), 2);
  EXPECT_EQ(batcher.stats().batches, 2);
}

TEST(BatcherTest, DestructionAnswersTheQueuedRequestsFirst) {
  FakeModel model;
  BatcherOptions options;
  options.max_batch = 100;
  options.window = absl::Seconds(30);
  options.start_when_idle = false;
  auto batcher = std::make_unique<Batcher>(Use(model), options);
  std::atomic<int> answered{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 3; ++i) {
    callers.emplace_back([&, i] {
      if (batcher->Predict(std::to_string(i), 1).ok()) answered.fetch_add(1);
    });
  }
  // Until all three are queued (the window keeps them waiting), then destroy.
  for (int tries = 0; tries < 5000 && batcher->stats().queued < 3; ++tries) absl::SleepFor(absl::Milliseconds(2));
  EXPECT_EQ(batcher->stats().queued, 3);
  batcher.reset();
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(answered.load(), 3);
}

}  // namespace
}  // namespace forge
