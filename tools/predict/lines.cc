#include "tools/predict/lines.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/io/json_string.h"

namespace forge {
namespace {

// `text` with tabs and line breaks as spaces: one field of a text line.
std::string Field(absl::string_view text) {
  std::string field(text);
  for (char& c : field) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return field;
}

// JSON has no NaN or infinity (a diverged model's outputs): those become null.
std::string JsonNumber(float value) {
  return std::isfinite(value) ? absl::StrFormat("%.9g", value) : "null";
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name) {
  if (name == "text") return OutputFormat::kText;
  if (name == "jsonl") return OutputFormat::kJsonLines;
  return absl::InvalidArgumentError(absl::StrCat("--format=", name, " is neither 'text' nor 'jsonl'"));
}

std::string PredictionLine(absl::string_view path, const absl::StatusOr<TopK>& answer,
                           const std::vector<ClassLabel>& classes, OutputFormat format) {
  if (format == OutputFormat::kText) {
    std::string line = Field(path);
    if (!answer.ok()) {
      absl::StrAppend(&line, "\terror: ", Field(answer.status().message()));
    } else {
      for (size_t j = 0; j < answer->classes.size(); ++j) {
        const ClassLabel& label = classes[answer->classes[j]];
        absl::StrAppend(&line, "\t", Field(label.wnid), " ", Field(label.name), " ",
                        absl::StrFormat("%.4f", answer->probabilities[j]));
      }
    }
    return line + "\n";
  }
  std::string line = absl::StrCat("{\"image\":", JsonString(path));
  if (!answer.ok()) {
    absl::StrAppend(&line, ",\"error\":", JsonString(answer.status().message()), "}\n");
    return line;
  }
  absl::StrAppend(&line, ",\"top\":[");
  for (size_t j = 0; j < answer->classes.size(); ++j) {
    const int index = answer->classes[j];
    absl::StrAppend(&line, j > 0 ? "," : "", "{\"index\":", index, ",\"wnid\":", JsonString(classes[index].wnid),
                    ",\"name\":", JsonString(classes[index].name), ",\"probability\":",
                    JsonNumber(answer->probabilities[j]), "}");
  }
  return line + "]}\n";
}

}  // namespace forge
