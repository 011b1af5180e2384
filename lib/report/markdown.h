// Pieces of Markdown documents: aligned tables, escaped inline text, fenced blocks, and a block
// between two marker comments that a tool can refresh inside a hand-written file.
#ifndef FORGE_LIB_REPORT_MARKDOWN_H_
#define FORGE_LIB_REPORT_MARKDOWN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forge {

// A GitHub-flavoured Markdown table whose columns are padded to a common width, so that the
// source reads as a table too. Cells are Markdown: "|" is escaped and line breaks become spaces,
// everything else (emphasis, links) is kept.
//
//   MarkdownTable table({{"epoch", MarkdownTable::kRight}, {"phase", MarkdownTable::kLeft}});
//   table.AddRow({"1", "train"});
//   table.Render() == "| epoch | phase |\n| ----: | :---- |\n|     1 | train |\n"
class MarkdownTable {
 public:
  enum Align { kLeft, kRight };
  struct Column {
    std::string title;
    Align align = kLeft;
  };

  explicit MarkdownTable(std::vector<Column> columns);

  // `cells` must have one entry per column.
  void AddRow(std::vector<std::string> cells);
  int rows() const { return static_cast<int>(rows_.size()); }

  std::string Render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// `text` as literal inline Markdown: backslash-escapes \ ` * _ [ ] < > | so that names such as
// "jack-o'-lantern" or "*nix" show as written.
std::string EscapeMarkdown(absl::string_view text);

// `text` in a fenced code block with `info` (e.g. "text") after the opening fence. The fence is
// longer than any run of backticks in `text`, so the block cannot end early; a final newline is
// added when `text` lacks one.
std::string FencedBlock(absl::string_view text, absl::string_view info);

// Returns `document` with its marked block set to `content`: the text from the start of
// `start_marker` to the end of `end_marker` becomes start_marker + "\n" + content + end_marker,
// and everything outside stays byte for byte. Without either marker the block is appended
// (after a blank line when `document` is not empty) and followed by "\n", so refreshing the
// result again changes nothing. Fails with InvalidArgument naming `source` when only one
// marker is present, when the end marker comes first, or when a marker appears twice.
absl::StatusOr<std::string> UpsertMarkedBlock(absl::string_view document,
                                              absl::string_view start_marker,
                                              absl::string_view end_marker,
                                              absl::string_view content,
                                              absl::string_view source);

}  // namespace forge

#endif  // FORGE_LIB_REPORT_MARKDOWN_H_
