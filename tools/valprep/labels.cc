#include "tools/valprep/labels.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/data/synset_mapping.h"

namespace forge {
namespace valprep {
namespace {

constexpr absl::string_view kKaggleHeader = "ImageId,PredictionString";
constexpr size_t kMaxNameBytes = 255;  // NAME_MAX on Linux file systems

struct Line {
  int64_t number;          // 1-based
  absl::string_view text;  // without the line end and surrounding whitespace
};

// Splits `contents` into lines, dropping a UTF-8 BOM, "\r" before "\n" and surrounding
// whitespace. A final line end does not start another line.
std::vector<Line> SplitLines(absl::string_view contents) {
  absl::ConsumePrefix(&contents, "\xEF\xBB\xBF");
  std::vector<Line> lines;
  int64_t number = 0;
  for (absl::string_view text : absl::StrSplit(contents, '\n')) {
    lines.push_back({++number, absl::StripAsciiWhitespace(text)});
  }
  if (!lines.empty() && lines.back().text.empty() && absl::EndsWith(contents, "\n")) {
    lines.pop_back();
  }
  return lines;
}

std::vector<absl::string_view> Tokens(absl::string_view text) {
  return absl::StrSplit(text, absl::ByAnyChar(" \t\r\v\f"), absl::SkipEmpty());
}

// A line quoted in a message: truncated, so a binary file does not flood the log.
std::string Quote(absl::string_view text) {
  constexpr size_t kMax = 80;
  if (text.size() <= kMax) return absl::StrCat("'", text, "'");
  return absl::StrCat("'", text.substr(0, kMax), "...'");
}

std::string Where(absl::string_view path, int64_t line) { return absl::StrCat(path, ":", line); }

bool AllDigits(absl::string_view token) {
  if (token.empty()) return false;
  for (char c : token) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::string_view Unquote(absl::string_view field) {
  field = absl::StripAsciiWhitespace(field);
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
    field = absl::StripAsciiWhitespace(field.substr(1, field.size() - 2));
  }
  return field;
}

// What a single line looks like, for detection and for messages about a format that does not
// fit. Returns kAuto if it looks like none of the formats.
LabelsFormat ClassifyLine(absl::string_view text) {
  if (absl::EqualsIgnoreCase(text, kKaggleHeader)) return LabelsFormat::kKaggleCsv;
  const std::vector<absl::string_view> tokens = Tokens(text);
  if (tokens.empty()) return LabelsFormat::kAuto;
  if (text.front() == '#' || tokens[0] == "mv" || tokens[0] == "mkdir") {
    return LabelsFormat::kValprepSh;
  }
  if (tokens.size() == 1 && IsWnid(tokens[0])) return LabelsFormat::kWnidLines;
  if (tokens.size() == 1 && AllDigits(tokens[0])) return LabelsFormat::kDevkit;
  return LabelsFormat::kAuto;
}

// Collects entries, checking names and duplicates as they come.
class Collector {
 public:
  Collector(absl::string_view path, GroundTruth* truth) : path_(path), truth_(truth) {}

  void Error(int64_t line, absl::string_view problem) {
    truth_->errors.push_back(absl::StrCat(Where(path_, line), ": ", problem));
  }
  void Warning(int64_t line, absl::string_view problem) {
    truth_->warnings.push_back(absl::StrCat(Where(path_, line), ": ", problem));
  }

  // `check_wnid_shape`: warn when the class name is not "n" + 8 digits (formats whose syntax
  // does not already demand it).
  void Add(int64_t line, std::string image, std::string wnid, bool check_wnid_shape) {
    bool ok = true;
    if (std::string why = UnsafeComponentReason(image); !why.empty()) {
      Error(line, absl::StrCat("image name ", Quote(image), " ", why,
                               "; it must be a plain file name inside the validation folder"));
      ok = false;
    }
    if (std::string why = UnsafeComponentReason(wnid); !why.empty()) {
      Error(line, absl::StrCat("class ", Quote(wnid), " ", why,
                               "; it must be a single folder name"));
      ok = false;
    } else if (wnid.front() == '.') {
      Error(line, absl::StrCat("class ", Quote(wnid), " would be a hidden folder"));
      ok = false;
    } else if (check_wnid_shape && !IsWnid(wnid)) {
      Warning(line, absl::StrCat("class ", Quote(wnid), " does not look like a WNID (n + 8 digits)"));
    }
    if (!ok) return;
    auto [it, inserted] = first_index_.try_emplace(image, truth_->images.size());
    if (!inserted) {
      const LabeledImage& first = truth_->images[it->second];
      if (first.wnid == wnid) {
        Warning(line, absl::StrCat(image, " is listed again (line ", first.line,
                                   ", same class ", wnid, "); counted once"));
      } else {
        Error(line, absl::StrCat(image, " is listed as ", wnid, " but line ", first.line,
                                 " lists it as ", first.wnid));
      }
      return;
    }
    truth_->images.push_back({std::move(image), std::move(wnid), line});
  }

 private:
  const absl::string_view path_;
  GroundTruth* const truth_;
  absl::flat_hash_map<std::string, size_t> first_index_;
};

void ParseKaggle(const std::vector<Line>& lines, Collector* out) {
  bool header_seen = false;
  for (const Line& line : lines) {
    if (line.text.empty()) continue;
    if (!header_seen) {
      header_seen = true;
      if (absl::EqualsIgnoreCase(line.text, kKaggleHeader)) continue;
      out->Error(line.number, absl::StrCat("expected the header '", kKaggleHeader, "', found ",
                                           Quote(line.text)));
      continue;
    }
    if (absl::EqualsIgnoreCase(line.text, kKaggleHeader)) {
      out->Error(line.number, "the header appears again");
      continue;
    }
    const size_t comma = line.text.find(',');
    if (comma == absl::string_view::npos) {
      out->Error(line.number, absl::StrCat("expected 'ImageId,PredictionString', found ",
                                           Quote(line.text)));
      continue;
    }
    const absl::string_view image_id = Unquote(line.text.substr(0, comma));
    const std::vector<absl::string_view> prediction = Tokens(Unquote(line.text.substr(comma + 1)));
    if (image_id.empty() || prediction.empty()) {
      out->Error(line.number, absl::StrCat(image_id.empty() ? "empty ImageId" : "empty PredictionString",
                                           " in ", Quote(line.text)));
      continue;
    }
    // The solution file's ImageIds have no extension; tolerate ones that do.
    std::string image = absl::EndsWith(image_id, ".JPEG") ? std::string(image_id)
                                                          : absl::StrCat(image_id, ".JPEG");
    out->Add(line.number, std::move(image), std::string(prediction[0]), /*check_wnid_shape=*/true);
  }
}

void ParseValprepSh(const std::vector<Line>& lines, Collector* out) {
  for (const Line& line : lines) {
    if (line.text.empty() || line.text.front() == '#') continue;
    const std::vector<absl::string_view> tokens = Tokens(line.text);
    if (tokens[0] == "mkdir") continue;
    if (tokens[0] != "mv" || tokens.size() != 3) {
      out->Error(line.number,
                 absl::StrCat("expected 'mv <image> <wnid>/', found ", Quote(line.text)));
      continue;
    }
    absl::string_view folder = tokens[2];
    absl::ConsumeSuffix(&folder, "/");
    out->Add(line.number, std::string(tokens[1]), std::string(folder), /*check_wnid_shape=*/true);
  }
}

// wnid_lines and devkit: line i names image i, so a blank line before the last entry would
// shift every later label; refuse it rather than guess.
template <typename ParseEntry>
void ParsePositional(const std::vector<Line>& lines, ParseEntry parse_entry, Collector* out) {
  size_t end = lines.size();
  while (end > 0 && lines[end - 1].text.empty()) --end;
  for (size_t i = 0; i < end; ++i) {
    const Line& line = lines[i];
    if (line.text.empty()) {
      out->Error(line.number, "blank line; line i must name image i, so no line may be skipped");
      continue;
    }
    parse_entry(line);
  }
}

void ParseWnidLines(const std::vector<Line>& lines, Collector* out) {
  ParsePositional(
      lines,
      [out](const Line& line) {
        const std::vector<absl::string_view> tokens = Tokens(line.text);
        if (tokens.size() != 1 || !IsWnid(tokens[0])) {
          out->Error(line.number, absl::StrCat("expected a single WNID (n + 8 digits), found ",
                                               Quote(line.text)));
          return;
        }
        out->Add(line.number, ValImageName(line.number), std::string(tokens[0]),
                 /*check_wnid_shape=*/false);
      },
      out);
}

void ParseDevkit(const std::vector<Line>& lines, const std::vector<std::string>& synsets,
                 Collector* out) {
  ParsePositional(
      lines,
      [out, &synsets](const Line& line) {
        int64_t id = 0;
        if (!AllDigits(line.text) || !absl::SimpleAtoi(line.text, &id)) {
          out->Error(line.number, absl::StrCat("expected an ILSVRC2012_ID (a positive integer), found ",
                                               Quote(line.text)));
          return;
        }
        if (id < 1 || id > static_cast<int64_t>(synsets.size())) {
          out->Error(line.number, absl::StrCat("ILSVRC2012_ID ", id, " is out of range: --synsets lists ",
                                               synsets.size(), " WNIDs (IDs 1..", synsets.size(), ")"));
          return;
        }
        out->Add(line.number, ValImageName(line.number), synsets[id - 1], /*check_wnid_shape=*/false);
      },
      out);
}

}  // namespace

absl::StatusOr<LabelsFormat> ParseLabelsFormat(absl::string_view name) {
  if (name == "auto") return LabelsFormat::kAuto;
  if (name == "kaggle_csv") return LabelsFormat::kKaggleCsv;
  if (name == "valprep_sh") return LabelsFormat::kValprepSh;
  if (name == "wnid_lines") return LabelsFormat::kWnidLines;
  if (name == "devkit") return LabelsFormat::kDevkit;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown labels format '", name, "': use auto, kaggle_csv, valprep_sh, wnid_lines or devkit"));
}

absl::string_view LabelsFormatName(LabelsFormat format) {
  switch (format) {
    case LabelsFormat::kAuto:
      return "auto";
    case LabelsFormat::kKaggleCsv:
      return "kaggle_csv";
    case LabelsFormat::kValprepSh:
      return "valprep_sh";
    case LabelsFormat::kWnidLines:
      return "wnid_lines";
    case LabelsFormat::kDevkit:
      return "devkit";
  }
  return "?";
}

std::string UnsafeComponentReason(absl::string_view name) {
  if (name.empty()) return "is empty";
  if (name == "." || name == "..") return "refers to a directory";
  if (name.front() == '/') return "is an absolute path";
  if (absl::StrContains(name, '/')) return "contains '/'";
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "contains a control character";
  }
  if (name.size() > kMaxNameBytes) return "is longer than 255 bytes";
  return "";
}

std::string ValImageName(int64_t number) {
  return absl::StrFormat("ILSVRC2012_val_%08d.JPEG", number);
}

absl::StatusOr<LabelsFormat> DetectLabelsFormat(absl::string_view contents,
                                                absl::string_view path) {
  for (const Line& line : SplitLines(contents)) {
    if (line.text.empty()) continue;
    const LabelsFormat format = ClassifyLine(line.text);
    if (format != LabelsFormat::kAuto) return format;
    return absl::InvalidArgumentError(absl::StrCat(
        Where(path, line.number), ": cannot tell the labels format from ", Quote(line.text),
        "; expected the Kaggle header '", kKaggleHeader,
        "', a valprep.sh line 'mv <image> <wnid>/', a WNID (n + 8 digits) or a devkit "
        "ILSVRC2012_ID (an integer); --labels_format names the format"));
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": the labels file is empty"));
}

GroundTruth ParseGroundTruth(absl::string_view contents, absl::string_view path,
                             LabelsFormat format, const std::vector<std::string>* synsets) {
  GroundTruth truth;
  truth.format = format;
  absl::StatusOr<LabelsFormat> detected = DetectLabelsFormat(contents, path);
  if (format == LabelsFormat::kAuto) {
    if (!detected.ok()) {
      truth.errors.push_back(std::string(detected.status().message()));
      return truth;
    }
    truth.format = *detected;
  } else if (detected.ok() && *detected != format) {
    truth.errors.push_back(absl::StrCat(path, ": --labels_format=", LabelsFormatName(format),
                                        " does not fit: the file looks like ",
                                        LabelsFormatName(*detected)));
    return truth;
  }
  const std::vector<Line> lines = SplitLines(contents);
  Collector collector(path, &truth);
  switch (truth.format) {
    case LabelsFormat::kKaggleCsv:
      ParseKaggle(lines, &collector);
      break;
    case LabelsFormat::kValprepSh:
      ParseValprepSh(lines, &collector);
      break;
    case LabelsFormat::kWnidLines:
      ParseWnidLines(lines, &collector);
      break;
    case LabelsFormat::kDevkit:
      if (synsets == nullptr) {
        truth.errors.push_back(absl::StrCat(
            path,
            ": a devkit ground truth (ILSVRC2012_validation_ground_truth.txt) holds "
            "ILSVRC2012_IDs, which need the devkit's ID->WNID table: pass --synsets=FILE whose "
            "k-th line is the WNID of ILSVRC2012_ID k (the order of the devkit's "
            "data/meta.mat, which is NOT sorted-WNID order; LOC_synset_mapping.txt is sorted "
            "and would mislabel every image)"));
        return truth;
      }
      ParseDevkit(lines, *synsets, &collector);
      break;
    case LabelsFormat::kAuto:
      break;
  }
  if (truth.images.empty() && truth.errors.empty()) {
    truth.errors.push_back(absl::StrCat(path, ": lists no image"));
  }
  return truth;
}

absl::StatusOr<std::vector<std::string>> ParseSynsets(absl::string_view contents,
                                                      absl::string_view path) {
  std::vector<std::string> wnids;
  absl::flat_hash_map<std::string, int64_t> line_of;
  for (const Line& line : SplitLines(contents)) {
    if (line.text.empty()) continue;
    std::string wnid;
    for (absl::string_view token : Tokens(line.text)) {
      if (IsWnid(token)) {
        wnid = std::string(token);
        break;
      }
    }
    if (wnid.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(path, line.number), ": no WNID (n + 8 digits) in ", Quote(line.text),
          "; each non-empty line of --synsets names the WNID of the next ILSVRC2012_ID"));
    }
    auto [it, inserted] = line_of.try_emplace(wnid, line.number);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(Where(path, line.number), ": ", wnid,
                                                     " already named on line ", it->second));
    }
    wnids.push_back(std::move(wnid));
  }
  if (wnids.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the synsets file names no WNID"));
  }
  return wnids;
}

}  // namespace valprep
}  // namespace forge
