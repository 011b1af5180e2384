// Reading and writing protobuf messages as files, in the format the file's extension names.
#ifndef FORGE_LIB_IO_PROTO_FILE_H_
#define FORGE_LIB_IO_PROTO_FILE_H_

#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forge {

enum class ProtoFormat { kBinary, kText, kJson };

// The format for `path`: ".pb" binary, ".txtpb"/".textproto" text format, ".json" protobuf
// JSON, and "-" (standard input/output) text format. Other extensions are InvalidArgument.
absl::StatusOr<ProtoFormat> ProtoFormatForPath(const std::string& path);

// Parses `path` into `message` (cleared first). Errors name the file and, for text and JSON,
// the position of the problem.
absl::Status ReadProtoFile(const std::string& path, google::protobuf::Message* message);

// Writes `message` to `path` atomically (see WriteFileAtomically). JSON uses the .proto field
// names.
absl::Status WriteProtoFile(const std::string& path, const google::protobuf::Message& message);

}  // namespace forge

#endif  // FORGE_LIB_IO_PROTO_FILE_H_
