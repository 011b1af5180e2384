#include "lib/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <utility>

// JSON from nlohmann/json (Debian's nlohmann-json3-dev, header-only): a small, widely used and
// well-kept parser that validates UTF-8, parses iteratively (no stack overflow on deep nesting)
// and reports every key to a callback, which lets the reader refuse a key used twice instead of
// silently keeping one value. Protobuf's JSON support (already linked) was the alternative, but it
// parses into messages of a known schema; a safetensors header's keys are the tensor names.
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/io/file.h"

namespace forge {
namespace {

using Json = nlohmann::json;

struct DtypeInfo {
  SafetensorsDtype dtype;
  const char* name;
  int size;
};

constexpr DtypeInfo kDtypes[] = {
    {SafetensorsDtype::kBool, "BOOL", 1},   {SafetensorsDtype::kU8, "U8", 1},
    {SafetensorsDtype::kI8, "I8", 1},       {SafetensorsDtype::kF8E4M3, "F8_E4M3", 1},
    {SafetensorsDtype::kF8E5M2, "F8_E5M2", 1}, {SafetensorsDtype::kI16, "I16", 2},
    {SafetensorsDtype::kU16, "U16", 2},     {SafetensorsDtype::kF16, "F16", 2},
    {SafetensorsDtype::kBF16, "BF16", 2},   {SafetensorsDtype::kI32, "I32", 4},
    {SafetensorsDtype::kU32, "U32", 4},     {SafetensorsDtype::kF32, "F32", 4},
    {SafetensorsDtype::kI64, "I64", 8},     {SafetensorsDtype::kU64, "U64", 8},
    {SafetensorsDtype::kF64, "F64", 8},
};

const DtypeInfo& Info(SafetensorsDtype dtype) {
  for (const DtypeInfo& info : kDtypes) {
    if (info.dtype == dtype) return info;
  }
  return kDtypes[0];  // unreachable: every enumerator is listed
}

constexpr char kMetadataKey[] = "__metadata__";
// The deepest nesting a header needs is 3 (file object, tensor object, shape array); unknown
// fields may nest further, but not without bound.
constexpr int kMaxJsonDepth = 64;

uint64_t DecodeU64(absl::string_view bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

std::string EncodeU64(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

// The element count of `shape` times `element_size`, in bytes; false if a dimension is negative
// or a product overflows 64 bits.
bool ByteSize(const std::vector<int64_t>& shape, int element_size, uint64_t* bytes) {
  uint64_t size = static_cast<uint64_t>(element_size);
  for (int64_t dimension : shape) {
    if (dimension < 0 || __builtin_mul_overflow(size, static_cast<uint64_t>(dimension), &size)) return false;
  }
  *bytes = size;
  return true;
}

std::string ShapeText(const std::vector<int64_t>& shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

// Indices of `tensors` in the order their bytes are laid out: larger elements first (so that
// every tensor starts at a multiple of its element size, as the reference writer arranges),
// then by name.
std::vector<size_t> Layout(const std::vector<SafetensorsTensor>& tensors) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int size_a = SafetensorsDtypeSize(tensors[a].dtype), size_b = SafetensorsDtypeSize(tensors[b].dtype);
    if (size_a != size_b) return size_a > size_b;
    return tensors[a].name < tensors[b].name;
  });
  return order;
}

// The header of `file` laid out as `order`: the length, then the JSON padded with spaces to a
// multiple of 8 bytes (so that the buffer starts 8-aligned).
absl::StatusOr<std::string> Header(const Safetensors& file, const std::vector<size_t>& order) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!file.metadata.empty()) {
    nlohmann::ordered_json& metadata = header[kMetadataKey];
    metadata = nlohmann::ordered_json::object();
    for (const auto& [key, value] : file.metadata) metadata[key] = value;
  }
  std::set<absl::string_view> names;
  uint64_t offset = 0;
  for (size_t index : order) {
    const SafetensorsTensor& tensor = file.tensors[index];
    if (tensor.name == kMetadataKey) {
      return absl::InvalidArgumentError(absl::StrCat("a tensor cannot be named ", kMetadataKey));
    }
    if (!names.insert(tensor.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("two tensors are named \"", tensor.name, "\""));
    }
    uint64_t bytes = 0;
    if (!ByteSize(tensor.shape, SafetensorsDtypeSize(tensor.dtype), &bytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor \"", tensor.name, "\" has an invalid shape ", ShapeText(tensor.shape)));
    }
    if (bytes != tensor.data.size()) {
      return absl::InvalidArgumentError(absl::StrCat("tensor \"", tensor.name, "\" of shape ", ShapeText(tensor.shape),
                                                     " and dtype ", SafetensorsDtypeName(tensor.dtype), " needs ",
                                                     bytes, " bytes of data, not ", tensor.data.size()));
    }
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = SafetensorsDtypeName(tensor.dtype);
    entry["shape"] = tensor.shape;
    entry["data_offsets"] = {offset, offset + bytes};
    header[tensor.name] = std::move(entry);
    offset += bytes;
  }
  std::string json;
  try {
    json = header.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::ordered_json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("a tensor name or metadata string is not valid UTF-8 (", e.what(), ")"));
  }
  json.append((8 - json.size() % 8) % 8, ' ');
  return absl::StrCat(EncodeU64(json.size()), json);
}

// Thrown by the parser's callback to end parsing: nlohmann/json passes exceptions through.
struct StopParsing {
  std::string problem;
};

// Parses the header's JSON, refusing any object with a key used twice (nlohmann/json would keep
// the last value) and nesting deeper than kMaxJsonDepth.
absl::StatusOr<Json> ParseHeaderJson(absl::string_view text) {
  std::vector<std::set<std::string>> open_keys;  // one entry per open object or array
  const Json::parser_callback_t callback = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (open_keys.size() >= static_cast<size_t>(kMaxJsonDepth)) {
          throw StopParsing{absl::StrCat("the header nests deeper than ", kMaxJsonDepth, " levels")};
        }
        open_keys.emplace_back();
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!open_keys.empty()) open_keys.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open_keys.empty() && !open_keys.back().insert(parsed.get<std::string>()).second) {
          throw StopParsing{absl::StrCat("the header has the key \"", parsed.get<std::string>(), "\" twice",
                                         open_keys.size() == 1 ? " (two tensors of one name)" : "")};
        }
        break;
      case Json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), callback);
  } catch (const StopParsing& stop) {
    return absl::InvalidArgumentError(stop.problem);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("the header is not valid JSON: ", e.what()));
  }
}

// A tensor entry of the header, checked against the buffer's size.
struct Entry {
  std::string name;
  SafetensorsDtype dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

bool IsIndex(const Json& value) {
  return value.is_number_unsigned() &&
         value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

absl::StatusOr<Entry> ParseEntry(const std::string& name, const Json& value, uint64_t buffer_size) {
  const auto invalid = [&](absl::string_view problem) {
    return absl::InvalidArgumentError(absl::StrCat("tensor \"", name, "\": ", problem));
  };
  if (!value.is_object()) return invalid("its entry is not a JSON object");
  Entry entry{name, SafetensorsDtype::kF32, {}, 0, 0};
  const auto dtype = value.find("dtype");
  if (dtype == value.end() || !dtype->is_string()) return invalid("no string \"dtype\"");
  absl::StatusOr<SafetensorsDtype> parsed = ParseSafetensorsDtype(dtype->get_ref<const std::string&>());
  if (!parsed.ok()) return invalid(parsed.status().message());
  entry.dtype = *parsed;
  const auto shape = value.find("shape");
  if (shape == value.end() || !shape->is_array()) return invalid("no array \"shape\"");
  for (const Json& dimension : *shape) {
    if (!IsIndex(dimension)) return invalid(absl::StrCat("\"shape\" ", shape->dump(), " holds ", dimension.dump(), ", not a non-negative 64-bit integer"));
    entry.shape.push_back(dimension.get<int64_t>());
  }
  const auto offsets = value.find("data_offsets");
  if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 || !IsIndex((*offsets)[0]) ||
      !IsIndex((*offsets)[1])) {
    return invalid("no \"data_offsets\" of two non-negative 64-bit integers");
  }
  entry.begin = (*offsets)[0].get<uint64_t>();
  entry.end = (*offsets)[1].get<uint64_t>();
  if (entry.end < entry.begin) {
    return invalid(absl::StrCat("\"data_offsets\" [", entry.begin, ", ", entry.end, "] end before they begin"));
  }
  if (entry.end > buffer_size) {
    return invalid(absl::StrCat("\"data_offsets\" [", entry.begin, ", ", entry.end, "] run past the end of the ",
                                buffer_size, "-byte buffer (a truncated file?)"));
  }
  uint64_t bytes = 0;
  if (!ByteSize(entry.shape, SafetensorsDtypeSize(entry.dtype), &bytes)) {
    return invalid(absl::StrCat("shape ", ShapeText(entry.shape), " of ", SafetensorsDtypeName(entry.dtype),
                                " overflows 64 bits"));
  }
  if (bytes != entry.end - entry.begin) {
    return invalid(absl::StrCat("shape ", ShapeText(entry.shape), " of ", SafetensorsDtypeName(entry.dtype), " needs ",
                                bytes, " bytes, but \"data_offsets\" [", entry.begin, ", ", entry.end, "] hold ",
                                entry.end - entry.begin));
  }
  return entry;
}

absl::StatusOr<Safetensors> Parse(absl::string_view bytes) {
  if (bytes.size() < 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a safetensors file: ", bytes.size(), " bytes, fewer than the 8 of the header length"));
  }
  const uint64_t header_size = DecodeU64(bytes);
  if (header_size > kMaxSafetensorsHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat("not a safetensors file: a header length of ", header_size,
                                                   " bytes, over the limit of ", kMaxSafetensorsHeaderBytes));
  }
  if (header_size > bytes.size() - 8) {
    return absl::InvalidArgumentError(absl::StrCat("not a safetensors file: a header length of ", header_size,
                                                   " bytes, past the end of the ", bytes.size(), "-byte file"));
  }
  const absl::string_view text = bytes.substr(8, header_size);
  if (text.empty() || text[0] != '{') {
    return absl::InvalidArgumentError("not a safetensors file: the header does not start with '{'");
  }
  absl::StatusOr<Json> header = ParseHeaderJson(text);
  if (!header.ok()) return header.status();
  if (!header->is_object()) return absl::InvalidArgumentError("the header is not a JSON object");
  const absl::string_view buffer = bytes.substr(8 + header_size);

  Safetensors file;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header->items()) {
    if (key == kMetadataKey) {
      if (!value.is_object()) return absl::InvalidArgumentError("\"__metadata__\" is not a JSON object");
      for (const auto& [name, text_value] : value.items()) {
        if (!text_value.is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat("\"__metadata__\" entry \"", name, "\" is ", text_value.dump(), ", not a string"));
        }
        file.metadata[name] = text_value.get<std::string>();
      }
      continue;
    }
    absl::StatusOr<Entry> entry = ParseEntry(key, value, buffer.size());
    if (!entry.ok()) return entry.status();
    entries.push_back(std::move(*entry));
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& entry = entries[i];
    if (entry.begin < covered) {
      return absl::InvalidArgumentError(absl::StrCat("tensors \"", entries[i - 1].name, "\" and \"", entry.name,
                                                     "\" overlap in the buffer (bytes ", entry.begin, " to ",
                                                     covered, ")"));
    }
    if (entry.begin > covered) {
      return absl::InvalidArgumentError(absl::StrCat("bytes ", covered, " to ", entry.begin,
                                                     " of the buffer belong to no tensor (before \"", entry.name,
                                                     "\")"));
    }
    covered = entry.end;
  }
  if (covered != buffer.size()) {
    return absl::InvalidArgumentError(absl::StrCat("bytes ", covered, " to ", buffer.size(),
                                                   " at the end of the buffer belong to no tensor"));
  }
  file.tensors.reserve(entries.size());
  for (Entry& entry : entries) {
    file.tensors.push_back({std::move(entry.name), entry.dtype, std::move(entry.shape),
                            std::string(buffer.substr(entry.begin, entry.end - entry.begin))});
  }
  return file;
}

}  // namespace

absl::string_view SafetensorsDtypeName(SafetensorsDtype dtype) { return Info(dtype).name; }

absl::StatusOr<SafetensorsDtype> ParseSafetensorsDtype(absl::string_view name) {
  for (const DtypeInfo& info : kDtypes) {
    if (name == info.name) return info.dtype;
  }
  std::vector<absl::string_view> known;
  for (const DtypeInfo& info : kDtypes) known.push_back(info.name);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown or unsupported dtype \"", name, "\" (known: ", absl::StrJoin(known, ", "), ")"));
}

int SafetensorsDtypeSize(SafetensorsDtype dtype) { return Info(dtype).size; }

const SafetensorsTensor* Safetensors::Find(absl::string_view name) const {
  for (const SafetensorsTensor& tensor : tensors) {
    if (tensor.name == name) return &tensor;
  }
  return nullptr;
}

absl::StatusOr<std::string> SerializeSafetensors(const Safetensors& file) {
  const std::vector<size_t> order = Layout(file.tensors);
  absl::StatusOr<std::string> bytes = Header(file, order);
  if (!bytes.ok()) return bytes.status();
  for (size_t index : order) bytes->append(file.tensors[index].data);
  return bytes;
}

absl::StatusOr<Safetensors> ParseSafetensors(absl::string_view bytes, absl::string_view source) {
  absl::StatusOr<Safetensors> file = Parse(bytes);
  if (!file.ok()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", file.status().message()));
  return file;
}

bool LooksLikeSafetensors(absl::string_view prefix, uint64_t file_size) {
  if (prefix.size() < 9 || file_size < 9) return false;
  const uint64_t header_size = DecodeU64(prefix);
  return header_size >= 2 && header_size <= kMaxSafetensorsHeaderBytes && header_size <= file_size - 8 &&
         prefix[8] == '{';
}

absl::Status WriteSafetensors(const std::string& path, const Safetensors& file) {
  const std::vector<size_t> order = Layout(file.tensors);
  absl::StatusOr<std::string> header = Header(file, order);
  if (!header.ok()) return absl::InvalidArgumentError(absl::StrCat("cannot write ", path, ": ", header.status().message()));
  absl::StatusOr<std::unique_ptr<AtomicFile>> out = AtomicFile::Create(path);
  if (!out.ok()) return out.status();
  if (absl::Status status = (*out)->Append(*header); !status.ok()) return status;
  for (size_t index : order) {
    if (absl::Status status = (*out)->Append(file.tensors[index].data); !status.ok()) return status;
  }
  return (*out)->Commit();
}

absl::StatusOr<Safetensors> ReadSafetensors(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return ParseSafetensors(*bytes, path);
}

}  // namespace forge
