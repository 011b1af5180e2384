// CSV text built in memory, for report files that spreadsheets, pandas and shell scripts read.
#ifndef FORGE_LIB_REPORT_CSV_H_
#define FORGE_LIB_REPORT_CSV_H_

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace forge {

// Appends fields and rows to a string in RFC 4180 form, except that rows end in "\n" (not
// "\r\n"): fields are separated by commas and a field is quoted (with quotes doubled) only when
// it holds a comma, a quote, "\r" or "\n".
//
//   CsvWriter csv;
//   csv.AddRow({"epoch", "phase"});
//   csv.AddInt(1);
//   csv.AddField("train");
//   csv.EndRow();
//   csv.contents() == "epoch,phase\n1,train\n"
class CsvWriter {
 public:
  void AddField(absl::string_view text);
  void AddInt(int64_t value);
  // Ends the current row (an empty row if no field was added).
  void EndRow();
  // AddField for each of `fields`, then EndRow.
  void AddRow(std::initializer_list<absl::string_view> fields);

  const std::string& contents() const { return out_; }
  // Hands over the text; the writer is empty afterwards.
  std::string Release();

 private:
  void Separate();

  std::string out_;
  bool row_started_ = false;
};

// `text` as one CSV field: unchanged, or quoted when it needs to be.
std::string CsvField(absl::string_view text);

}  // namespace forge

#endif  // FORGE_LIB_REPORT_CSV_H_
