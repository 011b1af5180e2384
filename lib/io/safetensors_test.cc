#include "lib/io/safetensors.h"

#include <cctype>
#include <cstring>
#include <filesystem>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

using ::testing::HasSubstr;

std::string U64(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
  return bytes;
}

// A file of `header` (JSON, unpadded) and `buffer`, built by hand.
std::string File(const std::string& header, const std::string& buffer = "") {
  return absl::StrCat(U64(header.size()), header, buffer);
}

std::string Floats(std::vector<float> values) {
  std::string bytes(values.size() * 4, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

Safetensors Example() {
  Safetensors file;
  file.metadata = {{"architecture", "resnet18"}, {"classes", "[\"n01440764\"]"}, {"name", "caf\xc3\xa9"}};
  file.tensors.push_back({"fc.weight", SafetensorsDtype::kF32, {2, 3}, Floats({1, 2, 3, 4, 5, 6})});
  file.tensors.push_back({"bn.num_batches_tracked", SafetensorsDtype::kI64, {}, std::string("\x07\0\0\0\0\0\0\0", 8)});
  file.tensors.push_back({"half", SafetensorsDtype::kF16, {3}, std::string("\x00\x3c\x00\x40\x00\x42", 6)});
  file.tensors.push_back({"bytes", SafetensorsDtype::kU8, {5}, "abcde"});
  file.tensors.push_back({"empty", SafetensorsDtype::kF32, {0, 4}, ""});
  return file;
}

void ExpectSameTensors(const Safetensors& a, const Safetensors& b) {
  EXPECT_EQ(a.metadata, b.metadata);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const SafetensorsTensor& tensor : a.tensors) {
    const SafetensorsTensor* other = b.Find(tensor.name);
    ASSERT_NE(other, nullptr) << tensor.name;
    EXPECT_EQ(other->dtype, tensor.dtype) << tensor.name;
    EXPECT_EQ(other->shape, tensor.shape) << tensor.name;
    EXPECT_EQ(other->data, tensor.data) << tensor.name;
  }
}

TEST(SafetensorsTest, RoundTripsEveryTensorAndTheMetadata) {
  const Safetensors file = Example();
  absl::StatusOr<std::string> bytes = SerializeSafetensors(file);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<Safetensors> read = ParseSafetensors(*bytes, "example");
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSameTensors(file, *read);
}

TEST(SafetensorsTest, LaysOutAnAlignedBufferAfterASpacePaddedHeader) {
  absl::StatusOr<std::string> bytes = SerializeSafetensors(Example());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes->data(), 8);  // little-endian host
  EXPECT_EQ(header_size % 8, 0u);
  const std::string header = bytes->substr(8, header_size);
  EXPECT_EQ(header.front(), '{');
  EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}'));
  // Largest elements first, then by name; every tensor at a multiple of its element size.
  absl::StatusOr<Safetensors> read = ParseSafetensors(*bytes, "example");
  ASSERT_TRUE(read.ok()) << read.status();
  std::vector<std::string> order;
  for (const SafetensorsTensor& tensor : read->tensors) order.push_back(tensor.name);
  EXPECT_EQ(order, (std::vector<std::string>{"bn.num_batches_tracked", "empty", "fc.weight", "half", "bytes"}));
  EXPECT_THAT(header, HasSubstr("\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}"));
  EXPECT_THAT(header, HasSubstr("\"half\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[32,38]}"));
}

TEST(SafetensorsTest, ReadsAFileMadeByHand) {
  // As the reference writer lays it out (metadata first, any key order accepted).
  const std::string bytes = File(
      R"({"b":{"data_offsets":[8,12],"shape":[1],"dtype":"I32"},"__metadata__":{"format":"pt"},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":{"ignored":[1,2]}}}   )",
      Floats({1.5, -2}) + std::string("\x2a\0\0\0", 4));
  absl::StatusOr<Safetensors> read = ParseSafetensors(bytes, "hand.safetensors");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(read->tensors.size(), 2u);
  EXPECT_EQ(read->tensors[0].name, "a");
  EXPECT_EQ(read->tensors[0].data, Floats({1.5, -2}));
  EXPECT_EQ(read->tensors[1].name, "b");
  EXPECT_EQ(read->tensors[1].dtype, SafetensorsDtype::kI32);
  EXPECT_EQ(read->tensors[1].shape, std::vector<int64_t>{1});
}

TEST(SafetensorsTest, DtypeNamesAndSizes) {
  for (const auto& [name, size] : std::vector<std::pair<std::string, int>>{
           {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
           {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4}, {"I64", 8}, {"U64", 8}, {"F64", 8}}) {
    absl::StatusOr<SafetensorsDtype> dtype = ParseSafetensorsDtype(name);
    ASSERT_TRUE(dtype.ok()) << name;
    EXPECT_EQ(SafetensorsDtypeName(*dtype), name);
    EXPECT_EQ(SafetensorsDtypeSize(*dtype), size) << name;
  }
  EXPECT_FALSE(ParseSafetensorsDtype("F4").ok());
  EXPECT_FALSE(ParseSafetensorsDtype("f32").ok());
}

TEST(SafetensorsTest, WriterRefusesWhatTheFormatCannotHold) {
  const auto refused = [](Safetensors file, const std::string& problem) {
    absl::StatusOr<std::string> bytes = SerializeSafetensors(file);
    EXPECT_TRUE(absl::IsInvalidArgument(bytes.status())) << problem;
    EXPECT_THAT(bytes.status().message(), HasSubstr(problem));
  };
  Safetensors file = Example();
  file.tensors.push_back(file.tensors[0]);
  refused(file, "two tensors are named \"fc.weight\"");
  file = Example();
  file.tensors[0].shape = {2, 2};
  refused(file, "needs 16 bytes of data, not 24");
  file = Example();
  file.tensors[0].shape = {-2, -3};
  refused(file, "invalid shape [-2, -3]");
  file = Example();
  file.tensors[0].name = "__metadata__";
  refused(file, "cannot be named __metadata__");
  file = Example();
  file.metadata["bad"] = "\xff";
  refused(file, "not valid UTF-8");
}

TEST(SafetensorsTest, WritesAtomicallyAndReadsBack) {
  const std::string dir = testdata::NewScratchDir();
  const std::string path = dir + "/model.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, Example()).ok());
  absl::StatusOr<Safetensors> read = ReadSafetensors(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSameTensors(Example(), *read);
  // A refused write leaves the previous file and no temporary file.
  Safetensors bad = Example();
  bad.tensors[1].data = "x";
  absl::Status status = WriteSafetensors(path, bad);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_TRUE(ReadSafetensors(path).ok());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  EXPECT_TRUE(absl::IsNotFound(ReadSafetensors(dir + "/missing.safetensors").status()));
  EXPECT_FALSE(WriteSafetensors(dir + "/no/such/dir/x.safetensors", Example()).ok());
}

TEST(SafetensorsTest, SniffsTheFormat) {
  absl::StatusOr<std::string> bytes = SerializeSafetensors(Example());
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(LooksLikeSafetensors(bytes->substr(0, 16), bytes->size()));
  EXPECT_FALSE(LooksLikeSafetensors(bytes->substr(0, 8), bytes->size()));
  EXPECT_FALSE(LooksLikeSafetensors(bytes->substr(0, 16), 20));  // header longer than the file
  EXPECT_FALSE(LooksLikeSafetensors("PK\x03\x04 a zip archive", 1000));
}

struct Malformed {
  const char* what;
  std::string bytes;
  const char* problem;  // expected in the message
};

// One hand-made file for each thing the reader must refuse.
std::vector<Malformed> MalformedFiles() {
  const std::string f32x2 = Floats({1, 2});
  const auto entry = [](const std::string& fields) { return absl::StrCat(R"({"t":{)", fields, "}}"); };
  return {
      {"shorter than the length", "\x10\0\0", "fewer than the 8"},
      {"length past the end", U64(100) + "{}", "past the end of the 10-byte file"},
      {"length over the limit", U64(200'000'000) + "{}", "over the limit of 100000000"},
      {"length near 2^64", U64(~uint64_t{0}) + "{}", "over the limit"},
      {"no object", File("[1, 2]"), "does not start with '{'"},
      {"empty header", File(""), "does not start with '{'"},
      {"bad JSON", File(R"({"t": )"), "not valid JSON"},
      {"trailing JSON", File(R"({} {})"), "not valid JSON"},
      {"bad UTF-8", File("{\"\xc3\x28\":1}"), "not valid JSON"},
      {"duplicate tensor",
       File(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            f32x2),
       "the key \"t\" twice (two tensors of one name)"},
      {"duplicate field", File(entry(R"("dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8])"), f32x2),
       "the key \"dtype\" twice"},
      {"duplicate metadata", File(R"({"__metadata__":{"a":"1","a":"2"}})"), "the key \"a\" twice"},
      {"too deep", File(absl::StrCat(R"({"t":)", std::string(100, '['), std::string(100, ']'), "}")),
       "nests deeper than 64"},
      {"entry not an object", File(R"({"t":[1]})"), "tensor \"t\": its entry is not a JSON object"},
      {"no dtype", File(entry(R"("shape":[2],"data_offsets":[0,8])"), f32x2), "no string \"dtype\""},
      {"dtype not a string", File(entry(R"("dtype":4,"shape":[2],"data_offsets":[0,8])"), f32x2),
       "no string \"dtype\""},
      {"unknown dtype", File(entry(R"("dtype":"F4","shape":[2],"data_offsets":[0,8])"), f32x2),
       "unknown or unsupported dtype \"F4\""},
      {"no shape", File(entry(R"("dtype":"F32","data_offsets":[0,8])"), f32x2), "no array \"shape\""},
      {"shape not an array", File(entry(R"("dtype":"F32","shape":2,"data_offsets":[0,8])"), f32x2),
       "no array \"shape\""},
      {"negative dimension", File(entry(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"), f32x2),
       "holds -2, not a non-negative"},
      {"fractional dimension", File(entry(R"("dtype":"F32","shape":[2.0],"data_offsets":[0,8])"), f32x2),
       "holds 2.0, not a non-negative"},
      {"string dimension", File(entry(R"("dtype":"F32","shape":["2"],"data_offsets":[0,8])"), f32x2),
       "not a non-negative"},
      {"dimension over 2^63", File(entry(R"("dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,8])"), f32x2),
       "not a non-negative 64-bit integer"},
      {"dimension over 2^64", File(entry(R"("dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8])"), f32x2),
       "not a non-negative 64-bit integer"},
      {"element count overflow",
       File(entry(R"("dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,8])"), f32x2),
       "overflows 64 bits"},
      {"byte size overflow", File(entry(R"("dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8])"), f32x2),
       "overflows 64 bits"},
      {"no offsets", File(entry(R"("dtype":"F32","shape":[2])"), f32x2), "no \"data_offsets\""},
      {"three offsets", File(entry(R"("dtype":"F32","shape":[2],"data_offsets":[0,8,8])"), f32x2),
       "no \"data_offsets\""},
      {"negative offset", File(entry(R"("dtype":"F32","shape":[2],"data_offsets":[-8,0])"), f32x2),
       "no \"data_offsets\""},
      {"offsets end before they begin", File(entry(R"("dtype":"F32","shape":[2],"data_offsets":[8,0])"), f32x2),
       "end before they begin"},
      {"offsets past the buffer", File(entry(R"("dtype":"F32","shape":[3],"data_offsets":[0,12])"), f32x2),
       "run past the end of the 8-byte buffer"},
      {"huge offsets", File(entry(R"("dtype":"U8","shape":[1],"data_offsets":[9223372036854775806,9223372036854775807])"), f32x2),
       "run past the end"},
      {"truncated data", File(entry(R"("dtype":"F32","shape":[2],"data_offsets":[0,8])"), f32x2.substr(0, 5)),
       "run past the end of the 5-byte buffer (a truncated file?)"},
      {"size mismatch", File(entry(R"("dtype":"F32","shape":[1],"data_offsets":[0,8])"), f32x2),
       "shape [1] of F32 needs 4 bytes, but \"data_offsets\" [0, 8] hold 8"},
      {"overlap",
       File(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            f32x2),
       "tensors \"a\" and \"b\" overlap"},
      {"hole",
       File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[1],"data_offsets":[6,7]}})",
            f32x2),
       "bytes 4 to 6 of the buffer belong to no tensor"},
      {"hole at the start", File(entry(R"("dtype":"F32","shape":[1],"data_offsets":[4,8])"), f32x2),
       "bytes 0 to 4 of the buffer"},
      {"trailing bytes", File(entry(R"("dtype":"F32","shape":[1],"data_offsets":[0,4])"), f32x2),
       "bytes 4 to 8 at the end of the buffer belong to no tensor"},
      {"bytes without tensors", File("{}", "x"), "bytes 0 to 1 at the end"},
      {"metadata not an object", File(R"({"__metadata__":["a"]})"), "\"__metadata__\" is not a JSON object"},
      {"metadata not strings", File(R"({"__metadata__":{"epoch":3}})"), "entry \"epoch\" is 3, not a string"},
  };
}

class MalformedTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedTest, IsRefusedNamingTheFileAndTheProblem) {
  absl::StatusOr<Safetensors> read = ParseSafetensors(GetParam().bytes, "bad.safetensors");
  ASSERT_FALSE(read.ok()) << GetParam().what;
  EXPECT_TRUE(absl::IsInvalidArgument(read.status()));
  EXPECT_THAT(read.status().message(), HasSubstr("bad.safetensors: "));
  EXPECT_THAT(read.status().message(), HasSubstr(GetParam().problem));
}

INSTANTIATE_TEST_SUITE_P(EachRefusal, MalformedTest, ::testing::ValuesIn(MalformedFiles()),
                         [](const ::testing::TestParamInfo<Malformed>& info) {
                           std::string name;
                           for (char c : std::string(info.param.what)) name += std::isalnum(c) ? c : '_';
                           return name;
                         });

TEST(SafetensorsTest, AllowsZeroSizedTensorsAnywhere) {
  const std::string bytes = File(
      R"({"z1":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("z2":{"dtype":"I64","shape":[3,0],"data_offsets":[8,8]}})",
      Floats({1, 2}));
  absl::StatusOr<Safetensors> read = ParseSafetensors(bytes, "zeros");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->tensors.size(), 3u);
}

// What a parse of any bytes must give: an error, or tensors that hold exactly their shape's
// bytes and serialise to a file that parses back to the same tensors.
void ExpectErrorOrConsistent(const std::string& bytes) {
  absl::StatusOr<Safetensors> read = ParseSafetensors(bytes, "fuzz");
  if (!read.ok()) {
    EXPECT_TRUE(absl::IsInvalidArgument(read.status())) << read.status();
    return;
  }
  for (const SafetensorsTensor& tensor : read->tensors) {
    uint64_t count = 1;
    for (int64_t dimension : tensor.shape) count *= static_cast<uint64_t>(dimension);
    EXPECT_EQ(count * SafetensorsDtypeSize(tensor.dtype), tensor.data.size()) << tensor.name;
  }
  absl::StatusOr<std::string> again = SerializeSafetensors(*read);
  if (!again.ok()) {
    // Only a name or metadata string the JSON reader let through yet the writer refuses could
    // get here; neither exists, since the reader validates UTF-8.
    ADD_FAILURE() << again.status();
    return;
  }
  absl::StatusOr<Safetensors> reread = ParseSafetensors(*again, "fuzz again");
  ASSERT_TRUE(reread.ok()) << reread.status();
  ExpectSameTensors(*read, *reread);
}

// Random damage to a valid file, many seeds: byte flips (mostly in the header), truncations,
// insertions, deletions and rewritten header lengths. Every result must be an error or a
// consistent file, never a crash. Out-of-bounds reads show under AddressSanitizer:
//   bazel test //lib/io:safetensors_test --copt=-fsanitize=address,undefined --linkopt=-fsanitize=address,undefined
TEST(SafetensorsFuzzTest, DamagedFilesGiveAnErrorOrAValidResult) {
  absl::StatusOr<std::string> valid = SerializeSafetensors(Example());
  ASSERT_TRUE(valid.ok());
  uint64_t header_size = 0;
  std::memcpy(&header_size, valid->data(), 8);
  int parsed = 0, refused = 0;
  for (uint32_t seed = 0; seed < 20000; ++seed) {
    std::mt19937 rng(seed);
    std::string bytes = *valid;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !bytes.empty(); ++e) {
      const size_t limit = rng() % 4 == 0 ? bytes.size() : std::min<size_t>(bytes.size(), 8 + header_size);
      const size_t at = rng() % limit;
      switch (rng() % 6) {
        case 0:  // one bit
          bytes[at] ^= static_cast<char>(1 << (rng() % 8));
          break;
        case 1:  // one byte, often a JSON character
          bytes[at] = "{}[]\",:0123456789-.eE \\u"[rng() % 25];
          break;
        case 2:  // truncated
          bytes.resize(at);
          break;
        case 3:  // a byte inserted
          bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(rng()));
          break;
        case 4:  // a run deleted
          bytes.erase(at, 1 + rng() % 16);
          break;
        case 5: {  // a new header length
          const uint64_t lengths[] = {0, 1, header_size - 1, header_size + 1, bytes.size(), bytes.size() - 8,
                                      ~uint64_t{0}, uint64_t{1} << 63, rng()};
          const std::string length = U64(lengths[rng() % 9]);
          if (bytes.size() >= 8) bytes.replace(0, 8, length);
          break;
        }
      }
    }
    ExpectErrorOrConsistent(bytes);
    (ParseSafetensors(bytes, "fuzz").ok() ? parsed : refused) += 1;
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "seed " << seed;
      return;
    }
  }
  // Both outcomes occur: the damage is not all caught by the first check, nor all harmless.
  EXPECT_GT(parsed, 100);
  EXPECT_GT(refused, 10000);
}

TEST(SafetensorsFuzzTest, EveryTruncationIsRefused) {
  absl::StatusOr<std::string> valid = SerializeSafetensors(Example());
  ASSERT_TRUE(valid.ok());
  for (size_t size = 0; size < valid->size(); ++size) {
    EXPECT_FALSE(ParseSafetensors(valid->substr(0, size), "cut").ok()) << size;
  }
}

}  // namespace
}  // namespace forge
