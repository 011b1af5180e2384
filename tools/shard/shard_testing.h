// Test helpers for the shard tool: the tiny ImageNet (generated once per test binary, with its
// val/ sorted into class folders, as valprep would) and the records of a shard. Scratch directories
// and files: testdata/scratch.h.
#ifndef FORGE_TOOLS_SHARD_SHARD_TESTING_H_
#define FORGE_TOOLS_SHARD_SHARD_TESTING_H_

#include <string>
#include <vector>

#include "proto/dataset.pb.h"
#include "testdata/tiny_imagenet.h"

namespace forge::shard_testing {

// The generator options of TinyImageNet(): 10 classes, 40 train images per class and the 7
// pathological train files (407 files), 10 val images per class plus 2 pathological ones.
testdata::TinyImageNetOptions TinyOptions();

// Root of the tiny ImageNet with pathological files, written once per test binary:
// train/<wnid>/..., val/ (flat), LOC_synset_mapping.txt, LOC_val_solution.csv, and
// prepared/val/<wnid>/... (val sorted into class folders by TinyImageNetValLabels, copies).
const std::string& TinyImageNet();
// The same dataset without pathological files (train/ only).
const std::string& CleanTinyImageNet();

struct ReadBackRecord {
  uint64_t offset = 0;
  ImageRecord record;
};
// The records of the shard file at `path`, read and parsed with RecordReader; a test failure
// if the file does not read back cleanly.
std::vector<ReadBackRecord> ReadShard(const std::string& path);

}  // namespace forge::shard_testing

#endif  // FORGE_TOOLS_SHARD_SHARD_TESTING_H_
