// Listing of a dataset stored as class folders (torchvision's ImageFolder layout):
// root/<class>/**/<image>, classes in sorted order, class index = position in that order.
#ifndef FORGE_LIB_DATA_IMAGE_FOLDER_H_
#define FORGE_LIB_DATA_IMAGE_FOLDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace forge {

struct ImageFolderSample {
  std::string path;  // relative to the root, e.g. "n01440764/n01440764_10026.JPEG"
  int label = 0;     // index into ImageFolder::classes
};

struct ImageFolder {
  std::string root;
  std::vector<std::string> classes;  // folder names (WNIDs), sorted
  std::vector<ImageFolderSample> samples;  // sorted by class, then by path
};

// True if `name` ends in one of torchvision's image extensions (.jpg .jpeg .png .ppm .bmp
// .pgm .tif .tiff .webp), ignoring case. The content decides the format later; the extension
// only decides what is listed.
bool HasImageExtension(const std::string& name);

// Lists `root` as ImageFolder does: every subdirectory is a class, every file below it (at any
// depth, symlinks followed) with an image extension is a sample. Hidden entries (".name") are
// skipped. Fails with NotFound if `root` is missing, InvalidArgument if it is not a directory
// or holds no class folder or no image.
absl::StatusOr<ImageFolder> ListImageFolder(const std::string& root);

}  // namespace forge

#endif  // FORGE_LIB_DATA_IMAGE_FOLDER_H_
