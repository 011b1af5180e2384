// Checks a LibTorch archive (the zip that torch::serialize::OutputArchive writes: pickles plus raw
// tensor records) before LibTorch parses it. LibTorch's unpickler trusts the file: it allocates
// what memo indices and string lengths say (one crafted 25 KB checkpoint asked for 27 GB), and a
// tensor's storage takes its size from the pickle, not from the record that holds its bytes, so
// a crafted file could make it read past that record. CheckTorchArchive refuses such archives
// with a clear message instead. It does not prove an archive sound; LibTorch's checks still run.
#ifndef FORGE_LIB_TRAIN_TORCH_ARCHIVE_H_
#define FORGE_LIB_TRAIN_TORCH_ARCHIVE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace forge {

// `archive` is a zip that LibTorch can open (its reader, miniz, checks the records' bounds) and
// every pickle in it (name.pkl) passes CheckPickle, its storages being the records under name/.
// A DataLossError otherwise, naming the record; the caller adds the file's name.
absl::Status CheckTorchArchive(absl::string_view archive);

// Follows a pickle up to its STOP as LibTorch's unpickler would: only the opcodes it reads, every
// argument within the data, memo entries written in order (index n only once n entries exist, as
// every pickler writes them) and read only once written, no opcode taking more values from the
// stack than it holds, and every storage reference ('storage', type, key, location, elements)
// naming a record of `record_size` (nullopt: no such record) that holds those elements. A
// DataLossError naming the opcode and its byte offset otherwise.
absl::Status CheckPickle(absl::string_view pickle,
                         const std::function<std::optional<uint64_t>(const std::string& key)>& record_size);

}  // namespace forge

#endif  // FORGE_LIB_TRAIN_TORCH_ARCHIVE_H_
