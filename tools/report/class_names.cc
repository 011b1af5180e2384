#include "tools/report/class_names.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace forge {

std::string ClassLabel(int index, const std::string& wnid, const std::string& name) {
  if (wnid.empty()) return name.empty() ? absl::StrCat("#", index) : absl::StrCat("#", index, " (", name, ")");
  return name.empty() ? wnid : absl::StrCat(wnid, " (", name, ")");
}

}  // namespace forge
