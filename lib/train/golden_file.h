// Test helper: reads the checked-in golden files under lib/train/testdata (written by the
// testdata/make_*_golden.py scripts) as lines of space-separated tokens.
#ifndef FORGE_LIB_TRAIN_GOLDEN_FILE_H_
#define FORGE_LIB_TRAIN_GOLDEN_FILE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace forge::train_testing {

// The lines of lib/train/testdata/<name> split at spaces, without empty and '#' lines. Adds a
// test failure (and returns nothing) when the file cannot be read.
std::vector<std::vector<std::string>> ReadGoldenLines(absl::string_view name);

// Parses `token` as a double (exactly: Python's repr() round-trips). Adds a test failure and
// returns NaN when it is not a number.
double ParseDouble(absl::string_view token);

// Parses tokens [begin, end) of `line` as doubles.
std::vector<double> ParseDoubles(const std::vector<std::string>& line, size_t begin, size_t end);

// The tokens from `begin` on, joined with spaces (e.g. a text-format proto at the end of a line).
std::string JoinFrom(const std::vector<std::string>& line, size_t begin);

}  // namespace forge::train_testing

#endif  // FORGE_LIB_TRAIN_GOLDEN_FILE_H_
