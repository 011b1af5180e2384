// Helpers shared by report's tests: test data paths and small file utilities.
#ifndef FORGE_TOOLS_REPORT_REPORT_TESTING_H_
#define FORGE_TOOLS_REPORT_REPORT_TESTING_H_

#include <string>

#include "testdata/tool_runner.h"

namespace forge {
namespace report_testing {

// The path of `relative` (e.g. "tools/report/testdata/golden/eval.txtpb") in the test's
// runfiles.
using testdata::Runfile;

// A new empty directory under the test's temporary directory, unique within the process.
std::string NewScratchDir();

// The bytes of `path`, or "" when it cannot be read (the test then fails on the comparison).
std::string ReadBytes(const std::string& path);

void WriteBytes(const std::string& path, const std::string& bytes);

}  // namespace report_testing
}  // namespace forge

#endif  // FORGE_TOOLS_REPORT_REPORT_TESTING_H_
