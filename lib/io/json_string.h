// A string as a JSON string literal, for tools that write JSON lines or answers by hand around
// a few values: escaped by nlohmann-json (Debian's nlohmann-json3-dev), as JSON requires.
#ifndef FORGE_LIB_IO_JSON_STRING_H_
#define FORGE_LIB_IO_JSON_STRING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace forge {

// `text` as a JSON string literal, quotes included: ", \ and control characters escaped; bytes
// that are not UTF-8 (say, in a file name) replaced by U+FFFD, so the result is always valid JSON.
std::string JsonString(absl::string_view text);

}  // namespace forge

#endif  // FORGE_LIB_IO_JSON_STRING_H_
