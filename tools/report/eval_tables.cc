#include "tools/report/eval_tables.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "lib/report/csv.h"
#include "lib/report/format.h"
#include "lib/report/markdown.h"
#include "tools/report/class_names.h"

namespace forge {
namespace {

std::string Key(const EvalResult& eval, int index) {
  const std::string& wnid = eval.classes(index).wnid();
  return wnid.empty() ? absl::StrCat("#", index) : wnid;
}

}  // namespace

absl::Status ValidateEval(const EvalResult& eval, const std::string& source) {
  const int64_t n = eval.classes_size();
  std::set<std::string> wnids;
  for (int i = 0; i < eval.classes_size(); ++i) {
    const std::string& wnid = eval.classes(i).wnid();
    if (!wnid.empty() && !wnids.insert(wnid).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": class ", wnid, " is listed twice (classes[", i, "])"));
    }
  }
  if (eval.confusion_size() == 0) return absl::OkStatus();
  if (eval.confusion_size() != n * n) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": the confusion matrix has ", eval.confusion_size(), " cells, but ", n,
        " classes need ", n * n));
  }
  for (int i = 0; i < eval.confusion_size(); ++i) {
    if (eval.confusion(i) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": the confusion matrix has a negative count (",
                                                     eval.confusion(i), ") at row ", i / n,
                                                     ", column ", i % n));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> EvalClassLabels(const EvalResult& eval,
                                         const std::map<std::string, std::string>& names) {
  std::vector<std::string> labels;
  labels.reserve(eval.classes_size());
  for (int i = 0; i < eval.classes_size(); ++i) {
    const ClassInfo& info = eval.classes(i);
    auto it = names.find(info.wnid());
    labels.push_back(ClassLabel(i, info.wnid(), it != names.end() ? it->second : info.name()));
  }
  return labels;
}

std::string ConfusionCsv(const EvalResult& eval) {
  const int n = eval.classes_size();
  CsvWriter csv;
  csv.AddField("true\\predicted");
  for (int i = 0; i < n; ++i) csv.AddField(Key(eval, i));
  csv.EndRow();
  for (int row = 0; row < n; ++row) {
    csv.AddField(Key(eval, row));
    for (int column = 0; column < n; ++column) {
      csv.AddInt(eval.confusion(static_cast<int64_t>(row) * n + column));
    }
    csv.EndRow();
  }
  return csv.Release();
}

std::string MostConfusedMarkdown(const std::vector<ConfusedPair>& pairs,
                                 const std::vector<std::string>& labels) {
  std::string out;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const ConfusedPair& pair = pairs[i];
    absl::StrAppend(&out, i + 1, ". true ", EscapeMarkdown(labels[pair.true_class]),
                    " \u2192 predicted ", EscapeMarkdown(labels[pair.predicted_class]), ": ",
                    pair.count, " (", FormatFixed(100 * pair.share_of_true, 1),
                    "% of the true class)\n");
  }
  return out;
}

}  // namespace forge
