// Test helpers of valprep (testonly): a flat validation folder to sort, and listings of a folder
// tree to compare before and after a run. Scratch directories and files: testdata/scratch.h.
#ifndef FORGE_TOOLS_VALPREP_VALPREP_TESTING_H_
#define FORGE_TOOLS_VALPREP_VALPREP_TESTING_H_

#include <string>
#include <vector>

namespace forge {
namespace valprep_testing {

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

#endif  // FORGE_TOOLS_VALPREP_VALPREP_TESTING_H_
