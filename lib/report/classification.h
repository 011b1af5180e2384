// Classification metrics from a confusion matrix, and scikit-learn's text report of them.
#ifndef FORGE_LIB_REPORT_CLASSIFICATION_H_
#define FORGE_LIB_REPORT_CLASSIFICATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace forge {

struct ClassMetrics {
  double precision = 0;   // correct / predicted; 0 when nothing was predicted as the class
  double recall = 0;      // correct / support; 0 when the class has no images
  double f1 = 0;          // 2 correct / (support + predicted); 0 when both are 0
  int64_t support = 0;    // images whose true class this is (the row sum)
  int64_t predicted = 0;  // images predicted as this class (the column sum)
  int64_t correct = 0;    // the diagonal cell
};

struct ClassificationMetrics {
  std::vector<ClassMetrics> per_class;  // index order
  int64_t total = 0;                    // images
  double accuracy = 0;                  // correct / total; 0 when there are no images
  ClassMetrics macro;                   // unweighted means over the classes; support = total
  ClassMetrics weighted;                // means weighted by support; support = total
};

// Metrics of the `classes` x `classes` matrix `confusion` (row-major, rows are true classes,
// columns predicted classes), defined as scikit-learn's precision_recall_fscore_support with
// zero_division=0, averages summed in numpy's order so that printed digits agree with it.
// Fails with InvalidArgument when the size is not classes^2 or a count is negative.
absl::StatusOr<ClassificationMetrics> ComputeClassificationMetrics(
    absl::Span<const int64_t> confusion, int classes);

// scikit-learn's classification_report text for `metrics`, one row per class labelled by
// `labels` (one per class), values with `digits` decimals:
//
//                    precision    recall  f1-score   support
//
//   n01440764 (tench)     0.50      1.00      0.67         1
//   ...
//
//            accuracy                           0.75         4
//           macro avg     0.83      0.83      0.78         4
//        weighted avg     0.88      0.75      0.75         4
std::string FormatClassificationReport(const ClassificationMetrics& metrics,
                                       absl::Span<const std::string> labels, int digits = 2);

struct ConfusedPair {
  int true_class = 0;
  int predicted_class = 0;
  int64_t count = 0;
  double share_of_true = 0;  // count / support of the true class
};

// The `limit` largest off-diagonal cells with a count above 0, largest first, ties broken by
// row and then column index. `confusion` must be classes x classes.
std::vector<ConfusedPair> MostConfusedPairs(absl::Span<const int64_t> confusion, int classes,
                                            int limit);

// numpy's pairwise summation (what numpy.sum does on a contiguous float64 array), so that
// averages round exactly as scikit-learn's do.
double PairwiseSum(absl::Span<const double> values);

}  // namespace forge

#endif  // FORGE_LIB_REPORT_CLASSIFICATION_H_
