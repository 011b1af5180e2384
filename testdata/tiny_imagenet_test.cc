// Tests for the tiny ImageNet generator: determinism, layout and counts, the Kaggle CSV and
// synset mapping, the pathological files, and that every image decodes as promised.

#include "testdata/tiny_imagenet.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <png.h>
#include <turbojpeg.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testdata/scratch.h"

namespace forge::testdata {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::SizeIs;

// A path in a new scratch directory for the generator to create.
std::string NewRoot() { return NewScratchDir() + "/tiny"; }

// Returns the names of the entries of directory `dir`, sorted.
std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Small options for quick tests: 3 classes, 4 train and 3 val images per class.
TinyImageNetOptions SmallOptions() {
  TinyImageNetOptions options;
  options.classes = 3;
  options.train_per_class = 4;
  options.val_per_class = 3;
  return options;
}

// A JPEG marker segment found before the scan: its code and payload.
struct JpegSegment {
  uint8_t marker;
  std::string payload;
};

// Returns the marker segments of `jpeg` from SOI up to and including SOS (empty if not a JPEG).
std::vector<JpegSegment> JpegSegments(const std::string& jpeg) {
  std::vector<JpegSegment> segments;
  if (jpeg.size() < 4 || jpeg.compare(0, 2, "\xFF\xD8") != 0) return segments;
  size_t pos = 2;
  while (pos + 4 <= jpeg.size() && static_cast<uint8_t>(jpeg[pos]) == 0xFF) {
    const uint8_t marker = static_cast<uint8_t>(jpeg[pos + 1]);
    const size_t length = (static_cast<uint8_t>(jpeg[pos + 2]) << 8) |
                          static_cast<uint8_t>(jpeg[pos + 3]);
    segments.push_back({marker, jpeg.substr(pos + 4, length - 2)});
    if (marker == 0xDA) break;  // SOS: entropy-coded data follows.
    pos += 2 + length;
  }
  return segments;
}

// Returns the segment with `marker`, or null.
const JpegSegment* FindSegment(const std::vector<JpegSegment>& segments, uint8_t marker) {
  for (const JpegSegment& s : segments) {
    if (s.marker == marker) return &s;
  }
  return nullptr;
}

// Returns the number of components a SOF segment declares.
int SofComponents(const JpegSegment& sof) { return static_cast<uint8_t>(sof.payload[5]); }

// Result of decoding a JPEG with TurboJPEG.
struct TjResult {
  bool header_ok = false, decode_ok = false;
  int width = 0, height = 0, subsampling = -1, colorspace = -1;
};

// Reads the header of `jpeg` and decodes it completely (to CMYK for CMYK files, else RGB).
// decode_ok is false on any error or warning, as for a strict decoder.
TjResult TjDecode(const std::string& jpeg) {
  TjResult result;
  tjhandle handle = tjInitDecompress();
  const auto* data = reinterpret_cast<const unsigned char*>(jpeg.data());
  result.header_ok = tjDecompressHeader3(handle, data, jpeg.size(), &result.width,
                                         &result.height, &result.subsampling,
                                         &result.colorspace) == 0;
  if (result.header_ok) {
    const int format = result.colorspace == TJCS_CMYK ? TJPF_CMYK : TJPF_RGB;
    std::vector<unsigned char> pixels(static_cast<size_t>(result.width) * result.height *
                                      tjPixelSize[format]);
    result.decode_ok = tjDecompress2(handle, data, jpeg.size(), pixels.data(), result.width, 0,
                                     result.height, format, 0) == 0;
  }
  tjDestroy(handle);
  return result;
}

// Decodes `png` with libpng's simplified API; returns false on failure.
bool PngDecodes(const std::string& png, int* width, int* height) {
  png_image image = {};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) return false;
  image.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(image));
  const bool ok = png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr) != 0;
  *width = image.width;
  *height = image.height;
  return ok;
}

// One parsed row of LOC_val_solution.csv.
struct SolutionRow {
  std::string image_id, wnid;
  int xmin = -1, ymin = -1, xmax = -1, ymax = -1;
};

// Parses LOC_val_solution.csv, failing the test on any malformed line.
std::vector<SolutionRow> ParseSolution(const std::string& csv) {
  std::vector<std::string> lines = absl::StrSplit(csv, '\n');
  EXPECT_EQ(lines.front(), "ImageId,PredictionString");
  EXPECT_EQ(lines.back(), "") << "file must end in a newline";
  std::vector<SolutionRow> rows;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    const std::vector<std::string> fields = absl::StrSplit(lines[i], ',');
    EXPECT_THAT(fields, SizeIs(2)) << lines[i];
    if (fields.size() != 2) continue;
    EXPECT_TRUE(absl::EndsWith(fields[1], " ")) << "Kaggle rows end in a space: " << lines[i];
    const std::vector<std::string> tokens =
        absl::StrSplit(fields[1], ' ', absl::SkipEmpty());
    EXPECT_THAT(tokens, SizeIs(5)) << lines[i];
    if (tokens.size() != 5) continue;
    SolutionRow row{fields[0], tokens[0]};
    EXPECT_TRUE(absl::SimpleAtoi(tokens[1], &row.xmin) && absl::SimpleAtoi(tokens[2], &row.ymin) &&
                absl::SimpleAtoi(tokens[3], &row.xmax) && absl::SimpleAtoi(tokens[4], &row.ymax))
        << lines[i];
    rows.push_back(row);
  }
  return rows;
}

TEST(TinyImageNetClassesTest, SortedUniqueRealWnidsWithDuplicateNames) {
  const auto& classes = TinyImageNetClasses();
  ASSERT_THAT(classes, SizeIs(20));
  std::set<std::string> wnids;
  for (size_t i = 0; i < classes.size(); ++i) {
    const std::string& wnid = classes[i].first;
    EXPECT_EQ(wnid.size(), 9u);
    EXPECT_EQ(wnid[0], 'n');
    EXPECT_FALSE(classes[i].second.empty());
    if (i > 0) {
      EXPECT_LT(classes[i - 1].first, wnid);
    }
    wnids.insert(wnid);
  }
  EXPECT_THAT(wnids, SizeIs(classes.size()));
  // Both "crane"s (bird and machine) are within the default 10 classes.
  const int default_classes = TinyImageNetOptions().classes;
  std::vector<std::string> cranes;
  for (int i = 0; i < default_classes; ++i) {
    if (classes[i].second == "crane") cranes.push_back(classes[i].first);
  }
  EXPECT_THAT(cranes, ElementsAreArray({"n02012849", "n03126707"}));
  EXPECT_EQ(classes[0].first, "n01440764");
  EXPECT_EQ(classes[0].second, "tench, Tinca tinca");
}

TEST(WriteTinyImageNetTest, SameOptionsGiveIdenticalBytes) {
  const std::string first = NewRoot(), second = NewRoot();
  const std::string other_seed = NewRoot();
  TinyImageNetOptions options;  // The default set.
  ASSERT_TRUE(WriteTinyImageNet(first, options).ok());
  ASSERT_TRUE(WriteTinyImageNet(second, options).ok());
  options.seed = 2;
  ASSERT_TRUE(WriteTinyImageNet(other_seed, options).ok());

  const std::map<std::string, std::string> a = ReadTestTree(first), b = ReadTestTree(second);
  EXPECT_THAT(a, SizeIs(10 * 40 + 7 + 10 * 10 + 2 + 2));
  EXPECT_TRUE(a == b) << "two runs with the same options differ";
  const std::map<std::string, std::string> c = ReadTestTree(other_seed);
  ASSERT_EQ(a.size(), c.size());
  int differing = 0;
  for (const auto& [path, bytes] : a) differing += c.at(path) != bytes;
  EXPECT_GT(differing, static_cast<int>(a.size()) / 2) << "the seed hardly matters";
}

TEST(WriteTinyImageNetTest, LayoutAndCounts) {
  const std::string root = NewRoot();
  const TinyImageNetOptions options = SmallOptions();
  ASSERT_TRUE(WriteTinyImageNet(root, options).ok());
  EXPECT_THAT(ListDir(root), ElementsAreArray({"LOC_synset_mapping.txt", "LOC_val_solution.csv",
                                               "train", "val"}));
  const auto& classes = TinyImageNetClasses();
  EXPECT_THAT(ListDir(root + "/train"),
              ElementsAreArray({classes[0].first, classes[1].first, classes[2].first}));
  const PathologicalFiles bad = TinyImageNetPathologicalFiles(options);
  for (int c = 0; c < options.classes; ++c) {
    const std::string& wnid = classes[c].first;
    std::set<std::string> expected;
    for (int n = 1; n <= options.train_per_class; ++n) {
      expected.insert(absl::StrCat(wnid, "_", n, ".JPEG"));
    }
    if (c == 0) {
      for (const std::string* path : {&bad.cmyk, &bad.grayscale, &bad.progressive,
                                      &bad.png_as_jpeg, &bad.truncated, &bad.empty,
                                      &bad.not_an_image}) {
        EXPECT_TRUE(absl::StartsWith(*path, absl::StrCat("train/", wnid, "/"))) << *path;
        expected.insert(fs::path(*path).filename().string());
      }
    }
    EXPECT_THAT(ListDir(root + "/train/" + wnid), ElementsAreArray(expected)) << wnid;
  }
  std::vector<std::string> expected_val;
  for (int n = 1; n <= options.classes * options.val_per_class + 2; ++n) {
    expected_val.push_back(absl::StrFormat("ILSVRC2012_val_%08d.JPEG", n));
  }
  EXPECT_THAT(ListDir(root + "/val"), ElementsAreArray(expected_val));
}

TEST(WriteTinyImageNetTest, WithoutPathologicalFilesOnlyRegularImages) {
  const std::string root = NewRoot();
  TinyImageNetOptions options = SmallOptions();
  options.pathological = false;
  ASSERT_TRUE(WriteTinyImageNet(root, options).ok());
  const std::map<std::string, std::string> files = ReadTestTree(root);
  EXPECT_THAT(files, SizeIs(3 * 4 + 3 * 3 + 2));
  for (const auto& [path, bytes] : files) {
    if (!absl::EndsWith(path, ".JPEG")) continue;
    const TjResult decoded = TjDecode(bytes);
    EXPECT_TRUE(decoded.decode_ok) << path;
    EXPECT_EQ(decoded.subsampling, TJSAMP_420) << path;
  }
}

TEST(WriteTinyImageNetTest, RegularImagesAreRgb420JpegsOfVaryingSizeAndOrientation) {
  const std::string root = NewRoot();
  TinyImageNetOptions options;
  options.pathological = false;
  ASSERT_TRUE(WriteTinyImageNet(root, options).ok());
  int landscape = 0, portrait = 0, images = 0;
  std::set<std::string> distinct;
  for (const auto& [path, bytes] : ReadTestTree(root)) {
    if (!absl::EndsWith(path, ".JPEG")) continue;
    ++images;
    distinct.insert(bytes);
    EXPECT_NE(FindSegment(JpegSegments(bytes), 0xC0), nullptr) << path << " not baseline";
    const TjResult decoded = TjDecode(bytes);
    ASSERT_TRUE(decoded.decode_ok) << path;
    EXPECT_EQ(decoded.colorspace, TJCS_YCbCr) << path;
    EXPECT_EQ(decoded.subsampling, TJSAMP_420) << path;
    EXPECT_GE(std::min(decoded.width, decoded.height), options.min_side) << path;
    EXPECT_LE(std::max(decoded.width, decoded.height), options.max_side) << path;
    landscape += decoded.width > decoded.height;
    portrait += decoded.height > decoded.width;
  }
  EXPECT_EQ(images, 500);
  EXPECT_THAT(distinct, SizeIs(images));
  EXPECT_GT(landscape, 100);
  EXPECT_GT(portrait, 100);
}

TEST(WriteTinyImageNetTest, ValSolutionListsEveryValImageOnceInShuffledOrder) {
  const std::string root = NewRoot();
  const TinyImageNetOptions options = SmallOptions();
  ASSERT_TRUE(WriteTinyImageNet(root, options).ok());
  const std::vector<SolutionRow> rows = ParseSolution(ReadTestFile(root + "/LOC_val_solution.csv"));
  const std::vector<std::string> val_files = ListDir(root + "/val");
  ASSERT_THAT(rows, SizeIs(val_files.size()));

  std::set<std::string> listed;
  std::map<std::string, int> per_class;
  std::vector<std::string> labels_by_number(val_files.size() + 1);
  std::vector<std::string> row_ids;
  for (const SolutionRow& row : rows) {
    EXPECT_TRUE(listed.insert(row.image_id).second) << row.image_id << " listed twice";
    row_ids.push_back(row.image_id);
    ++per_class[row.wnid];
    int number = 0;
    ASSERT_TRUE(absl::SimpleAtoi(row.image_id.substr(15), &number)) << row.image_id;
    labels_by_number.at(number) = row.wnid;
    // The box lies inside the image (the truncated file still has a readable header).
    const TjResult decoded = TjDecode(ReadTestFile(root + "/val/" + row.image_id + ".JPEG"));
    ASSERT_TRUE(decoded.header_ok) << row.image_id;
    EXPECT_LE(0, row.xmin);
    EXPECT_LT(row.xmin, row.xmax);
    EXPECT_LT(row.xmax, decoded.width);
    EXPECT_LE(0, row.ymin);
    EXPECT_LT(row.ymin, row.ymax);
    EXPECT_LT(row.ymax, decoded.height);
  }
  for (const std::string& file : val_files) {
    EXPECT_EQ(listed.count(file.substr(0, file.size() - 5)), 1u) << file << " not listed";
  }
  // val_per_class each, plus the CMYK file in class 0 and the truncated one in class 1.
  const auto& classes = TinyImageNetClasses();
  EXPECT_EQ(per_class[classes[0].first], 4);
  EXPECT_EQ(per_class[classes[1].first], 4);
  EXPECT_EQ(per_class[classes[2].first], 3);
  EXPECT_THAT(per_class, SizeIs(3));
  // Rows are not in image-number order, and numbers are not grouped by class.
  EXPECT_FALSE(std::is_sorted(row_ids.begin(), row_ids.end()));
  std::vector<std::string> grouped(labels_by_number.begin() + 1, labels_by_number.end());
  EXPECT_FALSE(std::is_sorted(grouped.begin(), grouped.end()));
}

TEST(WriteTinyImageNetTest, ValLabelsAreTheSolutionsClasses) {
  const std::string root = NewRoot();
  const TinyImageNetOptions options = SmallOptions();
  ASSERT_TRUE(WriteTinyImageNet(root, options).ok());
  std::map<std::string, std::string> solution;  // path -> WNID
  for (const SolutionRow& row : ParseSolution(ReadTestFile(root + "/LOC_val_solution.csv"))) {
    solution["val/" + row.image_id + ".JPEG"] = row.wnid;
  }
  const std::vector<std::pair<std::string, std::string>> labels = TinyImageNetValLabels(options);
  ASSERT_EQ(labels.size(), solution.size());
  for (const auto& [path, wnid] : labels) EXPECT_EQ(solution[path], wnid) << path;
}

TEST(WriteTinyImageNetTest, SynsetMappingListsUsedClassesInWnidOrder) {
  const std::string root = NewRoot();
  const TinyImageNetOptions options = SmallOptions();
  ASSERT_TRUE(WriteTinyImageNet(root, options).ok());
  EXPECT_EQ(ReadTestFile(root + "/LOC_synset_mapping.txt"),
            "n01440764 tench, Tinca tinca\n"
            "n01443537 goldfish, Carassius auratus\n"
            "n01751748 sea snake\n");
}

TEST(WriteTinyImageNetTest, PathologicalFilesHaveTheirProperties) {
  const std::string root = NewRoot();
  const TinyImageNetOptions options = SmallOptions();
  ASSERT_TRUE(WriteTinyImageNet(root, options).ok());
  const PathologicalFiles bad = TinyImageNetPathologicalFiles(options);
  auto read = [&](const std::string& path) { return ReadTestFile(root + "/" + path); };

  for (const std::string* cmyk_path : {&bad.cmyk, &bad.val_cmyk}) {
    const std::string cmyk = read(*cmyk_path);
    const std::vector<JpegSegment> segments = JpegSegments(cmyk);
    const JpegSegment* app14 = FindSegment(segments, 0xEE);
    ASSERT_NE(app14, nullptr) << *cmyk_path;
    EXPECT_TRUE(absl::StartsWith(app14->payload, "Adobe")) << *cmyk_path;
    ASSERT_NE(FindSegment(segments, 0xC0), nullptr) << *cmyk_path;
    EXPECT_EQ(SofComponents(*FindSegment(segments, 0xC0)), 4) << *cmyk_path;
    const TjResult decoded = TjDecode(cmyk);
    EXPECT_TRUE(decoded.decode_ok) << *cmyk_path;
    EXPECT_EQ(decoded.colorspace, TJCS_CMYK) << *cmyk_path;
  }

  const std::vector<JpegSegment> gray = JpegSegments(read(bad.grayscale));
  ASSERT_NE(FindSegment(gray, 0xC0), nullptr);
  EXPECT_EQ(SofComponents(*FindSegment(gray, 0xC0)), 1);
  EXPECT_TRUE(TjDecode(read(bad.grayscale)).decode_ok);

  const std::vector<JpegSegment> progressive = JpegSegments(read(bad.progressive));
  ASSERT_NE(FindSegment(progressive, 0xC2), nullptr);
  EXPECT_EQ(FindSegment(progressive, 0xC0), nullptr);
  EXPECT_EQ(SofComponents(*FindSegment(progressive, 0xC2)), 3);
  EXPECT_TRUE(TjDecode(read(bad.progressive)).decode_ok);

  const std::string png = read(bad.png_as_jpeg);
  EXPECT_TRUE(absl::StartsWith(png, "\x89PNG\r\n\x1A\n"));
  int width = 0, height = 0;
  EXPECT_TRUE(PngDecodes(png, &width, &height));
  EXPECT_GE(std::min(width, height), options.min_side);

  for (const std::string* truncated_path : {&bad.truncated, &bad.val_truncated}) {
    const std::string truncated = read(*truncated_path);
    EXPECT_TRUE(absl::StartsWith(truncated, "\xFF\xD8")) << *truncated_path;
    EXPECT_FALSE(absl::EndsWith(truncated, "\xFF\xD9")) << *truncated_path << " has EOI";
    EXPECT_GT(truncated.size(), 300u) << *truncated_path;
    const TjResult decoded = TjDecode(truncated);
    EXPECT_TRUE(decoded.header_ok) << *truncated_path;
    EXPECT_FALSE(decoded.decode_ok) << *truncated_path << " decoded without error or warning";
  }

  EXPECT_TRUE(fs::exists(root + "/" + bad.empty));
  EXPECT_EQ(fs::file_size(root + "/" + bad.empty), 0u);

  const std::string text = read(bad.not_an_image);
  EXPECT_FALSE(text.empty());
  EXPECT_FALSE(absl::StartsWith(text, "\xFF\xD8"));
  EXPECT_FALSE(absl::StartsWith(text, "\x89PNG"));
  EXPECT_FALSE(TjDecode(text).header_ok);

  EXPECT_TRUE(absl::StartsWith(bad.val_cmyk, "val/ILSVRC2012_val_"));
  EXPECT_TRUE(absl::StartsWith(bad.val_truncated, "val/ILSVRC2012_val_"));
}

TEST(WriteTinyImageNetTest, PathologicalValPathsFollowTheSeed) {
  TinyImageNetOptions options;
  std::set<std::string> val_cmyk_paths;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    options.seed = seed;
    val_cmyk_paths.insert(TinyImageNetPathologicalFiles(options).val_cmyk);
    EXPECT_EQ(TinyImageNetPathologicalFiles(options).cmyk,
              "train/n01440764/n01440764_900001.JPEG");
  }
  EXPECT_GT(val_cmyk_paths.size(), 1u);
}

TEST(WriteTinyImageNetTest, RejectsBadOptions) {
  const std::string root = NewRoot();
  const auto expect_invalid = [&](TinyImageNetOptions options, const std::string& field) {
    const absl::Status status = WriteTinyImageNet(root, options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(std::string(status.message()), HasSubstr(field));
  };
  TinyImageNetOptions options;
  options.classes = 0;
  expect_invalid(options, "classes");
  options.classes = 21;
  expect_invalid(options, "classes");
  options = TinyImageNetOptions();
  options.train_per_class = -1;
  expect_invalid(options, "train_per_class");
  options = TinyImageNetOptions();
  options.max_side = options.min_side - 1;
  expect_invalid(options, "max_side");
  EXPECT_FALSE(fs::exists(root)) << "nothing is written for bad options";
}

TEST(WriteTinyImageNetTest, FailsWhenRootIsNotWritable) {
  const std::string dir = NewScratchDir();
  const std::string regular_file = dir + "/a_file";
  WriteTestFile(regular_file, "x");
  const absl::Status status = WriteTinyImageNet(regular_file + "/root", SmallOptions());
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr(regular_file));
}

}  // namespace
}  // namespace forge::testdata
