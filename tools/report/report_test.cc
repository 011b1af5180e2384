// Whole-report tests: golden files for every text output on the hand-made run in
// testdata/golden (a resumed 3-epoch log, a 4-class eval with two "crane"s, an LR curve), PNGs
// that decode at the asked size, byte-identical reruns, and errors that name the file.
#include "tools/report/report.h"

#include <cairo/cairo.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "lib/io/proto_file.h"
#include "proto/train_log.pb.h"
#include "testdata/scratch.h"
#include "testdata/tool_runner.h"

namespace forge {
namespace {

namespace fs = std::filesystem;
using testdata::NewScratchDir;
using testdata::ReadTestFile;
using testdata::Runfile;
using testdata::WriteTestFile;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const char* const kTextOutputs[] = {"train_log.csv", "train_log_full.csv", "logs.md",
                                    "classification_report.txt", "confusion_matrix.csv",
                                    "model_summary.txt"};
const char* const kPngs[] = {"loss.png", "accuracy.png", "lr.png", "throughput.png",
                             "lr_range_test.png"};

std::string Golden(const std::string& name) {
  return Runfile("tools/report/testdata/golden/" + name);
}

// A run directory made from testdata/golden (the train log converted to binary), a README with
// markers beside it, and options naming every input.
ReportOptions GoldenRun(const std::string& dir) {
  TrainLog log;
  absl::Status status = ReadProtoFile(Golden("train_log.txtpb"), &log);
  EXPECT_TRUE(status.ok()) << status;
  fs::create_directories(dir + "/run");
  EXPECT_TRUE(WriteProtoFile(dir + "/run/train_log.pb", log).ok());
  WriteTestFile(dir + "/run/config.txtpb", ReadTestFile(Golden("config.txtpb")));
  WriteTestFile(dir + "/run/model_summary.txtpb", ReadTestFile(Golden("model_summary.txtpb")));
  WriteTestFile(dir + "/README.md", ReadTestFile(Golden("README.in.md")));
  ReportOptions options;
  options.run_dir = dir + "/run";
  options.eval = Golden("eval.txtpb");
  options.lr_curve = Golden("lr_curve.txtpb");
  options.synset_mapping = Golden("synset_mapping.txt");
  options.readme = dir + "/README.md";
  return options;
}

// Copies the report where bazel keeps undeclared test outputs, for people to look at.
void Keep(const std::string& out_dir, const std::string& prefix) {
  const char* keep = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (keep == nullptr) return;
  for (const auto& entry : fs::directory_iterator(out_dir)) {
    fs::copy_file(entry.path(), fs::path(keep) / (prefix + entry.path().filename().string()),
                  fs::copy_options::overwrite_existing);
  }
}

TEST(ReportGoldenTest, TextOutputsMatchGoldenFiles) {
  const std::string dir = NewScratchDir();
  absl::StatusOr<ReportResult> result = RunReport(GoldenRun(dir));
  ASSERT_TRUE(result.ok()) << result.status();
  Keep(result->out_dir, "golden_");
  EXPECT_EQ(result->out_dir, dir + "/run/report");
  EXPECT_THAT(result->written,
              ElementsAre("train_log.csv", "train_log_full.csv", "loss.png", "accuracy.png", "lr.png",
                          "throughput.png", "lr_range_test.png", "classification_report.txt",
                          "confusion_matrix.csv", "model_summary.txt", "logs.md"));
  EXPECT_THAT(result->left_out, IsEmpty());
  for (const char* name : kTextOutputs) {
    EXPECT_EQ(ReadTestFile(result->out_dir + "/" + name), ReadTestFile(Golden(absl::StrCat("expected/", name))))
        << name << " differs from testdata/golden/expected/" << name
        << " (regenerate with tools/report/testdata/update_goldens.sh)";
  }
  EXPECT_EQ(ReadTestFile(dir + "/README.md"), ReadTestFile(Golden("expected/README.md")));
}

TEST(ReportGoldenTest, ResumedRowsAppearOnceWithTheLastValues) {
  const std::string dir = NewScratchDir();
  absl::StatusOr<ReportResult> result = RunReport(GoldenRun(dir));
  ASSERT_TRUE(result.ok()) << result.status();
  const std::string csv = ReadTestFile(result->out_dir + "/train_log.csv");
  EXPECT_THAT(csv, HasSubstr("\n2,train,4.8123,12.875,30.5,0.05,2481.25\n"));
  EXPECT_THAT(csv, Not(HasSubstr("9.99")));
  const std::string logs = ReadTestFile(result->out_dir + "/logs.md");
  size_t headers = 0;
  for (size_t at = logs.find("| epoch |"); at != std::string::npos; at = logs.find("| epoch |", at + 1)) ++headers;
  EXPECT_EQ(headers, 1u);
  EXPECT_THAT(result->notes, Contains(HasSubstr("2 repeated (epoch, phase) row(s)")));
}

// Decodes a PNG file with cairo; returns width x height, or 0x0 if it is not a PNG.
std::pair<int, int> PngSize(const std::string& path) {
  cairo_surface_t* surface = cairo_image_surface_create_from_png(path.c_str());
  std::pair<int, int> size{0, 0};
  if (cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS) {
    size = {cairo_image_surface_get_width(surface), cairo_image_surface_get_height(surface)};
  }
  cairo_surface_destroy(surface);
  return size;
}

TEST(ReportGoldenTest, PngsDecodeAtTheAskedSize) {
  const std::string dir = NewScratchDir();
  ReportOptions options = GoldenRun(dir);
  options.plot_width = 800;
  options.plot_height = 450;
  absl::StatusOr<ReportResult> result = RunReport(options);
  ASSERT_TRUE(result.ok()) << result.status();
  for (const char* name : kPngs) {
    EXPECT_EQ(PngSize(result->out_dir + "/" + name), std::make_pair(800, 450)) << name;
    EXPECT_GT(ReadTestFile(result->out_dir + "/" + name).size(), 5000u) << name << " looks empty";
  }
}

TEST(ReportGoldenTest, RerunGivesByteIdenticalFiles) {
  const std::string dir = NewScratchDir();
  const ReportOptions options = GoldenRun(dir);
  absl::StatusOr<ReportResult> first = RunReport(options);
  ASSERT_TRUE(first.ok()) << first.status();
  std::map<std::string, std::string> before;
  for (const auto& entry : fs::directory_iterator(first->out_dir)) before[entry.path().filename()] = ReadTestFile(entry.path());
  const std::string readme = ReadTestFile(options.readme);
  absl::StatusOr<ReportResult> second = RunReport(options);
  ASSERT_TRUE(second.ok()) << second.status();
  std::map<std::string, std::string> after;
  for (const auto& entry : fs::directory_iterator(first->out_dir)) after[entry.path().filename()] = ReadTestFile(entry.path());
  EXPECT_EQ(before.size(), 11u) << "no temporary files left behind";
  EXPECT_TRUE(before == after);
  EXPECT_EQ(ReadTestFile(options.readme), readme);
}

TEST(ReportTest, MissingOptionalInputsAreLeftOutWithNotes) {
  const std::string dir = NewScratchDir();
  ReportOptions options = GoldenRun(dir);
  fs::remove(dir + "/run/config.txtpb");
  fs::remove(dir + "/run/model_summary.txtpb");
  options.eval.clear();
  options.lr_curve.clear();
  options.synset_mapping.clear();
  options.readme.clear();
  options.out_dir = dir + "/elsewhere";
  absl::StatusOr<ReportResult> result = RunReport(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->written, ElementsAre("train_log.csv", "train_log_full.csv", "loss.png",
                                           "accuracy.png", "lr.png", "throughput.png", "logs.md"));
  EXPECT_THAT(result->left_out, ElementsAre("lr_range_test.png", "classification_report.txt",
                                            "confusion_matrix.csv", "model_summary.txt"));
  EXPECT_THAT(result->notes, Contains("no --eval: classification report and confusion matrix left out"));
  EXPECT_THAT(result->notes, Contains("no --lr_curve: LR range test left out"));
  EXPECT_THAT(result->notes, Contains(HasSubstr("no model_summary.txtpb")));
  EXPECT_THAT(result->notes, Contains(HasSubstr("no config.txtpb")));
  EXPECT_FALSE(fs::exists(dir + "/run/report"));
  const std::string logs = ReadTestFile(dir + "/elsewhere/logs.md");
  EXPECT_THAT(logs, HasSubstr("## Left out\n"));
  EXPECT_THAT(logs, Not(HasSubstr("## Evaluation")));
  EXPECT_THAT(logs, Not(HasSubstr("## Config")));
  EXPECT_EQ(SummaryLine(*result),
            absl::StrCat("report: out_dir=", dir, "/elsewhere wrote=train_log.csv,train_log_full.csv,"
                         "loss.png,accuracy.png,lr.png,throughput.png,logs.md left_out=lr_range_test.png,"
                         "classification_report.txt,confusion_matrix.csv,model_summary.txt"));
}

TEST(ReportTest, OutputsOfAnEarlierRunThatThisOneLeavesOutAreRemoved) {
  const std::string dir = NewScratchDir();
  ReportOptions options = GoldenRun(dir);
  ASSERT_TRUE(RunReport(options).ok());
  WriteTestFile(dir + "/run/report/mine.txt", "a user's file");
  options.eval.clear();
  absl::StatusOr<ReportResult> result = RunReport(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->removed, ElementsAre("classification_report.txt", "confusion_matrix.csv"));
  EXPECT_FALSE(fs::exists(dir + "/run/report/classification_report.txt"));
  EXPECT_TRUE(fs::exists(dir + "/run/report/mine.txt"));
  EXPECT_THAT(SummaryLine(*result), HasSubstr(" removed=classification_report.txt,confusion_matrix.csv "));
}

// kill -9 while writing leaves a temporary file; the next report removes those of its own outputs.
TEST(ReportTest, TemporariesOfAKilledReportAreRemoved) {
  const std::string dir = NewScratchDir();
  ReportOptions options = GoldenRun(dir);
  fs::create_directories(dir + "/run/report");
  WriteTestFile(dir + "/run/report/loss.png.tmp.Ab12Cd", "half-written");
  WriteTestFile(dir + "/run/report/logs.md.tmp.000000", "half-written");
  WriteTestFile(dir + "/run/report/mine.txt.tmp.Ab12Cd", "a user's file");
  ASSERT_TRUE(RunReport(options).ok());
  EXPECT_FALSE(fs::exists(dir + "/run/report/loss.png.tmp.Ab12Cd"));
  EXPECT_FALSE(fs::exists(dir + "/run/report/logs.md.tmp.000000"));
  EXPECT_TRUE(fs::exists(dir + "/run/report/mine.txt.tmp.Ab12Cd"));
}

TEST(ReportTest, EmptyTrainLogStillReports) {
  const std::string dir = NewScratchDir();
  fs::create_directories(dir + "/run");
  WriteTestFile(dir + "/run/train_log.pb", "");
  ReportOptions options;
  options.run_dir = dir + "/run";
  absl::StatusOr<ReportResult> result = RunReport(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->written, ElementsAre("train_log.csv", "train_log_full.csv", "logs.md"));
  EXPECT_THAT(result->notes, Contains("the train log has no data for loss.png: left out"));
  EXPECT_THAT(ReadTestFile(dir + "/run/report/logs.md"), HasSubstr("No epoch logged yet."));
}

TEST(ReportTest, ReadmeIsCreatedOrAppendedWithRelativeLinks) {
  const std::string dir = NewScratchDir();
  ReportOptions options = GoldenRun(dir);
  options.readme = dir + "/docs/RESULTS.md";
  fs::create_directories(dir + "/docs");
  absl::StatusOr<ReportResult> result = RunReport(options);
  ASSERT_TRUE(result.ok()) << result.status();
  const std::string created = ReadTestFile(options.readme);
  EXPECT_THAT(created, ::testing::StartsWith("<!-- forge-report:start -->\n### Results: resnet50, run golden\n"));
  EXPECT_THAT(created, HasSubstr("![Loss](../run/report/loss.png)\n"));
  EXPECT_THAT(created, ::testing::EndsWith("Full report: [logs.md](../run/report/logs.md)\n<!-- forge-report:end -->\n"));

  WriteTestFile(options.readme, "# Notes\nkept\n");
  options.out_dir = dir + "/docs/";
  ASSERT_TRUE(RunReport(options).ok());
  const std::string appended = ReadTestFile(options.readme);
  EXPECT_THAT(appended, ::testing::StartsWith("# Notes\nkept\n\n<!-- forge-report:start -->\n"));
  EXPECT_THAT(appended, HasSubstr("![Loss](loss.png)\n"));
}

struct BadInputCase {
  const char* name;
  std::function<void(const std::string& dir, ReportOptions* options)> damage;
  absl::StatusCode code;
  std::string names;  // the file the message must name, relative to the scratch dir ("" : none)
  const char* says;
};

class BadInputTest : public ::testing::TestWithParam<BadInputCase> {};

TEST_P(BadInputTest, FailsNamingTheFileAndWritesNothing) {
  const BadInputCase& c = GetParam();
  const std::string dir = NewScratchDir();
  ReportOptions options = GoldenRun(dir);
  c.damage(dir, &options);
  const std::string readme = ReadTestFile(options.readme);
  absl::StatusOr<ReportResult> result = RunReport(options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), c.code) << result.status();
  if (!c.names.empty()) {
    EXPECT_THAT(result.status().message(), HasSubstr(dir + "/" + c.names));
  }
  EXPECT_THAT(result.status().message(), HasSubstr(c.says));
  EXPECT_FALSE(fs::exists(dir + "/run/report")) << "nothing may be written on bad input";
  EXPECT_EQ(ReadTestFile(options.readme), readme);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadInputTest,
    ::testing::Values(
        BadInputCase{"NoTrainLog", [](const std::string& dir, ReportOptions*) { fs::remove(dir + "/run/train_log.pb"); },
                     absl::StatusCode::kNotFound, "run", "no train_log.pb in run directory"},
        BadInputCase{"NoRunDir", [](const std::string& dir, ReportOptions* o) { o->run_dir = dir + "/nope"; },
                     absl::StatusCode::kNotFound, "nope", "does not exist"},
        BadInputCase{"GarbageTrainLog",
                     [](const std::string& dir, ReportOptions*) { WriteTestFile(dir + "/run/train_log.pb", "\xff\xff\xff\xff"); },
                     absl::StatusCode::kInvalidArgument, "run/train_log.pb", "not a valid binary forge.TrainLog"},
        BadInputCase{"EpochZero",
                     [](const std::string& dir, ReportOptions*) {
                       TrainLog log;
                       log.add_epochs()->set_phase("train");
                       ASSERT_TRUE(WriteProtoFile(dir + "/run/train_log.pb", log).ok());
                     },
                     absl::StatusCode::kInvalidArgument, "run/train_log.pb", "epochs[0] has epoch 0"},
        BadInputCase{"BadModelSummary",
                     [](const std::string& dir, ReportOptions*) { WriteTestFile(dir + "/run/model_summary.txtpb", "layers {"); },
                     absl::StatusCode::kInvalidArgument, "run/model_summary.txtpb", "not a valid text-format"},
        BadInputCase{"ConfusionOfTheWrongSize",
                     [](const std::string& dir, ReportOptions* o) {
                       WriteTestFile(dir + "/eval.txtpb", "classes { wnid: \"n1\" } classes { wnid: \"n2\" } confusion: [1, 2, 3]");
                       o->eval = dir + "/eval.txtpb";
                     },
                     absl::StatusCode::kInvalidArgument, "eval.txtpb", "3 cells, but 2 classes need 4"},
        BadInputCase{"MissingEval", [](const std::string& dir, ReportOptions* o) { o->eval = dir + "/eval.pb"; },
                     absl::StatusCode::kNotFound, "eval.pb", "cannot open"},
        BadInputCase{"LrCurveWithZeroLr",
                     [](const std::string& dir, ReportOptions* o) {
                       WriteTestFile(dir + "/lr.txtpb", "points { lr: 0.1 loss: 1 } points { lr: 0 loss: 2 }");
                       o->lr_curve = dir + "/lr.txtpb";
                     },
                     absl::StatusCode::kInvalidArgument, "lr.txtpb", "points[1] has lr 0"},
        BadInputCase{"EmptyLrCurve",
                     [](const std::string& dir, ReportOptions* o) {
                       WriteTestFile(dir + "/lr.txtpb", "suggested_lr: 0.1");
                       o->lr_curve = dir + "/lr.txtpb";
                     },
                     absl::StatusCode::kInvalidArgument, "lr.txtpb", "has no points"},
        BadInputCase{"BadSynsetMapping",
                     [](const std::string& dir, ReportOptions* o) {
                       WriteTestFile(dir + "/map.txt", "n01440764 tench\nn02012849\n");
                       o->synset_mapping = dir + "/map.txt";
                     },
                     absl::StatusCode::kInvalidArgument, "map.txt", "map.txt:2:"},
        BadInputCase{"ReadmeWithOnlyAStartMarker",
                     [](const std::string& dir, ReportOptions*) { WriteTestFile(dir + "/README.md", "# x\n<!-- forge-report:start -->\n"); },
                     absl::StatusCode::kInvalidArgument, "README.md", "needs exactly one of each"},
        BadInputCase{"ReadmeMarkersOutOfOrder",
                     [](const std::string& dir, ReportOptions*) {
                       WriteTestFile(dir + "/README.md", "<!-- forge-report:end -->\n<!-- forge-report:start -->\n");
                     },
                     absl::StatusCode::kInvalidArgument, "README.md", "comes before"},
        BadInputCase{"BadDigits", [](const std::string&, ReportOptions* o) { o->digits = 11; },
                     absl::StatusCode::kInvalidArgument, "", "digits must be 0..10"}),
    [](const ::testing::TestParamInfo<BadInputCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace forge
