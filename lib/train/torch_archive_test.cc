#include "lib/train/torch_archive.h"

#include <cstring>
#include <string>

#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace forge {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;  // the pickles below hold NUL bytes

// PROTO 2, as LibTorch writes, then `opcodes`.
std::string Pickle(const std::string& opcodes) { return "\x80\x02"s + opcodes; }

// An archive as LibTorch writes one, holding `pickle` as its data.pkl.
std::string ArchiveWithDataPickle(const std::string& pickle) {
  std::string archive;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    archive.append(static_cast<const char*>(data), size);
    return size;
  });
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  writer.writeEndOfFile();
  return archive;
}

TEST(CheckPickleTest, AcceptsMemoEntriesWrittenInOrderAndEveryArgumentKind) {
  EXPECT_TRUE(CheckPickle(Pickle("K\x01q\x00h\x00."s)).ok());                  // BININT1, BINPUT, BINGET
  EXPECT_TRUE(CheckPickle(Pickle("]r\x00\x00\x00\x00j\x00\x00\x00\x00."s)).ok());  // LONG_BINPUT, LONG_BINGET
  EXPECT_TRUE(CheckPickle(Pickle("Np0\ng0\n\x94h\x01."s)).ok());                 // PUT, GET, MEMOIZE
  EXPECT_TRUE(CheckPickle(Pickle("X\x03\x00\x00\x00"s + "abc\x8c\x01zctorch\nTensor\n.")).ok());
  EXPECT_TRUE(CheckPickle(Pickle("K\x01.trailing bytes are not read")).ok());
}

TEST(CheckPickleTest, RefusesMemoEntriesOutOfOrder) {
  // The input the checkpoint fuzzer found: LONG_BINPUT 0x656b6362 made LibTorch allocate 27 GB.
  const absl::Status huge = CheckPickle(Pickle("]rbcke."));
  EXPECT_EQ(huge.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(huge.message(), HasSubstr("opcode 0x72 at byte 3 writes memo entry 1701536610 when only 0 entries exist"));
  EXPECT_THAT(CheckPickle(Pickle("Nq\x00Nq\x02."s)).message(), HasSubstr("writes memo entry 2 when only 1"));
  EXPECT_THAT(CheckPickle(Pickle("Np7\n.")).message(), HasSubstr("writes memo entry 7"));
  EXPECT_THAT(CheckPickle(Pickle("Nq\x00h\x01."s)).message(), HasSubstr("reads memo entry 1 of 1"));
  EXPECT_THAT(CheckPickle(Pickle("gx\n.")).message(), HasSubstr("memo index that is not a number"));
}

TEST(CheckPickleTest, RefusesArgumentsBeyondTheData) {
  EXPECT_THAT(CheckPickle(Pickle("X\xff\xff\xff\xff" "abc.")).message(),
              HasSubstr("opcode 0x58 at byte 2 says 4294967295 bytes follow, but 4 remain"));
  EXPECT_THAT(CheckPickle(Pickle("J\x01\x02")).message(), HasSubstr("is cut off by the end of the data"));
  EXPECT_THAT(CheckPickle(Pickle("ctorch\nTensor")).message(), HasSubstr("text argument without its newline"));
  EXPECT_THAT(CheckPickle(Pickle("\xff.")).message(), HasSubstr("opcode 0xff at byte 2 is not a pickle opcode"));
  EXPECT_THAT(CheckPickle(Pickle("K\x01")).message(), HasSubstr("ends before its STOP opcode"));
  EXPECT_THAT(CheckPickle("").message(), HasSubstr("ends before its STOP opcode"));
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
  EXPECT_TRUE(CheckTorchArchive(ArchiveWithDataPickle(Pickle("N."))).ok());
}

TEST(CheckTorchArchiveTest, NamesTheRecordOfABadPickle) {
  const absl::Status status = CheckTorchArchive(ArchiveWithDataPickle(Pickle("]rbcke.")));
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
