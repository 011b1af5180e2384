#include "lib/report/csv.h"

#include <charconv>
#include <utility>

namespace forge {

std::string CsvField(absl::string_view text) {
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

void CsvWriter::Separate() {
  if (row_started_) out_.push_back(',');
  row_started_ = true;
}

void CsvWriter::AddField(absl::string_view text) {
  Separate();
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) {
    out_.append(text.data(), text.size());
  } else {
    out_ += CsvField(text);
  }
}

void CsvWriter::AddInt(int64_t value) {
  Separate();
  char buffer[24];
  const std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out_.append(buffer, result.ptr);
}

void CsvWriter::EndRow() {
  out_.push_back('\n');
  row_started_ = false;
}

void CsvWriter::AddRow(std::initializer_list<absl::string_view> fields) {
  for (absl::string_view field : fields) AddField(field);
  EndRow();
}

std::string CsvWriter::Release() {
  row_started_ = false;
  return std::exchange(out_, std::string());
}

}  // namespace forge
