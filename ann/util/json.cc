#include "ann/util/json.h"

#include <cmath>

#include "ann/util/atomic_file.h"

namespace ann {

Json JsonNumber(double value, int decimals) {
  if (!std::isfinite(value)) return nullptr;
  if (decimals >= 0) {
    const double scale = std::pow(10.0, decimals);
    value = std::nearbyint(value * scale) / scale;  // ties to even, as Python's round
  }
  return value;
}

std::string JsonLine(const Json& value) {
  if (value.is_object()) {
    std::string out = "{";
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (it != value.begin()) out += ", ";
      out += Json(it.key()).dump() + ": " + JsonLine(it.value());
    }
    return out + "}";
  }
  if (value.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < value.size(); ++i) {
      if (i > 0) out += ", ";
      out += JsonLine(value[i]);
    }
    return out + "]";
  }
  return value.dump();
}

std::optional<Json> ParseJson(const std::string& text) {
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

absl::Status WriteJsonFile(const std::string& path, const Json& value) {
  return WriteTextFile(path, value.dump(2) + "\n");
}

}  // namespace ann
