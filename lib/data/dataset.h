// A dataset of encoded images with labels, whether stored as class folders (ImageFolder layout)
// or packed into record shards described by a manifest. Tools take either for --data.
#ifndef FORGE_LIB_DATA_DATASET_H_
#define FORGE_LIB_DATA_DATASET_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/dataset.pb.h"

namespace forge {

struct EncodedSample {
  std::string image;  // encoded bytes (JPEG or PNG), format to be detected from content
  int label = 0;      // class index
};

class ImageDataset {
 public:
  virtual ~ImageDataset() = default;

  // What --data named: the folder or the manifest.
  virtual const std::string& source() const = 0;
  virtual size_t size() const = 0;
  // Classes in index order (WNIDs sorted); names are empty for folders.
  virtual const std::vector<ClassInfo>& classes() const = 0;
  // Where sample i comes from, for messages: a file path, or "<shard>@<offset>".
  virtual std::string Describe(size_t i) const = 0;
  // The encoded image of sample i and its label. Thread-safe. A damaged record (CRC mismatch) is DataLoss,
  // naming the shard and the byte offset; an unreadable file names the file.
  virtual absl::StatusOr<EncodedSample> Read(size_t i) const = 0;
};

// Opens `path`: a directory is read as an ImageFolder (see image_folder.h), a file as a
// DatasetManifest written by `shard` (format by extension), whose shards and indexes are
// opened relative to the manifest's directory. Fails with NotFound or InvalidArgument naming
// the file and the problem.
absl::StatusOr<std::unique_ptr<ImageDataset>> OpenImageDataset(const std::string& path);

}  // namespace forge

#endif  // FORGE_LIB_DATA_DATASET_H_
