#include "lib/fuzzing/fuzz_target.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace forge {
namespace {

std::string* scratch_dir = nullptr;

void RemoveScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(*scratch_dir, ignored);
}

const std::string& ScratchDir() {
  if (scratch_dir == nullptr) {
    const char* base = std::getenv("TEST_TMPDIR");
    if (base == nullptr) base = std::getenv("TMPDIR");
    if (base == nullptr) base = "/tmp";
    scratch_dir = new std::string(absl::StrCat(base, "/forge-fuzz-", getpid()));
    std::filesystem::create_directories(*scratch_dir);
    std::atexit(RemoveScratchDir);
  }
  return *scratch_dir;
}

}  // namespace

std::string ScratchFolder(absl::string_view name) {
  std::string path = absl::StrCat(ScratchDir(), "/", name);
  std::filesystem::create_directories(path);
  return path;
}

std::string WriteScratchFile(absl::string_view bytes, absl::string_view name) {
  std::string path = absl::StrCat(ScratchDir(), "/", name);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), bytes.size());
  if (!out.flush()) {
    std::fprintf(stderr, "cannot write the fuzzer's scratch file %s\n", path.c_str());
    std::abort();
  }
  return path;
}

}  // namespace forge
