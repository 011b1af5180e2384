#include "lib/records/fuzz_input.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_replace.h"
#include "lib/records/record_reader.h"
#include "lib/records/record_writer.h"

namespace forge {

std::string RecordFileFromFuzzInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  if (!input.ConsumeBool()) return input.ConsumeRemainingBytesAsString();
  std::string file;
  while (input.remaining_bytes() > 0) AppendFramedRecord(input.ConsumeRandomLengthString(), &file);
  return file;
}

std::string FuzzInputForFile(const std::string& file) { return file + '\0'; }

std::string FuzzInputForPayloads(const std::vector<std::string>& payloads) {
  std::string input;
  for (const std::string& payload : payloads) {
    input += absl::StrReplaceAll(payload, {{"\\", "\\\\"}});
    input += "\\\n";
  }
  return input + '\1';
}

std::vector<std::string> FuzzInputsForRecordFile(const std::string& path) {
  RecordReader reader(path);
  std::vector<std::string> payloads;
  std::string payload, file;
  while (reader.ReadRecord(&payload)) {
    payloads.push_back(payload);
    AppendFramedRecord(payload, &file);
  }
  if (!reader.status().ok()) {
    std::fprintf(stderr, "cannot make seeds of %s: %s\n", path.c_str(), std::string(reader.status().message()).c_str());
    std::abort();
  }
  return {FuzzInputForPayloads(payloads), FuzzInputForFile(file)};
}

}  // namespace forge
