#include "tools/report/eval_tables.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lib/io/proto_file.h"
#include "testdata/scratch.h"
#include "testdata/tool_runner.h"

namespace forge {
namespace {

using testdata::ReadTestFile;
using testdata::Runfile;
using ::testing::HasSubstr;

EvalResult ReadEval(const std::string& path) {
  EvalResult eval;
  absl::Status status = ReadProtoFile(path, &eval);
  EXPECT_TRUE(status.ok()) << status;
  return eval;
}

// The golden files come from scikit-learn (testdata/check_sklearn.py), not from this code.
class ScikitLearnGoldenTest : public ::testing::TestWithParam<std::tuple<const char*, int>> {};

TEST_P(ScikitLearnGoldenTest, ClassificationReportMatchesScikitLearn) {
  const auto [name, digits] = GetParam();
  const std::string dir = Runfile("tools/report/testdata/sklearn/");
  const EvalResult eval = ReadEval(absl::StrCat(dir, name, ".eval.txtpb"));
  ASSERT_TRUE(ValidateEval(eval, name).ok());
  absl::StatusOr<ClassificationMetrics> metrics = ComputeClassificationMetrics(
      absl::MakeConstSpan(eval.confusion().data(), eval.confusion_size()), eval.classes_size());
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const std::string expected = ReadTestFile(absl::StrCat(dir, name, ".digits", digits, ".txt"));
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(FormatClassificationReport(*metrics, EvalClassLabels(eval, {}), digits), expected);
}

INSTANTIATE_TEST_SUITE_P(Cases, ScikitLearnGoldenTest,
                         ::testing::Combine(::testing::Values("ties", "random40", "random150"),
                                            ::testing::Values(2, 4)));

EvalResult SmallEval() {
  EvalResult eval;
  for (const char* wnid : {"n02012849", "n03126707", ""}) {
    ClassInfo* info = eval.add_classes();
    info->set_wnid(wnid);
    info->set_name("crane");
  }
  for (int64_t count : {5, 2, 0, 3, 4, 1, 0, 0, 7}) eval.add_confusion(count);
  return eval;
}

TEST(EvalTablesTest, LabelsPreferTheSynsetMapping) {
  EXPECT_THAT(EvalClassLabels(SmallEval(), {{"n03126707", "crane, machine"}}),
              ::testing::ElementsAre("n02012849 (crane)", "n03126707 (crane, machine)", "#2 (crane)"));
}

TEST(EvalTablesTest, ConfusionCsvKeyedByWnid) {
  EXPECT_EQ(ConfusionCsv(SmallEval()),
            "true\\predicted,n02012849,n03126707,#2\n"
            "n02012849,5,2,0\n"
            "n03126707,3,4,1\n"
            "#2,0,0,7\n");
}

TEST(EvalTablesTest, MostConfusedLines) {
  const std::vector<std::string> labels = {"n02012849 (crane)", "n03126707 (crane)", "n0 (a*b)"};
  ConfusedPair pair;
  pair.true_class = 1;
  pair.predicted_class = 0;
  pair.count = 3;
  pair.share_of_true = 3.0 / 8;
  ConfusedPair other;
  other.true_class = 2;
  other.predicted_class = 1;
  other.count = 1;
  other.share_of_true = 1.0 / 3;
  EXPECT_EQ(MostConfusedMarkdown({pair, other}, labels),
            "1. true n03126707 (crane) \u2192 predicted n02012849 (crane): 3 (37.5% of the true class)\n"
            "2. true n0 (a\\*b) \u2192 predicted n03126707 (crane): 1 (33.3% of the true class)\n");
}

TEST(ValidateEvalTest, RefusesBadMatricesAndRepeatedWnids) {
  EXPECT_TRUE(ValidateEval(SmallEval(), "eval.pb").ok());
  EvalResult eval = SmallEval();
  eval.add_confusion(1);
  absl::Status status = ValidateEval(eval, "eval.pb");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("eval.pb: the confusion matrix has 10 cells, but 3 classes need 9"));
  eval = SmallEval();
  eval.set_confusion(4, -2);
  EXPECT_THAT(ValidateEval(eval, "eval.pb").message(), HasSubstr("negative count (-2) at row 1, column 1"));
  eval = SmallEval();
  eval.mutable_classes(1)->set_wnid("n02012849");
  EXPECT_THAT(ValidateEval(eval, "eval.pb").message(), HasSubstr("n02012849 is listed twice"));
  eval = SmallEval();
  eval.clear_confusion();
  EXPECT_TRUE(ValidateEval(eval, "eval.pb").ok());
}

}  // namespace
}  // namespace forge
