#include "lib/train/torch_archive_testing.h"

namespace forge {

std::string WriteTorchArchive(const std::function<void(caffe2::serialize::PyTorchStreamWriter&)>& write) {
  std::string archive;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    archive.append(static_cast<const char*>(data), size);
    return size;
  });
  write(writer);
  writer.writeEndOfFile();
  return archive;
}

std::string ArchiveOfOnePickle(const std::string& pickle) {
  return WriteTorchArchive([&](caffe2::serialize::PyTorchStreamWriter& writer) {
    writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  });
}

}  // namespace forge
