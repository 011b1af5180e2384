// Checks a LibTorch archive (the zip that torch::serialize::OutputArchive writes: pickles plus raw
// tensor records) before LibTorch parses it. LibTorch's unpickler takes memo indices and string
// lengths from the file and allocates what they say before finding out that the data is not there:
// one crafted 25 KB checkpoint asked for 27 GB. CheckTorchArchive refuses such an archive with a
// clear message instead. It does not prove an archive sound; LibTorch's own checks still run.
#ifndef FORGE_LIB_TRAIN_TORCH_ARCHIVE_H_
#define FORGE_LIB_TRAIN_TORCH_ARCHIVE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace forge {

// `archive` is a zip that LibTorch can open (its reader, miniz, checks the records' bounds) and
// every pickle in it (*.pkl) passes CheckPickle. A DataLossError otherwise, naming the record; the
// caller adds the file's name.
absl::Status CheckTorchArchive(absl::string_view archive);

// Walks the opcodes of a pickle (protocols 0 to 5) up to its STOP: every opcode is one of the
// protocol's, every argument lies within the data, memo entries are written in order (index n only
// once n entries exist, as every pickler writes them) and read only once written. A DataLossError
// naming the opcode and its byte offset otherwise.
absl::Status CheckPickle(absl::string_view pickle);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_TORCH_ARCHIVE_H_
