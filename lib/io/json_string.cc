#include "lib/io/json_string.h"

#include <nlohmann/json.hpp>

namespace forge {

std::string JsonString(absl::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

}  // namespace forge
