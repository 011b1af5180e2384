// What a fuzz target defines (see fuzz.bzl): libFuzzer's entry point and, optionally, seeds made
// in code, for formats whose valid files are easier to write than to keep (records, checkpoints,
// event files).
//
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     (void)forge::ParseDaliIndex(AsStringView(data, size), "fuzz");
//     return 0;
//   }
//   std::vector<std::string> ForgeFuzzSeeds() { return {FormatDaliIndex({{0, 16}})}; }
#ifndef FORGE_LIB_FUZZING_FUZZ_TARGET_H_
#define FORGE_LIB_FUZZING_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

// Runs the code under test on one input. Must return 0; a crash, a sanitizer report or an abort
// (e.g. a failed CHECK of a property such as a round trip) is a finding.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// Optional: valid inputs generated in code, added to the seed corpus and replayed by the test.
__attribute__((weak)) std::vector<std::string> ForgeFuzzSeeds();

namespace forge {

inline absl::string_view AsStringView(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// FNV-1a (64 bits) of `bytes`: for targets whose input is a plain file (an image), a seed for
// drawing their other parameters, so that each mutation of the file also moves them.
inline uint64_t FuzzInputHash(absl::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

// The folder `name` (a relative path, made if missing) in a folder of this process's own (under
// $TEST_TMPDIR, else $TMPDIR, else /tmp; removed at exit), for code under test that writes files.
std::string ScratchFolder(absl::string_view name);

// Writes `bytes` to the file `name` (a relative path; missing folders are made) in that folder of
// this process's own and returns its path, for code under test that reads files. Each call
// replaces the file. Aborts if it cannot be written: the fuzzer cannot go on.
std::string WriteScratchFile(absl::string_view bytes, absl::string_view name);

}  // namespace forge

#endif  // FORGE_LIB_FUZZING_FUZZ_TARGET_H_
