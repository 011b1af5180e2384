#include "tools/shard/shard_testing.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "lib/records/record_reader.h"
#include "tools/valprep/valprep.h"

namespace forge::shard_testing {
namespace {

namespace fs = std::filesystem;

std::string Generate(const std::string& name, bool pathological) {
  const std::string root = ::testing::TempDir() + "/" + name;
  fs::remove_all(root);
  testdata::TinyImageNetOptions options = TinyOptions();
  options.pathological = pathological;
  absl::Status status = testdata::WriteTinyImageNet(root, options);
  EXPECT_TRUE(status.ok()) << status;
  return root;
}

}  // namespace

std::string NewScratchDir(absl::string_view tag) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = absl::StrCat("shard_", test ? test->test_suite_name() : "none", "_",
                                  test ? test->name() : "none");
  if (!tag.empty()) absl::StrAppend(&name, "_", tag);
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  const std::string dir = ::testing::TempDir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

testdata::TinyImageNetOptions TinyOptions() { return testdata::TinyImageNetOptions(); }

const std::string& TinyImageNet() {
  static const std::string* root = [] {
    auto* path = new std::string(Generate("shard_tiny_imagenet", true));
    ValprepOptions options;
    options.val_dir = *path + "/val";
    options.labels = *path + "/LOC_val_solution.csv";
    options.mode = valprep::PlaceMode::kCopy;
    options.out_dir = *path + "/prepared/val";
    ValprepReport report;
    absl::Status status = RunValprep(options, &report);
    EXPECT_TRUE(status.ok()) << status;
    return path;
  }();
  return *root;
}

const std::string& CleanTinyImageNet() {
  static const std::string* root = new std::string(Generate("shard_tiny_imagenet_clean", false));
  return *root;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void WriteBytes(const std::string& path, absl::string_view bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << "cannot write " << path;
}

std::map<std::string, std::string> ReadTree(const std::string& dir) {
  std::map<std::string, std::string> tree;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    tree[entry.path().lexically_relative(dir).string()] = ReadBytes(entry.path().string());
  }
  return tree;
}

std::vector<ReadBackRecord> ReadShard(const std::string& path) {
  std::vector<ReadBackRecord> records;
  RecordReader reader(path);
  std::string payload;
  while (reader.ReadRecord(&payload)) {
    ReadBackRecord& record = records.emplace_back();
    record.offset = reader.last_offset();
    EXPECT_TRUE(record.record.ParseFromString(payload)) << path << " @" << record.offset;
  }
  EXPECT_TRUE(reader.status().ok()) << reader.status();
  return records;
}

}  // namespace forge::shard_testing
