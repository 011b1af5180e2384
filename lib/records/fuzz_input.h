// Fuzz inputs for readers of record files (checkpoints, event files), whose CRCs would otherwise
// stop almost every mutation at the framing. The input's last byte chooses: odd, the rest is a
// list of payloads that are framed with valid CRCs, so the fuzzer reaches the parsing behind
// them; even, the rest is the file as is (the framing and CRC checks themselves).
#ifndef FORGE_LIB_RECORDS_FUZZ_INPUT_H_
#define FORGE_LIB_RECORDS_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace forge {

// The record file an input describes (see above). Payloads are read with FuzzedDataProvider's
// ConsumeRandomLengthString: each ends at a backslash followed by another character ("\\\\" is
// one backslash).
std::string RecordFileFromFuzzInput(const uint8_t* data, size_t size);

// The inputs that describe `file` as is, and the file framing `payloads` with valid CRCs: seeds.
std::string FuzzInputForFile(const std::string& file);
std::string FuzzInputForPayloads(const std::vector<std::string>& payloads);

// Both seeds for the record file at `path` (its records as payloads, and the file as is); aborts
// if it cannot be read: seeds are made from files the code under test has just written.
std::vector<std::string> FuzzInputsForRecordFile(const std::string& path);

}  // namespace forge

#endif  // FORGE_LIB_RECORDS_FUZZ_INPUT_H_
