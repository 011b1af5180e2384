#include "lib/report/markdown.h"

#include <algorithm>
#include <utility>

#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "lib/report/format.h"

namespace forge {
namespace {

std::string EscapeCell(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void AppendPadded(std::string* out, const std::string& text, int width, MarkdownTable::Align align) {
  const std::string padding(std::max(0, width - Utf8Length(text)), ' ');
  if (align == MarkdownTable::kRight) {
    absl::StrAppend(out, padding, text);
  } else {
    absl::StrAppend(out, text, padding);
  }
}

// Positions of every occurrence of `needle` in `haystack`.
std::vector<size_t> FindAll(absl::string_view haystack, absl::string_view needle) {
  std::vector<size_t> found;
  for (size_t at = haystack.find(needle); at != absl::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    found.push_back(at);
  }
  return found;
}

}  // namespace

MarkdownTable::MarkdownTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

void MarkdownTable::AddRow(std::vector<std::string> cells) {
  CHECK_EQ(cells.size(), columns_.size()) << "a Markdown table row needs one cell per column";
  for (std::string& cell : cells) cell = EscapeCell(cell);
  rows_.push_back(std::move(cells));
}

std::string MarkdownTable::Render() const {
  std::vector<std::string> titles;
  std::vector<int> widths;
  for (const Column& column : columns_) {
    titles.push_back(EscapeCell(column.title));
    widths.push_back(std::max(3, Utf8Length(titles.back())));
  }
  for (const std::vector<std::string>& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Utf8Length(row[i]));
  }
  std::string out;
  auto append_row = [&](const std::vector<std::string>& cells) {
    out += "|";
    for (size_t i = 0; i < cells.size(); ++i) {
      out += " ";
      AppendPadded(&out, cells[i], widths[i], columns_[i].align);
      out += " |";
    }
    out += "\n";
  };
  append_row(titles);
  out += "|";
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].align == kRight) {
      absl::StrAppend(&out, " ", std::string(widths[i] - 1, '-'), ": |");
    } else {
      absl::StrAppend(&out, " :", std::string(widths[i] - 1, '-'), " |");
    }
  }
  out += "\n";
  for (const std::vector<std::string>& row : rows_) append_row(row);
  return out;
}

std::string EscapeMarkdown(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (absl::string_view("\\`*_[]<>|").find(c) != absl::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string FencedBlock(absl::string_view text, absl::string_view info) {
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<size_t>(3, longest + 1), '`');
  std::string out = absl::StrCat(fence, info, "\n", text);
  if (!text.empty() && text.back() != '\n') out += "\n";
  absl::StrAppend(&out, fence, "\n");
  return out;
}

absl::StatusOr<std::string> UpsertMarkedBlock(absl::string_view document,
                                              absl::string_view start_marker,
                                              absl::string_view end_marker,
                                              absl::string_view content,
                                              absl::string_view source) {
  const std::vector<size_t> starts = FindAll(document, start_marker);
  const std::vector<size_t> ends = FindAll(document, end_marker);
  const std::string block = absl::StrCat(start_marker, "\n", content, end_marker);
  if (starts.empty() && ends.empty()) {
    std::string out(document);
    if (!out.empty()) out += out.back() == '\n' ? "\n" : "\n\n";
    absl::StrAppend(&out, block, "\n");
    return out;
  }
  if (starts.size() != 1 || ends.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, " has ", starts.size(), " '", start_marker, "' and ", ends.size(), " '",
        end_marker, "' markers; it needs exactly one of each (or neither, to append the block)"));
  }
  if (ends[0] < starts[0] + start_marker.size()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": '", end_marker, "' comes before '",
                                                   start_marker, "'"));
  }
  return absl::StrCat(document.substr(0, starts[0]), block,
                      document.substr(ends[0] + end_marker.size()));
}

}  // namespace forge
