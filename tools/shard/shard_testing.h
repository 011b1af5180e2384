// Test helpers for the shard tool: scratch folders, the tiny ImageNet (generated once per test
// binary, with its val/ sorted into class folders by valprep), file contents and records.
#ifndef FORGE_TOOLS_SHARD_SHARD_TESTING_H_
#define FORGE_TOOLS_SHARD_SHARD_TESTING_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "proto/dataset.pb.h"
#include "testdata/tiny_imagenet.h"

namespace forge::shard_testing {

// An empty directory TempDir()/shard_<test suite>_<test name>[_<tag>], removed first if it
// exists. Returns its path (no trailing slash).
std::string NewScratchDir(absl::string_view tag = "");

// The generator options of TinyImageNet(): 10 classes, 40 train images per class and the 7
// pathological train files (407 files), 10 val images per class plus 2 pathological ones.
testdata::TinyImageNetOptions TinyOptions();

// Root of the tiny ImageNet with pathological files, written once per test binary:
// train/<wnid>/..., val/ (flat), LOC_synset_mapping.txt, LOC_val_solution.csv, and
// prepared/val/<wnid>/... (val sorted into class folders by valprep, copies).
const std::string& TinyImageNet();
// The same dataset without pathological files (train/ only).
const std::string& CleanTinyImageNet();

std::string ReadBytes(const std::string& path);
void WriteBytes(const std::string& path, absl::string_view bytes);

// Every regular file below `dir`: relative path -> contents.
std::map<std::string, std::string> ReadTree(const std::string& dir);

struct ReadBackRecord {
  uint64_t offset = 0;
  ImageRecord record;
};
// The records of the shard file at `path`, read and parsed with RecordReader; a test failure
// if the file does not read back cleanly.
std::vector<ReadBackRecord> ReadShard(const std::string& path);

}  // namespace forge::shard_testing

#endif  // FORGE_TOOLS_SHARD_SHARD_TESTING_H_
