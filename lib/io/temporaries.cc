#include "lib/io/temporaries.h"

#include <filesystem>

namespace forge {

namespace fs = std::filesystem;

std::vector<std::string> RemoveStaleTemporaries(const std::string& dir,
                                                const std::function<bool(absl::string_view name)>& is_output) {
  // mkstemp's six characters after file.cc's ".tmp.".
  constexpr absl::string_view kInfix = ".tmp.";
  constexpr size_t kSuffixSize = kInfix.size() + 6;
  std::vector<std::string> removed;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= kSuffixSize || absl::string_view(name).substr(name.size() - kSuffixSize, kInfix.size()) != kInfix) {
      continue;
    }
    std::error_code ignored;
    if (!entry.is_regular_file(ignored) || !is_output(absl::string_view(name).substr(0, name.size() - kSuffixSize))) continue;
    if (fs::remove(entry.path(), ignored)) removed.push_back(entry.path().string());
  }
  return removed;
}

}  // namespace forge
