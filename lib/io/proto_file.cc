#include "lib/io/proto_file.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/io/file.h"

namespace forge {
namespace {

// Keeps the first text-format error with its position.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error_.empty()) error_ = absl::StrFormat("line %d, column %d: %s", line + 1, column + 1, message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

absl::StatusOr<ProtoFormat> ProtoFormatForPath(const std::string& path) {
  if (path == "-") return ProtoFormat::kText;
  if (absl::EndsWith(path, ".pb")) return ProtoFormat::kBinary;
  if (absl::EndsWith(path, ".txtpb") || absl::EndsWith(path, ".textproto")) return ProtoFormat::kText;
  if (absl::EndsWith(path, ".json")) return ProtoFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot tell the format of ", path,
      ": use .pb (binary), .txtpb or .textproto (text), .json (JSON) or - (text on stdin/stdout)"));
}

absl::Status ReadProtoFile(const std::string& path, google::protobuf::Message* message) {
  absl::StatusOr<ProtoFormat> format = ProtoFormatForPath(path);
  if (!format.ok()) return format.status();
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  message->Clear();
  const std::string type = message->GetDescriptor()->full_name();
  switch (*format) {
    case ProtoFormat::kBinary:
      if (!message->ParseFromString(*bytes)) {
        return absl::InvalidArgumentError(absl::StrCat(path, " is not a valid binary ", type));
      }
      return absl::OkStatus();
    case ProtoFormat::kText: {
      FirstErrorCollector errors;
      google::protobuf::TextFormat::Parser parser;
      parser.RecordErrorsTo(&errors);
      if (!parser.ParseFromString(*bytes, message)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, " is not a valid text-format ", type, ": ", errors.error()));
      }
      return absl::OkStatus();
    }
    case ProtoFormat::kJson: {
      auto status = google::protobuf::util::JsonStringToMessage(*bytes, message);
      if (!status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, " is not a valid JSON ", type, ": ", status.message().as_string()));
      }
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unreachable");
}

absl::Status WriteProtoFile(const std::string& path, const google::protobuf::Message& message) {
  absl::StatusOr<ProtoFormat> format = ProtoFormatForPath(path);
  if (!format.ok()) return format.status();
  std::string bytes;
  switch (*format) {
    case ProtoFormat::kBinary:
      if (!message.SerializeToString(&bytes)) {
        return absl::InternalError(absl::StrCat("cannot serialize ", message.GetTypeName(), " for ", path));
      }
      break;
    case ProtoFormat::kText:
      if (!google::protobuf::TextFormat::PrintToString(message, &bytes)) {
        return absl::InternalError(absl::StrCat("cannot print ", message.GetTypeName(), " for ", path));
      }
      break;
    case ProtoFormat::kJson: {
      google::protobuf::util::JsonPrintOptions options;
      options.add_whitespace = true;
      options.preserve_proto_field_names = true;
      auto status = google::protobuf::util::MessageToJsonString(message, &bytes, options);
      if (!status.ok()) {
        return absl::InternalError(
            absl::StrCat("cannot write ", path, " as JSON: ", status.message().as_string()));
      }
      break;
    }
  }
  return WriteFileAtomically(path, bytes);
}

}  // namespace forge
