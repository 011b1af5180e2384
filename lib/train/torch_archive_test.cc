#include "lib/train/torch_archive.h"

#include <map>
#include <optional>
#include <sstream>
#include <string>

#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/train/torch_archive_testing.h"

namespace forge {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;  // the pickles below hold NUL bytes

// PROTO 2, as LibTorch writes, then `opcodes`.
std::string Pickle(const std::string& opcodes) { return "\x80\x02"s + opcodes; }

// BINUNICODE `text`.
std::string Unicode(const std::string& text) {
  return "X"s + static_cast<char>(text.size()) + std::string(3, '\0') + text;
}

// A reference to storage `key` of `elements` floats, as LibTorch's pickler writes one.
std::string StorageReference(const std::string& key, int elements) {
  return "(" + Unicode("storage") + "ctorch\nFloatStorage\n" + Unicode(key) + Unicode("cpu") + "K" +
         static_cast<char>(elements) + "tQ";
}

// Storage records "0" of 24 bytes and "1" of 8, as a Linear(3, 2)'s weight and bias.
std::optional<uint64_t> LinearRecords(const std::string& key) {
  const std::map<std::string, uint64_t> sizes = {{"0", 24}, {"1", 8}};
  if (sizes.count(key) == 0) return std::nullopt;
  return sizes.at(key);
}

absl::Status Check(const std::string& opcodes) { return CheckPickle(Pickle(opcodes), LinearRecords); }

std::string LinearArchive() {
  torch::nn::Linear model(3, 2);
  torch::serialize::OutputArchive archive;
  model->save(archive);
  std::string bytes;
  archive.save_to([&](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

TEST(CheckPickleTest, AcceptsWhatLibTorchsPicklerWrites) {
  EXPECT_TRUE(Check("K\x01q\x00h\x00."s).ok());                    // BININT1, BINPUT, BINGET
  EXPECT_TRUE(Check("]r\x00\x00\x00\x00j\x00\x00\x00\x00."s).ok());  // LONG_BINPUT, LONG_BINGET
  EXPECT_TRUE(Check("}(" + Unicode("a") + "K\x01" + Unicode("b") + "N" + "u.").ok());  // SETITEMS
  EXPECT_TRUE(Check(StorageReference("0", 6) + StorageReference("1", 2) + "\x86.").ok());
  EXPECT_TRUE(Check(StorageReference("absent", 0) + ".").ok());  // no elements: no record read
  EXPECT_TRUE(Check("K\x01.trailing bytes are not read").ok());
}

TEST(CheckPickleTest, RefusesMemoEntriesOutOfOrder) {
  // The input the checkpoint fuzzer found: LONG_BINPUT 0x656b6362 made LibTorch allocate 27 GB.
  const absl::Status huge = Check("]rbcke.");
  EXPECT_EQ(huge.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(huge.message(), HasSubstr("opcode 0x72 at byte 3 writes memo entry 1701536610 when only 0 entries exist"));
  EXPECT_THAT(Check("Nq\x00Nq\x02."s).message(), HasSubstr("writes memo entry 2 when only 1"));
  EXPECT_THAT(Check("Nq\x00h\x01."s).message(), HasSubstr("reads memo entry 1 of 1"));
  EXPECT_THAT(Check("q\x00."s).message(), HasSubstr("takes more values than the stack holds"));
}

TEST(CheckPickleTest, RefusesArgumentsBeyondTheData) {
  EXPECT_THAT(Check("X\xff\xff\xff\xff" "abc.").message(),
              HasSubstr("opcode 0x58 at byte 2 says 4294967295 bytes follow, but 4 remain"));
  EXPECT_THAT(Check("J\x01\x02").message(), HasSubstr("is cut off by the end of the data"));
  EXPECT_THAT(Check("ctorch\nTensor").message(), HasSubstr("text argument without its newline"));
  EXPECT_THAT(Check("\x8a\x04\x01\x02\x03\x04.").message(), HasSubstr("holds a 4-byte integer, not 8 bytes"));
  EXPECT_THAT(Check("K\x01").message(), HasSubstr("ends before its STOP opcode"));
  EXPECT_THAT(CheckPickle("", LinearRecords).message(), HasSubstr("ends before its STOP opcode"));
}

TEST(CheckPickleTest, RefusesOpcodesLibTorchDoesNotRead) {
  EXPECT_THAT(Check("\xff.").message(), HasSubstr("opcode 0xff at byte 2 is not one LibTorch's unpickler reads"));
  EXPECT_THAT(Check("Np0\n.").message(), HasSubstr("opcode 0x70 at byte 3 is not one"));  // PUT, protocol 0
}

TEST(CheckPickleTest, RefusesStackUnderflowsThatLibTorchDoesNotCheck) {
  // TUPLE after its mark was popped: LibTorch would reserve (0 - 1) elements.
  EXPECT_THAT(Check("}" + Unicode("a") + "N(st.").message(),
              HasSubstr("opcode 0x74 at byte 12 takes more values than the stack holds"));
  // DICT with a key and no value: LibTorch would read past the end of its stack.
  EXPECT_THAT(Check("(K\x01" "d.").message(), HasSubstr("has a key without its value"));
  EXPECT_THAT(Check("R.").message(), HasSubstr("takes more values than the stack holds"));
  EXPECT_THAT(Check("(e.").message(), HasSubstr("takes more values than the stack holds"));
}

TEST(CheckPickleTest, RefusesStoragesLargerThanTheirRecords) {
  EXPECT_THAT(Check(StorageReference("1", 6) + ".").message(),
              HasSubstr("says storage '1' holds 6 elements of 4 bytes, but its record holds 8 bytes"));
  EXPECT_THAT(Check(StorageReference("7", 1) + ".").message(), HasSubstr("refers to storage '7', which the archive lacks"));
  EXPECT_THAT(Check("(" + Unicode("storage") + "ctorch\nFloatStorage\n" + Unicode("0") + Unicode("cpu") +
                    "J\xff\xff\xff\xfftQ.").message(),
              HasSubstr("refers to a storage of -1 elements"));
  EXPECT_THAT(Check("(" + Unicode("storage") + "K\xfe" + Unicode("0") + Unicode("cpu") + "K\x01tQ.").message(),
              HasSubstr("unknown scalar type 254"));
  // A reference the walk cannot follow (its element count comes out of a REDUCE) is refused.
  EXPECT_THAT(Check("(" + Unicode("storage") + "ctorch\nFloatStorage\n" + Unicode("0") + Unicode("cpu") +
                    "cbuiltins\ncomplex\n)RtQ.").message(),
              HasSubstr("does not refer to a storage as ('storage', type, key, location, elements)"));
}

TEST(CheckTorchArchiveTest, AcceptsWhatLibTorchWrites) {
  torch::nn::Linear model(3, 2);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  model->forward(torch::ones({1, 3})).sum().backward();
  optimizer.step();
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model->save(model_archive);
  optimizer.save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  std::string bytes;
  archive.save_to([&](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  EXPECT_TRUE(CheckTorchArchive(bytes).ok()) << CheckTorchArchive(bytes);
  EXPECT_TRUE(CheckTorchArchive(LinearArchive()).ok());
}

TEST(CheckTorchArchiveTest, RefusesAWeightReadFromItsBiasRecord) {
  // LibTorch's own Linear archive, its weight's storage key "0" changed to the bias's "1": the
  // weight's 6 floats would be read from the bias's 8-byte record.
  std::istringstream original(LinearArchive());
  caffe2::serialize::PyTorchStreamReader reader(&original);
  const std::string crafted = WriteTorchArchive([&](caffe2::serialize::PyTorchStreamWriter& writer) {
    for (const std::string& name : reader.getAllRecords()) {
      if (name == "version" || name == ".data/version" || name == ".data/serialization_id") continue;
      auto [data, size] = reader.getRecord(name);
      std::string bytes(static_cast<const char*>(data.get()), size);
      if (name == "data.pkl") {
        const size_t key = bytes.find(Unicode("0"));
        ASSERT_NE(key, std::string::npos);
        bytes.replace(key, Unicode("1").size(), Unicode("1"));
      }
      writer.writeRecord(name, bytes.data(), bytes.size());
    }
  });
  const absl::Status status = CheckTorchArchive(crafted);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("the archive's record 'data.pkl': pickle opcode 0x51 at byte"));
  EXPECT_THAT(status.message(), HasSubstr("says storage '1' holds 6 elements of 4 bytes, but its record holds 8 bytes"));
}

TEST(CheckTorchArchiveTest, NamesTheRecordOfABadPickle) {
  const absl::Status status = CheckTorchArchive(ArchiveOfOnePickle(kHugeMemoPickle));
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("the archive's record 'data.pkl': pickle opcode 0x72 at byte 3"));
}

TEST(CheckTorchArchiveTest, RefusesBytesThatAreNoArchive) {
  const absl::Status status = CheckTorchArchive("not a zip archive");
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("not a readable LibTorch archive"));
}

}  // namespace
}  // namespace forge
