// The evaluation as text: class labels, the classification report, the confusion-matrix CSV
// and the most-confused pairs.
#ifndef FORGE_TOOLS_REPORT_EVAL_TABLES_H_
#define FORGE_TOOLS_REPORT_EVAL_TABLES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/report/classification.h"
#include "proto/eval.pb.h"

namespace forge {

// Checks an EvalResult read from `source`: WNIDs are unique, and the confusion matrix is either
// absent or classes x classes with no negative count. Fails with InvalidArgument naming
// `source`.
absl::Status ValidateEval(const EvalResult& eval, const std::string& source);

// One label per class of `eval`, "wnid (name)" (see ClassLabel), the name taken from `names`
// (a synset mapping) when it has the WNID, else from the eval's classes.
std::vector<std::string> EvalClassLabels(const EvalResult& eval,
                                         const std::map<std::string, std::string>& names);

// confusion_matrix.csv: a header row "true\predicted,<wnid>,...", then one row per true class
// starting with its WNID (or "#<index>" without one), counts as integers.
std::string ConfusionCsv(const EvalResult& eval);

// The "Most-confused pairs" list of logs.md: one numbered line per pair,
// "true n02012849 (crane) → predicted n03126707 (crane): 4 (40.0% of the true class)".
std::string MostConfusedMarkdown(const std::vector<ConfusedPair>& pairs,
                                 const std::vector<std::string>& labels);

}  // namespace forge

#endif  // FORGE_TOOLS_REPORT_EVAL_TABLES_H_
