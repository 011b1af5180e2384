// Scratch files for tests (testonly): fresh directories of each test's own under
// ::testing::TempDir(), and one-call helpers to write and read the small files in them.
//
//   TEST(SynsetMappingTest, ReadsAFile) {
//     const std::string dir = testdata::NewScratchDir();  // empty, used by no other call
//     testdata::WriteTestFile(dir + "/in/map.txt", "n01440764 tench\n");  // creates in/
//     ... run the code under test on dir + "/in/map.txt", writing dir + "/out.txt" ...
//     EXPECT_EQ(testdata::ReadTestFile(dir + "/out.txt"), "expected contents");
//   }
#ifndef FORGE_TESTDATA_SCRATCH_H_
#define FORGE_TESTDATA_SCRATCH_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace forge::testdata {

// A new empty directory under ::testing::TempDir(), named after the running test (plus `tag`,
// if given) so that a leftover tells which test made it, with a random suffix (mkdtemp) so that
// no two calls, tests, test shards or reruns share one. Returns its path, without a trailing
// slash. Aborts the test binary if the directory cannot be made: a test without its scratch
// directory must not write anywhere else.
std::string NewScratchDir(absl::string_view tag = "");

// Writes `contents` to `path`, replacing what was there and creating missing parent
// directories. A failure is a (non-fatal) test failure naming the path.
void WriteTestFile(const std::string& path, absl::string_view contents);

// The bytes of `path`; a (non-fatal) test failure naming the path, and "", if it cannot be read.
std::string ReadTestFile(const std::string& path);

// Every regular file below `dir`, recursively: path relative to `dir` -> contents. Directories
// and symlinks are not listed. A test failure if `dir` cannot be listed.
std::map<std::string, std::string> ReadTestTree(const std::string& dir);

}  // namespace forge::testdata

#endif  // FORGE_TESTDATA_SCRATCH_H_
