// Test helpers: fresh scratch folders under ::testing::TempDir(), small files, and listings of a
// folder tree to compare before and after a run.
#ifndef FORGE_TOOLS_VALPREP_SCRATCH_H_
#define FORGE_TOOLS_VALPREP_SCRATCH_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace forge {
namespace valprep_testing {

// An empty directory TempDir()/valprep_<test suite>_<test name>[_<tag>], removed first if it
// exists, so that reruns of a test start clean. Returns its path (no trailing slash).
std::string NewScratchDir(absl::string_view tag = "");

// Writes `contents` to `path`, creating parent directories; a test failure on error.
void WriteTestFile(const std::string& path, absl::string_view contents);

// The contents of `path`, or "<unreadable>".
std::string ReadTestFile(const std::string& path);

// Every entry under `root`, recursively, sorted, one string each: "a/" for a directory,
// "a/b -> target" for a symlink, "a/b = contents" for a regular file (contents included, so
// that any change shows).
std::vector<std::string> ListTree(const std::string& root);

// The contents valprep's tests give image `number`: "jpeg bytes of image <number>".
std::string ImageContents(int number);

// Fills `dir` with ILSVRC2012_val_00000001.JPEG .. ILSVRC2012_val_<n>.JPEG, each with
// ImageContents(number).
void MakeFlatVal(const std::string& dir, int n);

}  // namespace valprep_testing
}  // namespace forge

#endif  // FORGE_TOOLS_VALPREP_SCRATCH_H_
