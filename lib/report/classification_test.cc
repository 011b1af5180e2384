#include "lib/report/classification.h"

#include <numeric>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace forge {
namespace {

using ::testing::HasSubstr;

// Rows are true classes: class 0 has 3 images (2 right), class 1 has 1 (right), class 2 none,
// and nothing is predicted as class 2.
const std::vector<int64_t> kConfusion = {2, 1, 0,  //
                                         0, 1, 0,  //
                                         0, 0, 0};

TEST(ClassificationMetricsTest, PerClassAndAverages) {
  absl::StatusOr<ClassificationMetrics> metrics = ComputeClassificationMetrics(kConfusion, 3);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ASSERT_EQ(metrics->per_class.size(), 3u);
  EXPECT_DOUBLE_EQ(metrics->per_class[0].precision, 1.0);
  EXPECT_DOUBLE_EQ(metrics->per_class[0].recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(metrics->per_class[0].f1, 0.8);
  EXPECT_EQ(metrics->per_class[0].support, 3);
  EXPECT_DOUBLE_EQ(metrics->per_class[1].precision, 0.5);
  EXPECT_DOUBLE_EQ(metrics->per_class[1].recall, 1.0);
  EXPECT_DOUBLE_EQ(metrics->per_class[1].f1, 2.0 / 3);
  EXPECT_EQ(metrics->per_class[1].predicted, 2);
  // Zero division gives 0, as scikit-learn's default does.
  EXPECT_EQ(metrics->per_class[2].precision, 0);
  EXPECT_EQ(metrics->per_class[2].recall, 0);
  EXPECT_EQ(metrics->per_class[2].f1, 0);
  EXPECT_EQ(metrics->total, 4);
  EXPECT_DOUBLE_EQ(metrics->accuracy, 0.75);
  EXPECT_DOUBLE_EQ(metrics->macro.precision, 0.5);
  EXPECT_DOUBLE_EQ(metrics->macro.recall, (2.0 / 3 + 1) / 3);
  EXPECT_DOUBLE_EQ(metrics->weighted.precision, (3 * 1.0 + 1 * 0.5) / 4);
  EXPECT_DOUBLE_EQ(metrics->weighted.f1, (3 * 0.8 + 2.0 / 3) / 4);
  EXPECT_EQ(metrics->weighted.support, 4);
}

TEST(ClassificationMetricsTest, RefusesBadMatrices) {
  EXPECT_THAT(ComputeClassificationMetrics(kConfusion, 2).status().message(), HasSubstr("4"));
  const std::vector<int64_t> negative = {1, -1, 0, 1};
  absl::StatusOr<ClassificationMetrics> metrics = ComputeClassificationMetrics(negative, 2);
  ASSERT_FALSE(metrics.ok());
  EXPECT_EQ(metrics.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(metrics.status().message(), HasSubstr("row 0, column 1"));
  EXPECT_TRUE(ComputeClassificationMetrics({}, 0).ok());
}

TEST(ClassificationReportTest, ScikitLearnLayout) {
  absl::StatusOr<ClassificationMetrics> metrics = ComputeClassificationMetrics(kConfusion, 3);
  ASSERT_TRUE(metrics.ok());
  // What sklearn.metrics.classification_report(y_true, y_pred, labels=[0, 1, 2],
  // target_names=[...], zero_division=0) prints for this matrix.
  EXPECT_EQ(FormatClassificationReport(*metrics, {"n01440764 (tench)", "n02012849 (crane)", "n03126707"}),
            "                   precision    recall  f1-score   support\n"
            "\n"
            "n01440764 (tench)       1.00      0.67      0.80         3\n"
            "n02012849 (crane)       0.50      1.00      0.67         1\n"
            "        n03126707       0.00      0.00      0.00         0\n"
            "\n"
            "         accuracy                           0.75         4\n"
            "        macro avg       0.50      0.56      0.49         4\n"
            "     weighted avg       0.88      0.75      0.77         4\n");
}

TEST(ClassificationReportTest, ShortNamesUseTheWidthOfWeightedAvg) {
  const std::vector<int64_t> confusion = {1, 0, 0, 1};
  absl::StatusOr<ClassificationMetrics> metrics = ComputeClassificationMetrics(confusion, 2);
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(FormatClassificationReport(*metrics, {"a", "b"}, 3),
            "              precision    recall  f1-score   support\n"
            "\n"
            "           a      1.000     1.000     1.000         1\n"
            "           b      1.000     1.000     1.000         1\n"
            "\n"
            "    accuracy                          1.000         2\n"
            "   macro avg      1.000     1.000     1.000         2\n"
            "weighted avg      1.000     1.000     1.000         2\n");
}

TEST(MostConfusedPairsTest, LargestFirstTiesByRowThenColumn) {
  const std::vector<int64_t> confusion = {9, 2, 3,  //
                                          3, 9, 0,  //
                                          2, 3, 9};
  std::vector<ConfusedPair> pairs = MostConfusedPairs(confusion, 3, 4);
  ASSERT_EQ(pairs.size(), 4u);
  EXPECT_EQ(pairs[0].true_class, 0);
  EXPECT_EQ(pairs[0].predicted_class, 2);
  EXPECT_EQ(pairs[0].count, 3);
  EXPECT_DOUBLE_EQ(pairs[0].share_of_true, 3.0 / 14);
  EXPECT_EQ(pairs[1].true_class, 1);
  EXPECT_EQ(pairs[1].predicted_class, 0);
  EXPECT_EQ(pairs[2].true_class, 2);
  EXPECT_EQ(pairs[2].predicted_class, 1);
  EXPECT_EQ(pairs[3].true_class, 0);
  EXPECT_EQ(pairs[3].predicted_class, 1);
  EXPECT_EQ(pairs[3].count, 2);
  // Zero cells and the diagonal never appear.
  EXPECT_EQ(MostConfusedPairs(confusion, 3, 100).size(), 5u);
  EXPECT_TRUE(MostConfusedPairs(confusion, 3, 0).empty());
}

TEST(PairwiseSumTest, MatchesNumpysOrder) {
  // numpy.sum(numpy.full(1000, 0.1)) == 100.00000000000001 (pairwise); a plain loop gives
  // 99.9999999999986.
  const std::vector<double> tenths(1000, 0.1);
  EXPECT_EQ(PairwiseSum(tenths), 100.00000000000001);
  EXPECT_NE(std::accumulate(tenths.begin(), tenths.end(), 0.0), PairwiseSum(tenths));
  EXPECT_EQ(PairwiseSum({}), 0);
  EXPECT_EQ(PairwiseSum(std::vector<double>{1, 2, 3}), 6);
}

}  // namespace
}  // namespace forge
