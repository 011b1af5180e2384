#include "tools/shard/ordered_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace forge {
namespace {

TEST(OrderedPipelineTest, ConsumesEveryResultInOrder) {
  for (int threads : {1, 2, 5}) {
    for (size_t window : {1, 3, 64}) {
      std::vector<size_t> seen;
      absl::Status status = RunOrderedPipeline<size_t>(
          200, threads, window,
          [](size_t i) {
            if (i % 7 == 0) std::this_thread::yield();  // vary the finishing order
            return i * i;
          },
          [&](size_t i, size_t square) {
            EXPECT_EQ(square, i * i);
            seen.push_back(i);
            return absl::OkStatus();
          });
      EXPECT_TRUE(status.ok());
      ASSERT_EQ(seen.size(), 200u);
      for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);
    }
  }
}

TEST(OrderedPipelineTest, StopsAtTheFirstConsumerError) {
  std::atomic<size_t> produced{0};
  size_t consumed = 0;
  absl::Status status = RunOrderedPipeline<int>(
      100000, 3, 8,
      [&](size_t) {
        ++produced;
        return 0;
      },
      [&](size_t i, int) {
        ++consumed;
        return i == 10 ? absl::DataLossError("stop") : absl::OkStatus();
      });
  EXPECT_TRUE(absl::IsDataLoss(status));
  EXPECT_EQ(consumed, 11u);
  EXPECT_LE(produced.load(), 11u + 8u);  // never more than the window ahead
}

TEST(OrderedPipelineTest, NothingToDo) {
  absl::Status status = RunOrderedPipeline<int>(
      0, 4, 8, [](size_t) { return 0; }, [](size_t, int) { return absl::OkStatus(); });
  EXPECT_TRUE(status.ok());
}

}  // namespace
}  // namespace forge
