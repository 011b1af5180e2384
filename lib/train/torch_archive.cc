#include "lib/train/torch_archive.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <c10/core/ScalarType.h>
#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace forge {
namespace {

// The opcodes LibTorch's unpickler reads (torch/csrc/jit/serialization/unpickler.cpp), with the
// layout of their arguments: a fixed-size argument, a little-endian length followed by that many
// bytes, or newline-terminated lines. Its pickler writes no others.
struct Argument {
  int fixed_bytes;
  int length_bytes;
  int lines;
};
constexpr Argument kNoArgument{0, 0, 0};
constexpr Argument Fixed(int bytes) { return {bytes, 0, 0}; }
constexpr Argument Counted(int length_bytes) { return {0, length_bytes, 0}; }
constexpr Argument Lines(int lines) { return {0, 0, lines}; }

std::optional<Argument> ArgumentOf(uint8_t opcode) {
  switch (opcode) {
    case '(': case '.': case 'N': case 'Q': case 'R': case 'b': case 'd': case '}': case 'e': case 'l':
    case ']': case 's': case 't': case ')': case 'u': case 0x81: case 0x85: case 0x86: case 0x87: case 0x88:
    case 0x89:
      return kNoArgument;
    case 'K': case 'h': case 'q': case 0x80:
      return Fixed(1);
    case 'M':
      return Fixed(2);
    case 'J': case 'j': case 'r':
      return Fixed(4);
    case 'G':
      return Fixed(8);
    case 0x8a:  // LONG1
      return Counted(1);
    case 'X':  // BINUNICODE
      return Counted(4);
    case 'c':  // GLOBAL: module, class
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

// What the walk knows of a value on the unpickler's stack: strings, integers and small tuples of
// them are followed (a storage reference is such a tuple); anything else is opaque.
struct Value {
  enum class Kind { kOpaque, kString, kInt, kTuple };
  Kind kind = Kind::kOpaque;
  std::string text;
  int64_t number = 0;
  std::vector<Value> items;
};

Value TupleOf(std::vector<Value> items) {
  constexpr size_t kFollowed = 5;  // a storage reference's length
  Value tuple;
  if (items.size() > kFollowed) return tuple;
  for (const Value& item : items) {
    if (item.kind == Value::Kind::kTuple || item.kind == Value::Kind::kOpaque) return tuple;
  }
  tuple.kind = Value::Kind::kTuple;
  tuple.items = std::move(items);
  return tuple;
}

// The scalar type a global such as torch.FloatStorage stands for, as the unpickler resolves it.
std::optional<c10::ScalarType> StorageScalarType(absl::string_view module, absl::string_view name) {
  if (module != "torch") return std::nullopt;
#define FORGE_STORAGE_TYPE(_, type) \
  if (name == #type "Storage") return c10::ScalarType::type;
  AT_FORALL_SCALAR_TYPES_WITH_COMPLEX_AND_QINTS(FORGE_STORAGE_TYPE)
#undef FORGE_STORAGE_TYPE
  return std::nullopt;
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

absl::Status CheckPickle(absl::string_view pickle,
                         const std::function<std::optional<uint64_t>(const std::string&)>& record_size) {
  std::vector<Value> stack, memo;
  std::vector<size_t> marks;
  for (size_t at = 0; at < pickle.size();) {
    const size_t start = at;
    const uint8_t opcode = static_cast<uint8_t>(pickle[at++]);
    auto refuse = [&](absl::string_view problem) {
      return absl::DataLossError(absl::StrFormat("pickle opcode 0x%02x at byte %d %s", opcode, start, problem));
    };
    const std::optional<Argument> argument = ArgumentOf(opcode);
    if (!argument) return refuse("is not one LibTorch's unpickler reads");
    absl::string_view value;  // the fixed-size argument, the counted bytes or the lines
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
        value = pickle.substr(at, length);
        at += length;
      }
    }
    if (argument->lines > 0) {
      const size_t begin = at;
      for (int line = 0; line < argument->lines; ++line) {
        const size_t end = pickle.find('\n', at);
        if (end == absl::string_view::npos) return refuse("has a text argument without its newline");
        at = end + 1;
      }
      value = pickle.substr(begin, at - 1 - begin);
    }

    // The unpickler's stack and memo, as far as the walk follows them.
    auto pop = [&](size_t n) {
      if (stack.size() < n) return false;
      stack.resize(stack.size() - n);
      return true;
    };
    auto pop_to_mark = [&](std::vector<Value>* popped) {
      if (marks.empty() || marks.back() > stack.size()) return false;
      if (popped != nullptr) popped->assign(stack.begin() + marks.back(), stack.end());
      stack.resize(marks.back());
      marks.pop_back();
      return true;
    };
    auto push_int = [&](int64_t number) {
      stack.push_back(Value{Value::Kind::kInt, "", number, {}});
    };
    constexpr char kUnderflow[] = "takes more values than the stack holds";
    switch (opcode) {
      case 0x80:  // PROTO
        break;
      case '.':  // STOP
        return absl::OkStatus();
      case '(':  // MARK
        marks.push_back(stack.size());
        break;
      case ']': case ')': case '}': case 'N': case 0x88: case 0x89: case 'G':
        stack.emplace_back();
        break;
      case 'K': case 'M':
        push_int(static_cast<int64_t>(LittleEndian(value)));
        break;
      case 'J':
        push_int(static_cast<int32_t>(LittleEndian(value)));
        break;
      case 0x8a:  // LONG1
        if (value.size() != 8) return refuse(absl::StrCat("holds a ", value.size(), "-byte integer, not 8 bytes"));
        push_int(static_cast<int64_t>(LittleEndian(value)));
        break;
      case 'X':
        stack.push_back(Value{Value::Kind::kString, std::string(value), 0, {}});
        break;
      case 'c': {  // GLOBAL: the unpickler pushes a storage's scalar type, or an opaque handle
        const std::vector<absl::string_view> names = absl::StrSplit(value, '\n');
        const std::optional<c10::ScalarType> type = StorageScalarType(names[0], names[1]);
        if (type) {
          push_int(static_cast<int64_t>(*type));
        } else {
          stack.emplace_back();
        }
        break;
      }
      case 'q': case 'r': {  // BINPUT, LONG_BINPUT
        const uint64_t index = LittleEndian(value);
        if (stack.empty()) return refuse(kUnderflow);
        if (index > memo.size()) {
          return refuse(absl::StrCat("writes memo entry ", index, " when only ", memo.size(), " entries exist"));
        }
        if (index == memo.size()) {
          memo.push_back(stack.back());
        } else {
          memo[index] = stack.back();
        }
        break;
      }
      case 'h': case 'j': {  // BINGET, LONG_BINGET
        const uint64_t index = LittleEndian(value);
        if (index >= memo.size()) return refuse(absl::StrCat("reads memo entry ", index, " of ", memo.size()));
        stack.push_back(memo[index]);
        break;
      }
      case 't': {  // TUPLE
        std::vector<Value> items;
        if (!pop_to_mark(&items)) return refuse(kUnderflow);
        stack.push_back(TupleOf(std::move(items)));
        break;
      }
      case 0x85: case 0x86: case 0x87: {  // TUPLE1, TUPLE2, TUPLE3
        const size_t n = opcode - 0x84;
        if (stack.size() < n) return refuse(kUnderflow);
        std::vector<Value> items(stack.end() - n, stack.end());
        pop(n);
        stack.push_back(TupleOf(std::move(items)));
        break;
      }
      case 'l':  // LIST
        if (!pop_to_mark(nullptr)) return refuse(kUnderflow);
        stack.emplace_back();
        break;
      case 'e':  // APPENDS: onto the list below the mark
        if (marks.empty() || marks.back() == 0 || !pop_to_mark(nullptr)) return refuse(kUnderflow);
        break;
      case 'd': case 'u': {  // DICT, SETITEMS: key-value pairs above the mark
        if (marks.empty() || marks.back() > stack.size()) return refuse(kUnderflow);
        if ((stack.size() - marks.back()) % 2 != 0) return refuse("has a key without its value");
        if (opcode == 'u' && marks.back() == 0) return refuse(kUnderflow);
        pop_to_mark(nullptr);
        if (opcode == 'd') stack.emplace_back();
        break;
      }
      case 's':  // SETITEM: dict, key, value
        if (stack.size() < 3) return refuse(kUnderflow);
        pop(2);
        break;
      case 0x81:  // NEWOBJ
        if (!pop(1)) return refuse(kUnderflow);
        break;
      case 'R': case 'b':  // REDUCE, BUILD: a global's handle and its argument become one value
        if (!pop(2)) return refuse(kUnderflow);
        stack.emplace_back();
        break;
      case 'Q': {  // BINPERSID: ('storage', scalar type, key, location, numel) becomes a tensor
        if (stack.empty()) return refuse(kUnderflow);
        const Value reference = stack.back();
        stack.back() = Value();
        const std::vector<Value>& items = reference.items;
        if (reference.kind != Value::Kind::kTuple || items.size() != 5 || items[0].text != "storage" ||
            items[1].kind != Value::Kind::kInt || items[2].kind != Value::Kind::kString ||
            items[3].kind != Value::Kind::kString || items[4].kind != Value::Kind::kInt) {
          return refuse("does not refer to a storage as ('storage', type, key, location, elements)");
        }
        const int64_t type = items[1].number, elements = items[4].number;
        if (type < 0 || type >= static_cast<int64_t>(c10::ScalarType::NumOptions)) {
          return refuse(absl::StrCat("refers to a storage of unknown scalar type ", type));
        }
        const size_t item_size = c10::elementSize(static_cast<c10::ScalarType>(type));
        if (elements < 0) return refuse(absl::StrCat("refers to a storage of ", elements, " elements"));
        if (elements == 0) break;  // the unpickler reads no record then
        const std::optional<uint64_t> bytes = record_size(items[2].text);
        if (!bytes) return refuse(absl::StrCat("refers to storage '", items[2].text, "', which the archive lacks"));
        if (static_cast<uint64_t>(elements) > *bytes / item_size) {
          return refuse(absl::StrCat("says storage '", items[2].text, "' holds ", elements, " elements of ",
                                     item_size, " bytes, but its record holds ", *bytes, " bytes"));
        }
        break;
      }
    }
  }
  return absl::DataLossError("the pickle ends before its STOP opcode");
}

absl::Status CheckTorchArchive(absl::string_view archive) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(std::make_shared<BytesReadAdapter>(archive));
    for (const std::string& name : reader.getAllRecords()) {
      if (!absl::EndsWith(name, ".pkl")) continue;
      // The storages of data.pkl are the records under data/ (LibTorch's readArchiveAndTensors).
      const std::string storage_folder = absl::StrCat(absl::StripSuffix(name, ".pkl"), "/");
      auto record_size = [&](const std::string& key) -> std::optional<uint64_t> {
        const std::string storage = storage_folder + key;
        if (!reader.hasRecord(storage)) return std::nullopt;
        return reader.getRecordSize(storage);
      };
      const auto [data, length] = reader.getRecord(name);
      const absl::Status status =
          CheckPickle(absl::string_view(static_cast<const char*>(data.get()), length), record_size);
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
