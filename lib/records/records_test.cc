// Record files end to end: writer, sequential and random-access readers, DALI index.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "lib/io/file.h"
#include "lib/records/record_index.h"
#include "lib/records/record_reader.h"
#include "lib/records/record_writer.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

// `name` in a new scratch directory.
std::string Scratch(const std::string& name) { return testdata::NewScratchDir() + "/" + name; }

std::vector<std::string> Payloads() {
  std::vector<std::string> payloads = {"", "a", std::string(70000, 'x'), "hello"};
  std::string binary;
  for (int i = 0; i < 3000; ++i) binary.push_back(static_cast<char>(i * 31));
  payloads.push_back(binary);
  return payloads;
}

std::string WriteRecords(const std::string& name, const std::vector<std::string>& payloads,
                         std::vector<RecordSpan>* spans = nullptr) {
  const std::string path = Scratch(name);
  absl::StatusOr<std::unique_ptr<RecordWriter>> writer = RecordWriter::Create(path);
  EXPECT_TRUE(writer.ok()) << writer.status();
  for (const std::string& payload : payloads) EXPECT_TRUE((*writer)->Write(payload).ok());
  EXPECT_FALSE(fs::exists(path)) << "the file must appear only on Close()";
  EXPECT_TRUE((*writer)->Close().ok());
  if (spans != nullptr) *spans = (*writer)->spans();
  return path;
}

TEST(RecordsTest, FramingMatchesTfRecordByteForByte) {
  // "hello" as TensorFlow frames it: length 5, masked CRCs from an independent implementation.
  const std::string path = WriteRecords("hello.rec", {"hello"});
  const std::string expected("\x05\0\0\0\0\0\0\0" "\xea\xb2\x04\x3e" "hello" "\xbb\x1f\x1c\x19", 21);
  EXPECT_EQ(*ReadFile(path), expected);
}

TEST(RecordsTest, SequentialReadReturnsEveryPayload) {
  const std::vector<std::string> payloads = Payloads();
  std::vector<RecordSpan> spans;
  const std::string path = WriteRecords("all.rec", payloads, &spans);
  RecordReader reader(path);
  std::string payload;
  std::vector<std::string> read;
  std::vector<uint64_t> offsets;
  while (reader.ReadRecord(&payload)) {
    read.push_back(payload);
    offsets.push_back(reader.last_offset());
  }
  ASSERT_TRUE(reader.status().ok()) << reader.status();
  EXPECT_EQ(read, payloads);
  ASSERT_EQ(spans.size(), payloads.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    EXPECT_EQ(offsets[i], spans[i].offset);
    EXPECT_EQ(spans[i].size, payloads[i].size() + kRecordOverhead);
  }
}

TEST(RecordsTest, RandomAccessWithAndWithoutSizes) {
  const std::vector<std::string> payloads = Payloads();
  std::vector<RecordSpan> spans;
  const std::string path = WriteRecords("random.rec", payloads, &spans);
  absl::StatusOr<std::unique_ptr<RecordFile>> file = RecordFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  for (size_t i = payloads.size(); i-- > 0;) {
    EXPECT_EQ(*(*file)->ReadAt(spans[i].offset, spans[i].size), payloads[i]);
    EXPECT_EQ(*(*file)->ReadAt(spans[i].offset), payloads[i]);
  }
  absl::Status wrong_size = (*file)->ReadAt(spans[1].offset, spans[1].size + 1).status();
  EXPECT_TRUE(absl::IsDataLoss(wrong_size)) << wrong_size;
}

TEST(RecordsTest, EveryFlippedByteIsFoundWithFileAndOffset) {
  const std::vector<std::string> payloads = {"first record", "second", "third one"};
  std::vector<RecordSpan> spans;
  const std::string path = WriteRecords("flip.rec", payloads, &spans);
  const std::string original = *ReadFile(path);
  for (size_t byte = 0; byte < original.size(); ++byte) {
    std::string damaged = original;
    damaged[byte] ^= 0x20;
    const std::string damaged_path = Scratch("flipped.rec");
    ASSERT_TRUE(WriteFileAtomically(damaged_path, damaged).ok());
    RecordReader reader(damaged_path);
    std::string payload;
    while (reader.ReadRecord(&payload)) {
    }
    ASSERT_FALSE(reader.status().ok()) << "flip at byte " << byte << " went unnoticed";
    EXPECT_TRUE(absl::IsDataLoss(reader.status()));
    size_t record = 0;
    while (record + 1 < spans.size() && spans[record + 1].offset <= byte) ++record;
    const std::string message(reader.status().message());
    EXPECT_NE(message.find(damaged_path), std::string::npos) << message;
    EXPECT_NE(message.find("byte offset " + std::to_string(spans[record].offset)), std::string::npos)
        << "flip at " << byte << ": " << message;
  }
}

TEST(RecordsTest, TruncationIsReportedNeverSilent) {
  const std::string path = WriteRecords("cut.rec", {"0123456789", "abcdefghij"});
  const std::string original = *ReadFile(path);
  for (size_t keep = 1; keep < original.size(); ++keep) {
    if (keep == 26) continue;  // exactly one whole record: a valid file
    const std::string cut_path = Scratch("cut_short.rec");
    ASSERT_TRUE(WriteFileAtomically(cut_path, original.substr(0, keep)).ok());
    RecordReader reader(cut_path);
    std::string payload;
    while (reader.ReadRecord(&payload)) {
    }
    EXPECT_TRUE(absl::IsDataLoss(reader.status())) << "kept " << keep << " bytes";
  }
}

TEST(RecordsTest, EmptyAndMissingFiles) {
  const std::string empty = WriteRecords("empty.rec", {});
  RecordReader reader(empty);
  std::string payload;
  EXPECT_FALSE(reader.ReadRecord(&payload));
  EXPECT_TRUE(reader.status().ok());
  RecordReader missing(Scratch("absent.rec"));
  EXPECT_FALSE(missing.ReadRecord(&payload));
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
}

TEST(RecordsTest, AbandonedWriterLeavesNothing) {
  const std::string path = Scratch("abandoned.rec");
  {
    absl::StatusOr<std::unique_ptr<RecordWriter>> writer = RecordWriter::Create(path);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(std::string(3 << 20, 'z')).ok());  // forces a flush
  }
  EXPECT_TRUE(fs::is_empty(fs::path(path).parent_path())) << "neither the file nor a temporary one";
}

TEST(RecordIndexTest, DaliFormatRoundTrips) {
  const std::vector<RecordSpan> spans = {{0, 21}, {21, 16}, {37, 70016}};
  const std::string text = FormatDaliIndex(spans);
  EXPECT_EQ(text, "0 21\n21 16\n37 70016\n");
  absl::StatusOr<std::vector<RecordSpan>> parsed = ParseDaliIndex(text, "x.idx");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[2].offset, 37u);
  EXPECT_EQ((*parsed)[2].size, 70016u);
}

TEST(RecordIndexTest, MalformedIndexNamesFileAndLine) {
  for (const char* text : {"0 21\nbad line\n", "0 21\n22 16\n", "0 5\n", "0 21 7\n", "-1 21\n"}) {
    absl::Status status = ParseDaliIndex(text, "shard.idx").status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << text;
    EXPECT_NE(status.message().find("shard.idx:"), std::string::npos) << status;
  }
}

}  // namespace
}  // namespace forge
