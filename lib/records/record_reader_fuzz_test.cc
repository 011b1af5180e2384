// Fuzzes the record reader on whole files: framing, CRCs, truncation, lengths that point past
// the end. Property: a file the reader accepts to the end is exactly its records' framed bytes.
#include <cstdint>
#include <string>
#include <vector>

#include "glog/logging.h"
#include "lib/fuzzing/fuzz_target.h"
#include "lib/records/record_reader.h"
#include "lib/records/record_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = forge::WriteScratchFile(forge::AsStringView(data, size), "records");
  forge::RecordReader reader(path);
  std::string payload;
  std::string reframed;
  while (reader.ReadRecord(&payload)) forge::AppendFramedRecord(payload, &reframed);
  if (reader.status().ok()) CHECK(reframed == forge::AsStringView(data, size));

  absl::StatusOr<std::unique_ptr<forge::RecordFile>> file = forge::RecordFile::Open(path);
  if (file.ok() && size >= 8) {
    // Random access from an offset taken from the file's own first bytes, as a bad index would.
    uint64_t offset = 0;
    for (int i = 0; i < 8; ++i) offset |= uint64_t{data[i]} << (8 * i);
    (void)(*file)->ReadAt(offset % (size + 1));
    (void)(*file)->ReadAt(0, size);
  }
  return 0;
}

std::vector<std::string> ForgeFuzzSeeds() {
  std::string two;
  forge::AppendFramedRecord("first payload", &two);
  forge::AppendFramedRecord(std::string(300, 'x'), &two);
  std::string empty_record;
  forge::AppendFramedRecord("", &empty_record);
  return {two, empty_record, two.substr(0, two.size() - 5)};
}
