#include "lib/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

bool IsHidden(const fs::path& path) { return path.filename().string().rfind('.', 0) == 0; }

// Appends the image files below `dir` (relative to `root`) to `paths`.
absl::Status ListImagesBelow(const fs::path& root, const fs::path& dir,
                             std::vector<std::string>* paths) {
  std::error_code error;
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (IsHidden(it->path())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    std::error_code type_error;
    if (!it->is_regular_file(type_error)) continue;  // symlinks to files count as files
    if (!HasImageExtension(it->path().filename().string())) continue;
    paths->push_back(it->path().lexically_relative(root).string());
  }
  if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat("cannot list ", dir.string()));
  return absl::OkStatus();
}

}  // namespace

bool HasImageExtension(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  const std::string extension = absl::AsciiStrToLower(name.substr(dot + 1));
  for (const char* known : {"jpg", "jpeg", "png", "ppm", "bmp", "pgm", "tif", "tiff", "webp"}) {
    if (extension == known) return true;
  }
  return false;
}

absl::StatusOr<ImageFolder> ListImageFolder(const std::string& root) {
  std::error_code error;
  if (!fs::exists(root, error)) return absl::NotFoundError(absl::StrCat("no such directory: ", root));
  if (!fs::is_directory(root, error)) {
    return absl::InvalidArgumentError(absl::StrCat(root, " is not a directory"));
  }
  ImageFolder folder;
  folder.root = root;
  for (fs::directory_iterator it(root, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    if (!IsHidden(it->path()) && it->is_directory()) {
      folder.classes.push_back(it->path().filename().string());
    }
  }
  if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat("cannot list ", root));
  if (folder.classes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        root, " holds no class folders; expected the ImageFolder layout root/<class>/<image>"));
  }
  std::sort(folder.classes.begin(), folder.classes.end());
  for (size_t label = 0; label < folder.classes.size(); ++label) {
    std::vector<std::string> paths;
    absl::Status status = ListImagesBelow(root, fs::path(root) / folder.classes[label], &paths);
    if (!status.ok()) return status;
    std::sort(paths.begin(), paths.end());
    for (std::string& path : paths) {
      folder.samples.push_back({std::move(path), static_cast<int>(label)});
    }
  }
  if (folder.samples.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(root, " holds class folders but no images"));
  }
  return folder;
}

}  // namespace forge
