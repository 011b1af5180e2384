#include "lib/report/classification.h"

#include <algorithm>
#include <queue>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/report/format.h"

namespace forge {
namespace {

double Divide(double numerator, double denominator) {
  return denominator == 0 ? 0 : numerator / denominator;
}

// numpy.average(values, weights): sum(values * weights) / sum(weights), both pairwise.
double WeightedMean(const std::vector<double>& values, const std::vector<double>& weights) {
  std::vector<double> products(values.size());
  for (size_t i = 0; i < values.size(); ++i) products[i] = values[i] * weights[i];
  return Divide(PairwiseSum(products), PairwiseSum(weights));
}

std::string PadLeft(const std::string& text, int width) {
  return std::string(std::max(0, width - Utf8Length(text)), ' ') + text;
}

}  // namespace

double PairwiseSum(absl::Span<const double> a) {
  // numpy/core/src/umath/loops_utils.h.src: blocks of 128 summed with 8 accumulators.
  const size_t n = a.size();
  if (n < 8) {
    double sum = 0.;
    for (double v : a) sum += v;
    return sum;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += a[i];
    return sum;
  }
  size_t half = n / 2;
  half -= half % 8;
  return PairwiseSum(a.subspan(0, half)) + PairwiseSum(a.subspan(half));
}

absl::StatusOr<ClassificationMetrics> ComputeClassificationMetrics(
    absl::Span<const int64_t> confusion, int classes) {
  if (classes < 0 || confusion.size() != static_cast<size_t>(classes) * classes) {
    return absl::InvalidArgumentError(absl::StrCat("the confusion matrix has ", confusion.size(),
                                                   " cells; ", classes, " classes need ",
                                                   static_cast<int64_t>(classes) * classes));
  }
  ClassificationMetrics metrics;
  metrics.per_class.resize(classes);
  int64_t correct = 0;
  for (int row = 0; row < classes; ++row) {
    for (int column = 0; column < classes; ++column) {
      const int64_t count = confusion[static_cast<size_t>(row) * classes + column];
      if (count < 0) {
        return absl::InvalidArgumentError(absl::StrCat("the confusion matrix has a negative count (",
                                                       count, ") at row ", row, ", column ", column));
      }
      metrics.per_class[row].support += count;
      metrics.per_class[column].predicted += count;
      if (row == column) metrics.per_class[row].correct = count;
    }
  }
  std::vector<double> precision(classes), recall(classes), f1(classes), support(classes);
  for (int c = 0; c < classes; ++c) {
    ClassMetrics& m = metrics.per_class[c];
    m.precision = Divide(m.correct, m.predicted);
    m.recall = Divide(m.correct, m.support);
    m.f1 = Divide(2.0 * m.correct, static_cast<double>(m.support) + m.predicted);
    precision[c] = m.precision;
    recall[c] = m.recall;
    f1[c] = m.f1;
    support[c] = static_cast<double>(m.support);
    metrics.total += m.support;
    correct += m.correct;
  }
  metrics.accuracy = Divide(correct, metrics.total);
  const std::vector<double> ones(classes, 1.0);
  metrics.macro.precision = WeightedMean(precision, ones);
  metrics.macro.recall = WeightedMean(recall, ones);
  metrics.macro.f1 = WeightedMean(f1, ones);
  metrics.weighted.precision = WeightedMean(precision, support);
  metrics.weighted.recall = WeightedMean(recall, support);
  metrics.weighted.f1 = WeightedMean(f1, support);
  for (ClassMetrics* average : {&metrics.macro, &metrics.weighted}) {
    average->support = metrics.total;
    average->predicted = metrics.total;
    average->correct = correct;
  }
  return metrics;
}

std::string FormatClassificationReport(const ClassificationMetrics& metrics,
                                       absl::Span<const std::string> labels, int digits) {
  // sklearn.metrics.classification_report: a name column as wide as the longest name (at
  // least "weighted avg" and `digits`) and a space, then four columns of width 9, each after
  // a space.
  int width = std::max<int>(12, digits);
  for (const std::string& label : labels) width = std::max(width, Utf8Length(label));
  auto value = [&](double v) { return absl::StrCat(" ", PadLeft(FormatFixed(v, digits), 9)); };
  auto count = [&](int64_t v) { return absl::StrCat(" ", PadLeft(absl::StrCat(v), 9)); };
  std::string out = absl::StrCat(PadLeft("", width), " ", " precision", "    recall",
                                 "  f1-score", "   support", "\n\n");
  for (size_t c = 0; c < metrics.per_class.size(); ++c) {
    const ClassMetrics& m = metrics.per_class[c];
    absl::StrAppend(&out, PadLeft(c < labels.size() ? labels[c] : absl::StrCat(c), width), " ",
                    value(m.precision), value(m.recall), value(m.f1), count(m.support), "\n");
  }
  absl::StrAppend(&out, "\n", PadLeft("accuracy", width), " ", std::string(20, ' '),
                  value(metrics.accuracy), count(metrics.total), "\n");
  for (const auto& [name, m] : {std::pair<const char*, const ClassMetrics&>{"macro avg", metrics.macro},
                                {"weighted avg", metrics.weighted}}) {
    absl::StrAppend(&out, PadLeft(name, width), " ", value(m.precision), value(m.recall),
                    value(m.f1), count(m.support), "\n");
  }
  return out;
}

std::vector<ConfusedPair> MostConfusedPairs(absl::Span<const int64_t> confusion, int classes,
                                            int limit) {
  std::vector<ConfusedPair> pairs;
  if (limit <= 0 || confusion.size() != static_cast<size_t>(classes) * classes) return pairs;
  // A bounded heap whose top is the pair that ranks last.
  auto ranks_before = [](const ConfusedPair& a, const ConfusedPair& b) {
    if (a.count != b.count) return a.count > b.count;
    if (a.true_class != b.true_class) return a.true_class < b.true_class;
    return a.predicted_class < b.predicted_class;
  };
  std::priority_queue<ConfusedPair, std::vector<ConfusedPair>, decltype(ranks_before)> heap(ranks_before);
  std::vector<int64_t> support(classes, 0);
  for (int row = 0; row < classes; ++row) {
    for (int column = 0; column < classes; ++column) {
      const int64_t count = confusion[static_cast<size_t>(row) * classes + column];
      support[row] += count;
      if (row == column || count <= 0) continue;
      if (static_cast<int>(heap.size()) == limit && !(count > heap.top().count)) continue;
      ConfusedPair pair;
      pair.true_class = row;
      pair.predicted_class = column;
      pair.count = count;
      heap.push(pair);
      if (static_cast<int>(heap.size()) > limit) heap.pop();
    }
  }
  while (!heap.empty()) {
    pairs.push_back(heap.top());
    heap.pop();
  }
  std::sort(pairs.begin(), pairs.end(), ranks_before);
  for (ConfusedPair& pair : pairs) pair.share_of_true = Divide(pair.count, support[pair.true_class]);
  return pairs;
}

}  // namespace forge
