#include "tools/shard/shard_testing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <system_error>
#include <string>
#include <vector>

#include "lib/records/record_reader.h"
#include "testdata/scratch.h"

namespace forge::shard_testing {
namespace {

namespace fs = std::filesystem;

std::string Generate(const std::string& name, bool pathological) {
  const std::string root = testdata::NewScratchDir(name) + "/root";
  testdata::TinyImageNetOptions options = TinyOptions();
  options.pathological = pathological;
  absl::Status status = testdata::WriteTinyImageNet(root, options);
  EXPECT_TRUE(status.ok()) << status;
  return root;
}

}  // namespace

testdata::TinyImageNetOptions TinyOptions() { return testdata::TinyImageNetOptions(); }

const std::string& TinyImageNet() {
  static const std::string* root = [] {
    auto* path = new std::string(Generate("shard_tiny_imagenet", true));
    // val/ sorted into class folders, as valprep --mode=copy would.
    for (const auto& [file, wnid] : testdata::TinyImageNetValLabels(TinyOptions())) {
      const fs::path to = fs::path(*path) / "prepared/val" / wnid;
      std::error_code error;
      fs::create_directories(to, error);
      fs::copy_file(fs::path(*path) / file, to / fs::path(file).filename(), error);
      EXPECT_FALSE(error) << file << ": " << error.message();
    }
    return path;
  }();
  return *root;
}

const std::string& CleanTinyImageNet() {
  static const std::string* root = new std::string(Generate("shard_tiny_imagenet_clean", false));
  return *root;
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
