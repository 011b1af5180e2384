// The safetensors file format (https://github.com/huggingface/safetensors, "Format"): named
// tensors as raw little-endian bytes behind a JSON header, the format PyTorch users save state
// dicts in (`safetensors.torch.save_file`). Byte-level and torch-free, so that it is cheap to
// test and fuzz; lib/engine/state_dict.h turns its tensors into LibTorch's.
//
// A file is: an 8-byte little-endian u64 N; N bytes of UTF-8 JSON, an object mapping each tensor
// name to {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]} plus an optional
// "__metadata__" object of string -> string; then the byte buffer, where each tensor's elements
// lie in C order at [begin, end) from the buffer's start. The tensors cover the buffer exactly
// (no holes, no overlaps).
//
//   Safetensors file;
//   file.metadata["architecture"] = "resnet18";
//   file.tensors.push_back({"fc.bias", SafetensorsDtype::kF32, {2}, std::string(8, '\0')});
//   if (absl::Status status = WriteSafetensors("model.safetensors", file); !status.ok()) ...
//   absl::StatusOr<Safetensors> read = ReadSafetensors("model.safetensors");
//   const SafetensorsTensor* bias = read->Find("fc.bias");  // shape {2}, 8 bytes
#ifndef FORGE_LIB_IO_SAFETENSORS_H_
#define FORGE_LIB_IO_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forge {

// The element types of the format with a whole number of bytes per element (the spec's "F4",
// "F6_*" and "F8_E8M0" are refused as unsupported).
enum class SafetensorsDtype {
  kBool,
  kU8,
  kI8,
  kF8E4M3,
  kF8E5M2,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kI64,
  kU64,
  kF64,
};

// The format's name of `dtype`: "BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2", "I16", "U16", "F16",
// "BF16", "I32", "U32", "F32", "I64", "U64", "F64".
absl::string_view SafetensorsDtypeName(SafetensorsDtype dtype);

// The dtype named `name` (as SafetensorsDtypeName spells it); InvalidArgument otherwise.
absl::StatusOr<SafetensorsDtype> ParseSafetensorsDtype(absl::string_view name);

// Bytes per element of `dtype` (1, 2, 4 or 8).
int SafetensorsDtypeSize(SafetensorsDtype dtype);

struct SafetensorsTensor {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::kF32;
  std::vector<int64_t> shape;  // {} is a scalar: one element
  std::string data;            // the elements in C order, little-endian
};

struct Safetensors {
  std::map<std::string, std::string> metadata;  // the header's "__metadata__"
  // Read from a file: in the order of their bytes in the buffer. Written: any order (the
  // writer lays them out by element size, largest first, then by name, so each is aligned).
  std::vector<SafetensorsTensor> tensors;

  // The tensor called `name`, or null.
  const SafetensorsTensor* Find(absl::string_view name) const;
};

// Headers longer than this are refused, as the reference implementation refuses them.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// The whole file for `file`: header (padded with spaces to a multiple of 8 bytes) and buffer.
// InvalidArgument, naming the tensor, for a tensor name that is used twice or is "__metadata__",
// a negative dimension, data whose size is not the shape's element count times the dtype's
// size, or a name or metadata string that is not valid UTF-8.
absl::StatusOr<std::string> SerializeSafetensors(const Safetensors& file);

// Parses a whole file's bytes; `source` names it in messages. Never reads outside `bytes`.
// InvalidArgument "<source>: <problem>" for anything the format does not allow: fewer than 8
// bytes; a header length past the end of the file or over kMaxSafetensorsHeaderBytes; a header
// that is not a JSON object (bad JSON, bad UTF-8, a key used twice in any object); a tensor entry
// without a string "dtype", an array "shape" of non-negative integers or an array
// "data_offsets" of two non-negative integers; an unknown dtype; an element count or byte size
// that overflows 64 bits; a byte range that runs past the buffer, ends before it begins, or
// differs from shape x dtype size; tensors that overlap or leave a hole, or a buffer with
// bytes no tensor covers (a truncated file shows as a range past the buffer); a "__metadata__"
// that is not an object of strings. Unknown fields of a tensor entry are ignored, as the
// reference implementation ignores them.
absl::StatusOr<Safetensors> ParseSafetensors(absl::string_view bytes, absl::string_view source);

// Whether `prefix`, the first bytes of a file of `file_size` bytes, starts like a safetensors
// file (a header length that fits the file, then '{'); needs at least 9 bytes. A cheap sniff
// for telling it from other formats, not a validation.
bool LooksLikeSafetensors(absl::string_view prefix, uint64_t file_size);

// Writes `file` to `path` atomically (lib/io/file.h's AtomicFile: a crash leaves the previous
// file or none). Errors as SerializeSafetensors, and those of writing, naming the file.
absl::Status WriteSafetensors(const std::string& path, const Safetensors& file);

// Reads and parses the file at `path`. NotFound for a missing file; reading errors as ReadFile
// (lib/io/file.h); then as ParseSafetensors, naming `path`.
absl::StatusOr<Safetensors> ReadSafetensors(const std::string& path);

}  // namespace forge

#endif  // FORGE_LIB_IO_SAFETENSORS_H_
