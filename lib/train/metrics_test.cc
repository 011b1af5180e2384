// Top-1/top-5 counting on hand-made logits (ties included), fewer than 5 classes, merging, and the
// confusion matrix against hand-counted predictions.
#include "lib/train/metrics.h"

#include <gtest/gtest.h>

#include <vector>

namespace forge {
namespace {

TEST(CountBatchTest, CountsTop1AndTop5) {
  // Label rank per row: 1st, 3rd, 6th, 5th.
  torch::Tensor logits = torch::tensor({{0.1, 0.2, 0.9, 0.0, -1.0, -2.0, 0.3},
                                        {0.5, 0.9, 0.1, 0.8, 0.0, -0.5, -0.4},
                                        {0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.45},
                                        {0.0, 1.0, 2.0, 3.0, -1.0, -2.0, -3.0}});
  torch::Tensor labels = torch::tensor({2, 0, 5, 4}, torch::kInt64);
  for (torch::Dtype dtype : {torch::kFloat32, torch::kBFloat16, torch::kFloat16, torch::kFloat64}) {
    ClassificationCounts counts;
    CountBatch(logits.to(dtype), labels, 1.5, &counts);
    EXPECT_EQ(counts.images, 4);
    EXPECT_EQ(counts.top1, 1);
    EXPECT_EQ(counts.top5, 3);
    EXPECT_DOUBLE_EQ(counts.loss_sum, 6.0);
    EXPECT_DOUBLE_EQ(counts.Top1Percent(), 25.0);
    EXPECT_DOUBLE_EQ(counts.Top5Percent(), 75.0);
    EXPECT_DOUBLE_EQ(counts.MeanLoss(), 1.5);
  }
}

TEST(CountBatchTest, TiesAreBrokenAsTorchTopkDoes) {
  // torch.topk(k=5) on the CPU (torch 2.11, every float dtype) returns, per row:
  //   (1,1,1,0,0,0,0)   -> 1 0 2 6 5   (not 0 first, unlike argmax)
  //   (0,2,2,2,2,2,2)   -> 3 6 5 4 2   (class 1 ties with the top yet is left out)
  //   (3,3,3,3,3,3,3)   -> 3 6 5 4 0
  //   (5,4,4,4,4,4,1)   -> 0 1 5 4 3
  // If a LibTorch upgrade changes these, update the expectations (and the header's note).
  torch::Tensor logits = torch::tensor({{1.f, 1.f, 1.f, 0.f, 0.f, 0.f, 0.f},
                                        {0.f, 2.f, 2.f, 2.f, 2.f, 2.f, 2.f},
                                        {0.f, 2.f, 2.f, 2.f, 2.f, 2.f, 2.f},
                                        {3.f, 3.f, 3.f, 3.f, 3.f, 3.f, 3.f},
                                        {5.f, 4.f, 4.f, 4.f, 4.f, 4.f, 1.f}});
  const struct {
    int64_t label;
    int top1, top5;
  } rows[] = {{0, 0, 1}, {1, 0, 0}, {3, 1, 1}, {1, 0, 0}, {2, 0, 0}};
  int64_t top1 = 0, top5 = 0;
  for (int i = 0; i < 5; ++i) {
    ClassificationCounts row;
    CountBatch(logits.slice(0, i, i + 1), torch::tensor({rows[i].label}, torch::kInt64), 0.0, &row);
    EXPECT_EQ(row.top1, rows[i].top1) << "row " << i;
    EXPECT_EQ(row.top5, rows[i].top5) << "row " << i;
    top1 += row.top1;
    top5 += row.top5;
  }
  ClassificationCounts all;
  torch::Tensor labels = torch::tensor({0, 1, 3, 1, 2}, torch::kInt64);
  CountBatch(logits.to(torch::kBFloat16), labels, 0.0, &all);
  EXPECT_EQ(all.top1, top1);
  EXPECT_EQ(all.top5, top5);
  EXPECT_EQ(all.top1, 1);
  EXPECT_EQ(all.top5, 2);
}

TEST(CountBatchTest, FewerThanFiveClassesMakeTop5TopC) {
  torch::Tensor logits = torch::tensor({{0.1, 0.7, 0.2}, {0.3, 0.2, 0.1}, {1.0, 2.0, 3.0}});
  torch::Tensor labels = torch::tensor({2, 0, 0}, torch::kInt64);
  ClassificationCounts counts;
  CountBatch(logits, labels, 0.5, &counts);
  EXPECT_EQ(counts.top1, 1);
  EXPECT_EQ(counts.top5, 3);  // top-3: always right
  EXPECT_DOUBLE_EQ(counts.Top5Percent(), 100.0);
}

TEST(CountBatchTest, MergesAndWeightsTheLossByImages) {
  ClassificationCounts a, b;
  CountBatch(torch::eye(4), torch::tensor({0, 1, 2, 0}, torch::kInt64), 2.0, &a);  // 3 top-1 hits
  CountBatch(torch::eye(4).slice(0, 0, 2), torch::tensor({3, 1}, torch::kInt64), 1.0, &b);
  EXPECT_EQ(a.top1, 3);
  EXPECT_EQ(b.top1, 1);
  a.Merge(b);
  EXPECT_EQ(a.images, 6);
  EXPECT_EQ(a.top1, 4);
  EXPECT_EQ(a.top5, 6);  // 4 classes: top-4
  EXPECT_DOUBLE_EQ(a.MeanLoss(), (2.0 * 4 + 1.0 * 2) / 6);
  EXPECT_DOUBLE_EQ(ClassificationCounts().Top1Percent(), 0.0);
  EXPECT_DOUBLE_EQ(ClassificationCounts().MeanLoss(), 0.0);
}

TEST(CountBatchTest, EmptyBatchCountsNothing) {
  ClassificationCounts counts;
  CountBatch(torch::zeros({0, 10}), torch::zeros({0}, torch::kInt64), 3.0, &counts);
  EXPECT_EQ(counts.images, 0);
  EXPECT_EQ(counts.loss_sum, 0.0);
}

TEST(ConfusionMatrixTest, CountsPairsByHand) {
  ConfusionMatrix matrix(3);
  EXPECT_EQ(matrix.num_classes(), 3);
  matrix.Add(torch::tensor({0, 0, 1, 2, 2, 2}, torch::kInt64), torch::tensor({0, 1, 1, 2, 0, 2}, torch::kInt64));
  matrix.Add(torch::tensor({1, 2}, torch::kInt64), torch::tensor({0, 2}, torch::kInt64));
  // rows: true class; columns: predicted.
  EXPECT_EQ(matrix.counts(), (std::vector<int64_t>{1, 1, 0,  //
                                                   1, 1, 0,  //
                                                   1, 0, 3}));
  EXPECT_EQ(matrix.at(2, 2), 3);
  EXPECT_EQ(matrix.at(1, 0), 1);
  EXPECT_EQ(matrix.at(0, 2), 0);
}

TEST(ConfusionMatrixTest, AcceptsArgmaxOfLogits) {
  ConfusionMatrix matrix(4);
  torch::Tensor logits = torch::tensor({{0.f, 9.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 9.f}, {9.f, 0.f, 0.f, 0.f}});
  matrix.Add(torch::tensor({1, 2, 0}, torch::kInt64), logits.argmax(1));
  EXPECT_EQ(matrix.at(1, 1), 1);
  EXPECT_EQ(matrix.at(2, 3), 1);
  EXPECT_EQ(matrix.at(0, 0), 1);
  int64_t total = 0;
  for (int64_t c : matrix.counts()) total += c;
  EXPECT_EQ(total, 3);
}

TEST(ConfusionMatrixDeathTest, DiesOnClassOutOfRange) {
  ConfusionMatrix matrix(3);
  EXPECT_DEATH(matrix.Add(torch::tensor({0, 3}, torch::kInt64), torch::tensor({0, 0}, torch::kInt64)),
               "must be in \\[0, 3\\)");
}

TEST(MetricsTest, RunOnCudaWhenPresent) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU here";
  torch::Tensor logits = torch::eye(6).to(torch::kCUDA).to(torch::kHalf);
  torch::Tensor labels = torch::tensor({0, 1, 2, 3, 4, 0}, torch::kInt64).to(torch::kCUDA);
  ClassificationCounts counts;
  CountBatch(logits, labels, 1.0, &counts);
  EXPECT_EQ(counts.top1, 5);
  ConfusionMatrix matrix(6);
  matrix.Add(labels, logits.argmax(1));
  EXPECT_EQ(matrix.at(0, 5), 1);
  DeviceClassificationCounts on_device;
  on_device.Add(logits, labels, torch::full({}, 1.0f, torch::kCUDA));
  const ClassificationCounts read = on_device.Read();
  EXPECT_EQ(read.images, 6);
  EXPECT_EQ(read.top1, 5);
  EXPECT_EQ(read.top5, counts.top5);
  EXPECT_EQ(read.loss_sum, 6.0);
}

// The device-side counts equal CountBatch's, batch after batch, and Read() adds nothing twice.
TEST(DeviceClassificationCountsTest, EqualsCountBatch) {
  torch::manual_seed(5);
  ClassificationCounts expected;
  DeviceClassificationCounts counts;
  EXPECT_EQ(counts.Read().images, 0);
  for (int batch = 0; batch < 4; ++batch) {
    const torch::Tensor logits = torch::randn({9, 7});
    const torch::Tensor labels = torch::randint(0, 7, {9}, torch::kInt64);
    const torch::Tensor loss = torch::rand({});
    CountBatch(logits, labels, loss.item<float>(), &expected);
    counts.Add(logits, labels, loss);
    const ClassificationCounts read = counts.Read();
    EXPECT_EQ(read.images, expected.images);
    EXPECT_EQ(read.top1, expected.top1);
    EXPECT_EQ(read.top5, expected.top5);
    EXPECT_EQ(read.loss_sum, expected.loss_sum);
  }
  EXPECT_GT(expected.top5, expected.top1);
}

}  // namespace
}  // namespace forge
