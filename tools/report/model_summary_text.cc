#include "tools/report/model_summary_text.h"

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/report/format.h"

namespace forge {
namespace {

std::string Shape(const google::protobuf::RepeatedField<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

std::string Pad(const std::string& text, int width, bool right) {
  const std::string padding(std::max(0, width - Utf8Length(text)), ' ');
  return right ? padding + text : text + padding;
}

}  // namespace

int64_t TotalParameters(const ModelSummary& summary) {
  if (summary.total_parameters() > 0) return summary.total_parameters();
  int64_t total = 0;
  for (const LayerSummary& layer : summary.layers()) total += layer.parameters();
  return total;
}

std::string ModelSummaryText(const ModelSummary& summary) {
  std::vector<std::array<std::string, 4>> rows;
  rows.push_back({"Layer", "Type", "Output shape", "Param #"});
  for (const LayerSummary& layer : summary.layers()) {
    const size_t dot = layer.name().rfind('.');
    const std::string leaf = dot == std::string::npos ? layer.name() : layer.name().substr(dot + 1);
    rows.push_back({std::string(2 * std::max(0, layer.depth()), ' ') + leaf, layer.type(),
                    Shape(layer.output_shape()),
                    layer.parameters() > 0 ? FormatThousands(layer.parameters()) : "--"});
  }
  std::array<int, 4> widths{};
  for (const auto& row : rows) {
    for (int i = 0; i < 4; ++i) widths[i] = std::max(widths[i], Utf8Length(row[i]));
  }
  const int total_width = widths[0] + widths[1] + widths[2] + widths[3] + 3 * 3;
  const std::string rule = std::string(total_width, '=') + "\n";
  std::string out;
  if (!summary.model().empty()) absl::StrAppend(&out, "Model: ", summary.model(), "\n");
  if (summary.input_shape_size() > 0) absl::StrAppend(&out, "Input shape: ", Shape(summary.input_shape()), "\n");
  out += rule;
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    std::string line = absl::StrCat(Pad(row[0], widths[0], false), "   ", Pad(row[1], widths[1], false),
                                     "   ", Pad(row[2], widths[2], false), "   ",
                                     Pad(row[3], widths[3], true));
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
    if (r == 0) out += rule;
  }
  out += rule;
  const int64_t total = TotalParameters(summary);
  const int64_t trainable = summary.trainable_parameters() > 0 ? summary.trainable_parameters() : total;
  absl::StrAppend(&out, "Total params: ", FormatThousands(total), "\n");
  absl::StrAppend(&out, "Trainable params: ", FormatThousands(trainable), "\n");
  absl::StrAppend(&out, "Non-trainable params: ", FormatThousands(total - trainable), "\n");
  out += rule;
  return out;
}

}  // namespace forge
