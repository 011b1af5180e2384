// The output lines of `predict`: one per image, as text (for people and `cut`) or as a JSON
// object (for programs), an unreadable image's line carrying its error instead of classes.
//
//   std::cout << PredictionLine("a.jpg", answer, predictor->classes(), OutputFormat::kJsonLines);
//   // {"image":"a.jpg","top":[{"index":3,"wnid":"n01443537","name":"goldfish","probability":0.91}]}
#ifndef FORGE_TOOLS_PREDICT_LINES_H_
#define FORGE_TOOLS_PREDICT_LINES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/engine/predictor.h"

namespace forge {

enum class OutputFormat { kText, kJsonLines };

// Parses "text" or "jsonl" (the --format flag); InvalidArgument otherwise.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name);

// One line, ending in "\n", for the image at `path`:
// - text: the path, then per class a TAB and "<wnid> <name> <probability>" (4 decimals), most
//   probable first; or a TAB and "error: <message>". Tabs and line breaks inside the path, the
//   names and the message become spaces, so a line is always one record of TAB-separated fields.
// - jsonl: {"image": path, "top": [{"index", "wnid", "name", "probability"}, ...]} or
//   {"image": path, "error": message}; probabilities to float precision (9 digits; null when
//   not finite), strings escaped as JSON requires (bytes that are not UTF-8 become U+FFFD).
// Class indices in `answer` must be within `classes`.
std::string PredictionLine(absl::string_view path, const absl::StatusOr<TopK>& answer,
                           const std::vector<ClassLabel>& classes, OutputFormat format);

}  // namespace forge

#endif  // FORGE_TOOLS_PREDICT_LINES_H_
