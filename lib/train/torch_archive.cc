#include "lib/train/torch_archive.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace forge {
namespace {

// How an opcode's argument is laid out (Python's pickletools documents them all).
struct Argument {
  int fixed_bytes;   // a fixed-size argument
  int length_bytes;  // a little-endian length, followed by that many bytes
  int lines;         // newline-terminated text
};
constexpr Argument kNoArgument{0, 0, 0};
constexpr Argument Fixed(int bytes) { return {bytes, 0, 0}; }
constexpr Argument Counted(int length_bytes) { return {0, length_bytes, 0}; }
constexpr Argument Lines(int lines) { return {0, 0, lines}; }

std::optional<Argument> ArgumentOf(uint8_t opcode) {
  switch (opcode) {
    case '(': case '.': case '0': case '1': case '2': case 'N': case 'Q': case 'R': case 'a': case 'b':
    case 'd': case '}': case 'e': case 'l': case ']': case 'o': case 's': case 't': case ')': case 'u':
    case 0x81: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8f: case 0x90: case 0x91:
    case 0x92: case 0x93: case 0x94: case 0x97: case 0x98:
      return kNoArgument;
    case 'K': case 'h': case 'q': case 0x80: case 0x82:
      return Fixed(1);
    case 'M': case 0x83:
      return Fixed(2);
    case 'J': case 'j': case 'r': case 0x84:
      return Fixed(4);
    case 'G': case 0x95:  // FRAME's argument is the length of the opcodes that follow, walked as usual
      return Fixed(8);
    case 'U': case 'C': case 0x8a: case 0x8c:
      return Counted(1);
    case 'T': case 'X': case 'B': case 0x8b:
      return Counted(4);
    case 0x8d: case 0x8e: case 0x96:
      return Counted(8);
    case 'F': case 'I': case 'L': case 'P': case 'S': case 'V': case 'g': case 'p':
      return Lines(1);
    case 'c': case 'i':
      return Lines(2);
    default:
      return std::nullopt;
  }
}

uint64_t LittleEndian(absl::string_view bytes) {
  uint64_t value = 0;
  for (size_t i = bytes.size(); i-- > 0;) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

// Reads LibTorch's records straight from the archive's bytes.
class BytesReadAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit BytesReadAdapter(absl::string_view bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    n = std::min<size_t>(n, bytes_.size() - pos);
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  absl::string_view bytes_;
};

}  // namespace

absl::Status CheckPickle(absl::string_view pickle) {
  uint64_t memo_size = 0;
  for (size_t at = 0; at < pickle.size();) {
    const size_t start = at;
    const uint8_t opcode = static_cast<uint8_t>(pickle[at++]);
    auto refuse = [&](absl::string_view problem) {
      return absl::DataLossError(absl::StrFormat("pickle opcode 0x%02x at byte %d %s", opcode, start, problem));
    };
    const std::optional<Argument> argument = ArgumentOf(opcode);
    if (!argument) return refuse("is not a pickle opcode");
    absl::string_view value;  // the argument's bytes, or its first line
    if (argument->fixed_bytes + argument->length_bytes > 0) {
      const size_t width = argument->fixed_bytes + argument->length_bytes;
      if (pickle.size() - at < width) return refuse("is cut off by the end of the data");
      value = pickle.substr(at, width);
      at += width;
      if (argument->length_bytes > 0) {
        const uint64_t length = LittleEndian(value);
        if (length > pickle.size() - at) {
          return refuse(absl::StrCat("says ", length, " bytes follow, but ", pickle.size() - at, " remain"));
        }
        at += length;
      }
    }
    for (int line = 0; line < argument->lines; ++line) {
      const size_t end = pickle.find('\n', at);
      if (end == absl::string_view::npos) return refuse("has a text argument without its newline");
      if (line == 0) value = pickle.substr(at, end - at);
      at = end + 1;
    }

    std::optional<uint64_t> put, get;
    uint64_t text_index = 0;
    switch (opcode) {
      case 'q': case 'r': put = LittleEndian(value); break;
      case 'h': case 'j': get = LittleEndian(value); break;
      case 'p': case 'g':
        if (!absl::SimpleAtoi(value, &text_index)) return refuse("has a memo index that is not a number");
        (opcode == 'p' ? put : get) = text_index;
        break;
      case 0x94: put = memo_size; break;  // MEMOIZE
      case '.': return absl::OkStatus();  // STOP
    }
    if (put) {
      if (*put > memo_size) {
        return refuse(absl::StrCat("writes memo entry ", *put, " when only ", memo_size, " entries exist"));
      }
      if (*put == memo_size) ++memo_size;
    }
    if (get && *get >= memo_size) {
      return refuse(absl::StrCat("reads memo entry ", *get, " of ", memo_size));
    }
  }
  return absl::DataLossError("the pickle ends before its STOP opcode");
}

absl::Status CheckTorchArchive(absl::string_view archive) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(std::make_shared<BytesReadAdapter>(archive));
    for (const std::string& name : reader.getAllRecords()) {
      if (!absl::EndsWith(name, ".pkl")) continue;
      const auto [data, length] = reader.getRecord(name);
      const absl::Status status = CheckPickle(absl::string_view(static_cast<const char*>(data.get()), length));
      if (!status.ok()) {
        return absl::DataLossError(absl::StrCat("the archive's record '", name, "': ", status.message()));
      }
    }
  } catch (const c10::Error& e) {
    return absl::DataLossError(absl::StrCat("not a readable LibTorch archive: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("not a readable LibTorch archive: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace forge
