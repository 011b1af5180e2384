#include "tools/valprep/valprep.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/io/proto_file.h"
#include "lib/util/exit_code.h"
#include "proto/valprep.pb.h"
#include "testdata/scratch.h"
#include "tools/valprep/valprep_testing.h"

namespace forge {
namespace {

using valprep::LabelsFormat;
using valprep::PlaceMode;
using valprep_testing::ImageContents;
using valprep_testing::ListTree;
using valprep_testing::MakeFlatVal;
using testdata::NewScratchDir;
using testdata::ReadTestFile;
using testdata::WriteTestFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// Six images, two per class; the classes in devkit ID order (not sorted).
const std::vector<std::string> kSynsets = {"n02119789", "n01443537", "n01440764"};
const std::vector<int> kIds = {1, 3, 2, 1, 2, 3};  // ILSVRC2012_ID of images 1..6

std::string Image(int number) { return absl::StrFormat("ILSVRC2012_val_%08d.JPEG", number); }
std::string WnidOf(int number) { return kSynsets[kIds[number - 1] - 1]; }

std::string LabelsIn(LabelsFormat format) {
  std::string text;
  switch (format) {
    case LabelsFormat::kKaggleCsv:
      text = "\xEF\xBB\xBFImageId,PredictionString\r\n";
      for (int i = 1; i <= 6; ++i) {
        absl::StrAppendFormat(&text, "ILSVRC2012_val_%08d,%s 1 2 3 4 %s 5 6 7 8\r\n", i, WnidOf(i),
                              WnidOf(i));
      }
      break;
    case LabelsFormat::kValprepSh:
      for (const std::string& wnid : kSynsets) absl::StrAppend(&text, "mkdir -p ", wnid, "\n");
      for (int i = 1; i <= 6; ++i) absl::StrAppend(&text, "mv ", Image(i), " ", WnidOf(i), "/\t\n");
      break;
    case LabelsFormat::kWnidLines:
      for (int i = 1; i <= 6; ++i) absl::StrAppend(&text, WnidOf(i), "\n");
      break;
    case LabelsFormat::kDevkit:
      for (int i = 1; i <= 6; ++i) absl::StrAppend(&text, kIds[i - 1], "\n");
      break;
    case LabelsFormat::kAuto:
      break;
  }
  return text;
}

// What a finished run leaves in `out` (the class folders only).
std::vector<std::string> SortedTree() {
  std::vector<std::string> tree;
  for (const std::string& wnid : kSynsets) {
    tree.push_back(wnid + "/");
    for (int i = 1; i <= 6; ++i) {
      if (WnidOf(i) == wnid) tree.push_back(absl::StrCat(wnid, "/", Image(i), " = ", ImageContents(i)));
    }
  }
  std::sort(tree.begin(), tree.end());
  return tree;
}

// A scratch folder with val/ (images 1..6) and the labels beside it (not inside).
struct Fixture {
  std::string root;
  ValprepOptions options;

  explicit Fixture(LabelsFormat format = LabelsFormat::kKaggleCsv) {
    root = NewScratchDir();
    MakeFlatVal(root + "/val", 6);
    options.val_dir = root + "/val";
    options.labels = root + "/labels.txt";
    WriteTestFile(options.labels, LabelsIn(format));
    if (format == LabelsFormat::kDevkit) {
      options.synsets = root + "/synsets.txt";
      WriteTestFile(options.synsets, absl::StrJoin(kSynsets, "\n"));
    }
  }
  void SetLabels(absl::string_view contents) { WriteTestFile(options.labels, contents); }
  std::vector<std::string> Val() const { return ListTree(root + "/val"); }
};

class FormatTest : public ::testing::TestWithParam<LabelsFormat> {};

TEST_P(FormatTest, DetectedAndSortedInPlace) {
  Fixture f(GetParam());
  ValprepReport report;
  absl::Status status = RunValprep(f.options, &report);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(report.labels_format(), valprep::LabelsFormatName(GetParam()));
  EXPECT_EQ(f.Val(), SortedTree());
  EXPECT_EQ(report.images_listed(), 6);
  EXPECT_EQ(report.placed(), 6);
  EXPECT_EQ(report.classes(), 3);
  EXPECT_EQ(report.expected_per_class(), 2);
  EXPECT_THAT(report.uneven_classes(), IsEmpty());
  EXPECT_EQ(SummaryLine(report),
            "valprep: listed=6 placed=6 already_placed=0 missing=0 unlisted=0 conflicts=0 "
            "classes=3 uneven_classes=0 errors=0 dry_run=false ok=true");
}

TEST_P(FormatTest, NamedExplicitly) {
  Fixture f(GetParam());
  f.options.labels_format = GetParam();
  ValprepReport report;
  ASSERT_TRUE(RunValprep(f.options, &report).ok());
  EXPECT_EQ(f.Val(), SortedTree());
}

INSTANTIATE_TEST_SUITE_P(AllFormats, FormatTest,
                         ::testing::Values(LabelsFormat::kKaggleCsv, LabelsFormat::kValprepSh,
                                           LabelsFormat::kWnidLines, LabelsFormat::kDevkit),
                         [](const auto& info) {
                           return std::string(valprep::LabelsFormatName(info.param));
                         });

// Every mode, in place and into a separate out_dir; each run twice (the second changes nothing).
class ModeTest : public ::testing::TestWithParam<std::tuple<PlaceMode, bool>> {};

TEST_P(ModeTest, PlacesAndRerunChangesNothing) {
  const auto [mode, separate_out] = GetParam();
  Fixture f;
  f.options.mode = mode;
  if (separate_out) f.options.out_dir = f.root + "/out";
  const std::string out = separate_out ? f.root + "/out" : f.root + "/val";
  const std::vector<std::string> val_before = f.Val();

  ValprepReport report;
  absl::Status status = RunValprep(f.options, &report);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(report.placed(), 6);
  EXPECT_EQ(report.mode(), valprep::PlaceModeName(mode));
  for (int i = 1; i <= 6; ++i) {
    const std::string source = f.root + "/val/" + Image(i);
    const std::string destination = absl::StrCat(out, "/", WnidOf(i), "/", Image(i));
    EXPECT_EQ(ReadTestFile(destination), ImageContents(i)) << destination;
    struct stat src, dst;
    const bool source_exists = ::lstat(source.c_str(), &src) == 0;
    ASSERT_EQ(::lstat(destination.c_str(), &dst), 0);
    switch (mode) {
      case PlaceMode::kMove:
        EXPECT_FALSE(source_exists);
        break;
      case PlaceMode::kCopy:
        ASSERT_TRUE(source_exists);
        EXPECT_NE(src.st_ino, dst.st_ino);
        EXPECT_TRUE(S_ISREG(dst.st_mode));
        break;
      case PlaceMode::kHardlink:
        ASSERT_TRUE(source_exists);
        EXPECT_EQ(src.st_ino, dst.st_ino);
        break;
      case PlaceMode::kSymlink: {
        ASSERT_TRUE(source_exists);
        char target[PATH_MAX];
        const ssize_t n = ::readlink(destination.c_str(), target, sizeof(target));
        ASSERT_GT(n, 0);
        EXPECT_EQ(std::string(target, n), source);
        break;
      }
    }
  }
  if (separate_out && mode != PlaceMode::kMove) {
    EXPECT_EQ(f.Val(), val_before);
  }

  const std::vector<std::string> after_first = ListTree(f.root);
  ValprepReport again;
  ASSERT_TRUE(RunValprep(f.options, &again).ok());
  EXPECT_EQ(again.placed(), 0);
  EXPECT_EQ(again.already_placed(), 6);
  EXPECT_THAT(SummaryLine(again), HasSubstr("placed=0 already_placed=6"));
  EXPECT_EQ(ListTree(f.root), after_first);
}

INSTANTIATE_TEST_SUITE_P(
    AllModes, ModeTest,
    ::testing::Combine(::testing::Values(PlaceMode::kMove, PlaceMode::kCopy, PlaceMode::kHardlink,
                                         PlaceMode::kSymlink),
                       ::testing::Bool()),
    [](const auto& info) {
      return absl::StrCat(valprep::PlaceModeName(std::get<0>(info.param)),
                          std::get<1>(info.param) ? "_out_dir" : "_in_place");
    });

TEST(ValprepTest, InterruptedRunCompletes) {
  Fixture f;
  // Simulate a run killed half-way: images 1..3 already moved.
  for (int i = 1; i <= 3; ++i) {
    const std::string folder = f.root + "/val/" + WnidOf(i);
    ::mkdir(folder.c_str(), 0777);
    ASSERT_EQ(::rename((f.root + "/val/" + Image(i)).c_str(), (folder + "/" + Image(i)).c_str()), 0);
  }
  ValprepReport report;
  ASSERT_TRUE(RunValprep(f.options, &report).ok());
  EXPECT_EQ(report.placed(), 3);
  EXPECT_EQ(report.already_placed(), 3);
  EXPECT_THAT(report.missing(), IsEmpty());
  EXPECT_EQ(f.Val(), SortedTree());
}

TEST(ValprepTest, LeftoverOfAnInterruptedCrossFileSystemMoveIsRemoved) {
  Fixture f;
  // The copy reached the destination but the source was not yet unlinked.
  WriteTestFile(f.root + "/val/" + WnidOf(1) + "/" + Image(1), ImageContents(1));
  ValprepReport report;
  ASSERT_TRUE(RunValprep(f.options, &report).ok());
  EXPECT_EQ(report.placed(), 5);
  EXPECT_EQ(report.already_placed(), 1);
  EXPECT_EQ(report.leftover_sources_removed(), 1);
  EXPECT_EQ(f.Val(), SortedTree());
}

TEST(ValprepTest, ConflictLeavesBothAlone) {
  Fixture f;
  WriteTestFile(f.root + "/val/" + WnidOf(2) + "/" + Image(2), "a different image");
  ValprepReport report;
  ASSERT_TRUE(RunValprep(f.options, &report).ok());
  EXPECT_THAT(report.conflicts(), ElementsAre(Image(2)));
  EXPECT_EQ(report.placed(), 5);
  EXPECT_EQ(ReadTestFile(f.root + "/val/" + Image(2)), ImageContents(2));
  EXPECT_EQ(ReadTestFile(f.root + "/val/" + WnidOf(2) + "/" + Image(2)), "a different image");
}

// Unusable ground truth: refused with every problem listed, exit code 2, nothing touched.
struct Refusal {
  std::string name;
  std::string labels;
  std::string expected;  // in the first error
  LabelsFormat format = LabelsFormat::kAuto;
};

void PrintTo(const Refusal& refusal, std::ostream* os) { *os << refusal.name; }

class RefusalTest : public ::testing::TestWithParam<Refusal> {};

TEST_P(RefusalTest, NothingIsTouched) {
  Fixture f;
  f.SetLabels(GetParam().labels);
  f.options.labels_format = GetParam().format;
  const std::vector<std::string> before = ListTree(f.root);
  ValprepReport report;
  absl::Status status = RunValprep(f.options, &report);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(ExitCodeFor(status), 2);
  EXPECT_EQ(ListTree(f.root), before);
  ASSERT_THAT(report.errors(), Not(IsEmpty()));
  EXPECT_THAT(report.errors(0), HasSubstr(GetParam().expected));
  EXPECT_THAT(report.errors(0), HasSubstr(f.options.labels));
  EXPECT_FALSE(report.failure().empty());
  EXPECT_EQ(report.placed(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    BadLabels, RefusalTest,
    ::testing::Values(
        Refusal{"garbage", "hello world\n", ":1: cannot tell the labels format"},
        Refusal{"empty", "", "empty"},
        Refusal{"conflicting_duplicate",
                "mv ILSVRC2012_val_00000001.JPEG n01440764/\n"
                "mv ILSVRC2012_val_00000001.JPEG n01443537/\n",
                ":2: ILSVRC2012_val_00000001.JPEG is listed as n01443537"},
        Refusal{"dotdot_image", "mv ../x.JPEG n01440764/\n", ":1: image name '../x.JPEG'"},
        Refusal{"absolute_image", "mv /etc/passwd n01440764/\n", "absolute"},
        Refusal{"slash_in_class",
                "ImageId,PredictionString\nILSVRC2012_val_00000001,../../etc 1 1 1 1\n",
                ":2: class '../../etc'"},
        Refusal{"dotdot_class", "mv ILSVRC2012_val_00000001.JPEG ../\n", ":1: class '..'"},
        Refusal{"devkit_without_synsets", "1\n2\n", "--synsets"},
        Refusal{"named_format_does_not_fit", "n01440764\n", "--labels_format=kaggle_csv",
                LabelsFormat::kKaggleCsv},
        Refusal{"one_bad_line_among_good",
                "mv ILSVRC2012_val_00000001.JPEG n01440764/\ncp a b\n", ":2: expected 'mv"}),
    [](const auto& info) { return info.param.name; });

TEST(ValprepTest, DevkitIdOutOfRangeOfSynsets) {
  Fixture f(LabelsFormat::kDevkit);
  f.SetLabels("1\n2\n4\n");
  const std::vector<std::string> before = ListTree(f.root);
  ValprepReport report;
  EXPECT_EQ(RunValprep(f.options, &report).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_THAT(report.errors(), SizeIs(1));
  EXPECT_THAT(report.errors(0), HasSubstr(":3: ILSVRC2012_ID 4 is out of range"));
  EXPECT_EQ(ListTree(f.root), before);
}

TEST(ValprepTest, SortedSynsetsAreWarnedAbout) {
  Fixture f(LabelsFormat::kDevkit);
  WriteTestFile(f.options.synsets, "n01440764\nn01443537\nn02119789\n");
  ValprepReport report;
  ASSERT_TRUE(RunValprep(f.options, &report).ok());
  ASSERT_THAT(report.warnings(), SizeIs(1));
  EXPECT_THAT(report.warnings(0), HasSubstr("sorted"));
}

TEST(ValprepTest, UnknownWnidsAreRefusedAndListed) {
  Fixture f;
  f.options.synset_mapping = f.root + "/LOC_synset_mapping.txt";
  WriteTestFile(f.options.synset_mapping,
                "n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n");
  const std::vector<std::string> before = ListTree(f.root);
  ValprepReport report;
  absl::Status status = RunValprep(f.options, &report);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.unknown_wnids(), ElementsAre("n02119789"));
  ASSERT_THAT(report.errors(), SizeIs(1));
  EXPECT_THAT(report.errors(0), HasSubstr("n02119789"));
  EXPECT_EQ(ListTree(f.root), before);

  WriteTestFile(f.options.synset_mapping, absl::StrCat(absl::StrJoin(kSynsets, " name\n"), " name\n"));
  ASSERT_TRUE(RunValprep(f.options, &report).ok());
  EXPECT_THAT(report.unknown_wnids(), IsEmpty());
}

TEST(ValprepTest, ErrorListIsCapped) {
  Fixture f;
  std::string labels = "ImageId,PredictionString\n";
  for (int i = 0; i < 1500; ++i) labels += "no comma\n";
  f.SetLabels(labels);
  ValprepReport report;
  EXPECT_EQ(RunValprep(f.options, &report).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_THAT(report.errors(), SizeIs(1001));
  EXPECT_THAT(report.errors(1000), HasSubstr("500 more"));
  EXPECT_THAT(report.failure(), HasSubstr("1500 problems"));
}

TEST(ValprepTest, MissingUnlistedUnevenAreReportedNotFatal) {
  Fixture f;
  ::unlink((f.root + "/val/" + Image(5)).c_str());  // listed, absent: missing; its class uneven
  WriteTestFile(f.root + "/val/ILSVRC2012_val_00000007.JPEG", "not listed");
  WriteTestFile(f.root + "/val/.hidden", "ignored");
  WriteTestFile(f.root + "/val/report.txtpb", "ignored: the report");
  // A labels file inside val_dir is not an unlisted image.
  const std::string labels = f.root + "/val/LOC_val_solution.csv";
  WriteTestFile(labels, LabelsIn(LabelsFormat::kKaggleCsv));
  f.options.labels = labels;
  f.options.ignored_files = {f.root + "/val/report.txtpb"};
  ValprepReport report;
  ASSERT_TRUE(RunValprep(f.options, &report).ok());
  EXPECT_THAT(report.missing(), ElementsAre(Image(5)));
  EXPECT_THAT(report.unlisted(), ElementsAre("ILSVRC2012_val_00000007.JPEG"));
  EXPECT_EQ(report.expected_per_class(), 2);
  ASSERT_THAT(report.uneven_classes(), SizeIs(1));
  EXPECT_EQ(report.uneven_classes(0).wnid(), WnidOf(5));
  EXPECT_EQ(report.uneven_classes(0).images(), 1);
  EXPECT_EQ(report.placed(), 5);
  EXPECT_EQ(SummaryLine(report),
            "valprep: listed=6 placed=5 already_placed=0 missing=1 unlisted=1 conflicts=0 "
            "classes=3 uneven_classes=1 errors=0 dry_run=false ok=true");
}

TEST(ValprepTest, SameWnidTwiceIsAWarning) {
  Fixture f(LabelsFormat::kValprepSh);
  f.SetLabels(LabelsIn(LabelsFormat::kValprepSh) + "mv " + Image(1) + " " + WnidOf(1) + "/\n");
  ValprepReport report;
  ASSERT_TRUE(RunValprep(f.options, &report).ok());
  EXPECT_EQ(report.images_listed(), 6);
  ASSERT_THAT(report.warnings(), SizeIs(1));
  EXPECT_THAT(report.warnings(0), HasSubstr(":10: " + Image(1) + " is listed again"));
}

TEST(ValprepTest, DryRunTouchesNothing) {
  Fixture f;
  f.options.out_dir = f.root + "/out";
  f.options.dry_run = true;
  WriteTestFile(f.root + "/val/" + WnidOf(1) + "/" + Image(1), ImageContents(1));
  const std::vector<std::string> before = ListTree(f.root);
  ValprepReport report;
  ASSERT_TRUE(RunValprep(f.options, &report).ok());
  EXPECT_EQ(ListTree(f.root), before);
  EXPECT_TRUE(report.dry_run());
  EXPECT_EQ(report.placed(), 6);  // would be placed
  EXPECT_THAT(SummaryLine(report), HasSubstr("placed=6 already_placed=0"));
  EXPECT_THAT(SummaryLine(report), HasSubstr("dry_run=true"));
}

TEST(ValprepTest, MissingInputsAreBadUsage) {
  Fixture f;
  ValprepReport report;
  ValprepOptions no_val = f.options;
  no_val.val_dir = f.root + "/absent";
  absl::Status status = RunValprep(no_val, &report);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ExitCodeFor(status), 2);
  EXPECT_THAT(status.message(), HasSubstr(no_val.val_dir));

  ValprepOptions file_val = f.options;
  file_val.val_dir = f.options.labels;
  EXPECT_EQ(ExitCodeFor(RunValprep(file_val, &report)), 2);

  ValprepOptions no_labels = f.options;
  no_labels.labels = f.root + "/absent.csv";
  status = RunValprep(no_labels, &report);
  EXPECT_EQ(ExitCodeFor(status), 2);
  EXPECT_THAT(status.message(), HasSubstr("absent.csv"));
  EXPECT_EQ(report.failure(), status.message());
}

TEST(ValprepTest, FailureWhilePlacingStopsAndRerunCompletes) {
  Fixture f;
  f.options.mode = PlaceMode::kCopy;
  f.options.out_dir = f.root + "/out";
  // Image 3 is a dangling symlink: listed and present, but its bytes cannot be read (ENOENT, so
  // exit code 2 like every missing file; lib/util/exit_code.h).
  const std::string broken = f.root + "/val/" + Image(3);
  ::unlink(broken.c_str());
  ASSERT_EQ(::symlink((f.root + "/nowhere").c_str(), broken.c_str()), 0);
  ValprepReport report;
  absl::Status status = RunValprep(f.options, &report);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_EQ(ExitCodeFor(status), 2);
  EXPECT_THAT(status.message(), HasSubstr(Image(3)));
  EXPECT_EQ(report.placed(), 2);
  EXPECT_EQ(report.failure(), status.message());

  ::unlink(broken.c_str());
  WriteTestFile(broken, ImageContents(3));
  ASSERT_TRUE(RunValprep(f.options, &report).ok());
  EXPECT_EQ(report.placed(), 4);
  EXPECT_EQ(report.already_placed(), 2);
  EXPECT_EQ(ListTree(f.root + "/out"), SortedTree());
}

TEST(ValprepTest, ReportRoundTripsInEveryFormat) {
  Fixture f;
  ::unlink((f.root + "/val/" + Image(5)).c_str());
  ValprepReport report;
  ASSERT_TRUE(RunValprep(f.options, &report).ok());
  for (const char* name : {"report.pb", "report.txtpb", "report.json"}) {
    const std::string path = f.root + "/" + name;
    ASSERT_TRUE(WriteProtoFile(path, report).ok()) << path;
    ValprepReport read;
    ASSERT_TRUE(ReadProtoFile(path, &read).ok()) << path;
    EXPECT_EQ(read.DebugString(), report.DebugString()) << path;
  }
}

}  // namespace
}  // namespace forge
