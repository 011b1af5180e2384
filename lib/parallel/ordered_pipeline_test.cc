#include "lib/parallel/ordered_pipeline.h"

#include <atomic>
#include <chrono>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forge {
namespace {

TEST(OrderedPipelineTest, ClassCommentExample) {
  OrderedPipeline<int> squares(0, 10, {.threads = 3, .window = 8},
                               [](int64_t i) -> absl::StatusOr<int> { return i * i; });
  std::vector<int> seen;
  int square;
  while (squares.Next(&square)) seen.push_back(square);
  EXPECT_TRUE(squares.status().ok());
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}));
  EXPECT_FALSE(squares.Next(&square));  // stays at the end
}

TEST(OrderedPipelineTest, RunExample) {
  std::vector<int> squares;
  absl::Status status = RunOrderedPipeline<int>(
      10, {.threads = 3, .window = 8}, [](int64_t i) -> absl::StatusOr<int> { return i * i; },
      [&](int64_t i, int square) {
        squares.push_back(square);
        return absl::OkStatus();
      });
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(squares, (std::vector<int>{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}));
}

TEST(OrderedPipelineTest, ConsumesEveryResultInOrder) {
  for (int threads : {1, 2, 5}) {
    for (int64_t window : {1, 3, 64}) {
      std::vector<int64_t> seen;
      absl::Status status = RunOrderedPipeline<int64_t>(
          200, {.threads = threads, .window = window},
          [](int64_t i) -> absl::StatusOr<int64_t> {
            if (i % 7 == 0) std::this_thread::yield();  // vary the finishing order
            return i * i;
          },
          [&](int64_t i, int64_t square) {
            EXPECT_EQ(square, i * i);
            seen.push_back(i);
            return absl::OkStatus();
          });
      EXPECT_TRUE(status.ok());
      ASSERT_EQ(seen.size(), 200u);
      for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<int64_t>(i));
    }
  }
}

TEST(OrderedPipelineTest, StartsAtBegin) {
  OrderedPipeline<int64_t> pipeline(5, 9, {.threads = 2, .window = 2},
                                    [](int64_t i) -> absl::StatusOr<int64_t> { return i; });
  std::vector<int64_t> seen;
  int64_t value;
  while (pipeline.Next(&value)) seen.push_back(value);
  EXPECT_EQ(seen, (std::vector<int64_t>{5, 6, 7, 8}));
}

TEST(OrderedPipelineTest, StopsAtTheFirstConsumerError) {
  std::atomic<int64_t> produced{0};
  int64_t consumed = 0;
  absl::Status status = RunOrderedPipeline<int>(
      100000, {.threads = 3, .window = 8},
      [&](int64_t) -> absl::StatusOr<int> {
        ++produced;
        return 0;
      },
      [&](int64_t i, int) {
        ++consumed;
        return i == 10 ? absl::DataLossError("stop") : absl::OkStatus();
      });
  EXPECT_TRUE(absl::IsDataLoss(status));
  EXPECT_EQ(consumed, 11);
  EXPECT_LE(produced.load(), 11 + 8);  // never more than the window ahead
}

// Index 30 fails at once, index 20 only after a while: the consumer still gets 0..19 and then
// index 20's error, the first in index order, whatever the thread count.
TEST(OrderedPipelineTest, ReportsTheFirstProducerErrorInIndexOrder) {
  for (int threads : {1, 2, 4, 8}) {
    OrderedPipeline<int64_t> pipeline(
        0, 100, {.threads = threads, .window = 16}, [](int64_t i) -> absl::StatusOr<int64_t> {
          if (i == 20) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            return absl::InvalidArgumentError("twenty");
          }
          if (i == 30) return absl::DataLossError("thirty");
          return i;
        });
    std::vector<int64_t> seen;
    int64_t value;
    while (pipeline.Next(&value)) seen.push_back(value);
    EXPECT_EQ(seen.size(), 20u) << threads << " threads";
    EXPECT_TRUE(absl::IsInvalidArgument(pipeline.status())) << pipeline.status();
    EXPECT_EQ(pipeline.status().message(), "twenty");
  }
}

TEST(OrderedPipelineTest, NoIndexIsClaimedAfterAFailedOne) {
  std::atomic<int64_t> highest{-1};
  {
    OrderedPipeline<int> pipeline(0, 1000, {.threads = 4, .window = 1000},
                                  [&](int64_t i) -> absl::StatusOr<int> {
                                    int64_t seen = highest.load();
                                    while (i > seen && !highest.compare_exchange_weak(seen, i)) {
                                    }
                                    if (i == 5) return absl::InternalError("five");
                                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                    return 0;
                                  });
    // Were workers to go on after the failure, they would get through some 400 indices here.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int value;
    while (pipeline.Next(&value)) {
    }
    EXPECT_EQ(pipeline.status().message(), "five");
  }
  // Workers that were already past 5 when it failed stop at their next claim (a margin for a
  // slow scheduler).
  EXPECT_LT(highest.load(), 30);
}

TEST(OrderedPipelineTest, ExceptionsBecomeStatuses) {
  OrderedPipeline<int> pipeline(0, 10, {.threads = 2, .window = 4},
                                [](int64_t i) -> absl::StatusOr<int> {
                                  if (i == 3) throw std::bad_alloc();
                                  if (i == 6) throw std::runtime_error("six");
                                  return static_cast<int>(i);
                                });
  int value, count = 0;
  while (pipeline.Next(&value)) ++count;
  EXPECT_EQ(count, 3);
  EXPECT_TRUE(absl::IsResourceExhausted(pipeline.status())) << pipeline.status();
  EXPECT_EQ(pipeline.status().message().rfind("item 3: ", 0), 0u) << pipeline.status();
}

TEST(OrderedPipelineTest, DestroyedAtAnyPoint) {
  for (int taken : {0, 1, 7}) {
    std::atomic<int64_t> produced{0};
    {
      OrderedPipeline<std::string> pipeline(
          0, 1000000, {.threads = 4, .window = 6}, [&](int64_t i) -> absl::StatusOr<std::string> {
            ++produced;
            return std::string(100, 'x');
          });
      std::string value;
      for (int k = 0; k < taken; ++k) ASSERT_TRUE(pipeline.Next(&value));
    }
    EXPECT_LE(produced.load(), taken + 6);
  }
}

TEST(OrderedPipelineTest, NothingToDo) {
  absl::Status status = RunOrderedPipeline<int>(
      0, {.threads = 4, .window = 8}, [](int64_t) -> absl::StatusOr<int> { return 0; },
      [](int64_t, int) { return absl::OkStatus(); });
  EXPECT_TRUE(status.ok());
  OrderedPipeline<int> empty(3, 3, {}, [](int64_t) -> absl::StatusOr<int> { return 0; });
  int value;
  EXPECT_FALSE(empty.Next(&value));
  EXPECT_TRUE(empty.status().ok());
}

TEST(OrderedPipelineTest, DefaultsUseTheUsableCores) {
  std::vector<int64_t> seen;
  absl::Status status = RunOrderedPipeline<int64_t>(
      50, {}, [](int64_t i) -> absl::StatusOr<int64_t> { return i; },
      [&](int64_t, int64_t i) {
        seen.push_back(i);
        return absl::OkStatus();
      });
  EXPECT_TRUE(status.ok());
  ASSERT_EQ(seen.size(), 50u);
  EXPECT_EQ(seen.back(), 49);
}

}  // namespace
}  // namespace forge
