// The main of a cc_fuzz_test's replay test: every input named on the command line (files, or
// folders searched recursively) and every seed from ForgeFuzzSeeds goes once through
// LLVMFuzzerTestOneInput. A crash fails the test, which is how every input that once crashed a
// fuzzer stays a regression test. With --write_seeds=DIR the inputs are written to DIR
// (named by their content's hash) instead, as the fuzzer's seed corpus.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "lib/fuzzing/fuzz_target.h"
#include "lib/io/file.h"

namespace {

struct Input {
  std::string name;
  std::string bytes;
};

bool Read(const std::filesystem::path& path, std::vector<Input>* inputs) {
  absl::StatusOr<std::string> bytes = forge::ReadFile(path.string());
  if (!bytes.ok()) {
    std::fprintf(stderr, "%s\n", std::string(bytes.status().message()).c_str());
    return false;
  }
  inputs->push_back({path.string(), *std::move(bytes)});
  return true;
}

bool Collect(const std::filesystem::path& path, std::vector<Input>* inputs) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) return Read(path, inputs);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path, error)) {
    if (entry.is_regular_file() && !Read(entry.path(), inputs)) return false;
  }
  if (error) std::fprintf(stderr, "cannot list %s: %s\n", path.c_str(), error.message().c_str());
  return !error;
}

// A stable file name for a seed.
std::string ContentName(const std::string& bytes) { return absl::StrFormat("%016x", forge::FuzzInputHash(bytes)); }

}  // namespace

int main(int argc, char** argv) {
  std::string seeds_dir;
  std::vector<Input> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (absl::StartsWith(arg, "--write_seeds=")) {
      seeds_dir = arg.substr(std::string("--write_seeds=").size());
    } else if (!Collect(arg, &inputs)) {
      return 2;
    }
  }
  if (ForgeFuzzSeeds) {
    int n = 0;
    for (std::string& seed : ForgeFuzzSeeds()) inputs.push_back({absl::StrFormat("seed %d", n++), std::move(seed)});
  }
  if (!seeds_dir.empty()) {
    std::filesystem::create_directories(seeds_dir);
    for (const Input& input : inputs) {
      const std::string path = (std::filesystem::path(seeds_dir) / ContentName(input.bytes)).string();
      if (absl::Status status = forge::WriteFileAtomically(path, input.bytes); !status.ok()) {
        std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
        return 1;
      }
    }
    std::printf("wrote %zu seeds to %s\n", inputs.size(), seeds_dir.c_str());
    return 0;
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "no inputs to replay\n");
    return 2;
  }
  for (const Input& input : inputs) {
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", input.name.c_str(), input.bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.bytes.data()), input.bytes.size());
  }
  std::printf("replayed %zu inputs\n", inputs.size());
  return 0;
}
