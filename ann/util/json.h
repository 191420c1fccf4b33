// JSON, written and read through nlohmann-json only, with one NaN policy: JSON has no NaN or
// infinity, so a non-finite number (an undefined metric, such as the IoU of a class absent from
// both prediction and ground truth) is written as null. Every file we write parses with a
// strict parser; objects keep their insertion order (mmcv's log layout is ordered).
//
//   Json line = Json::object();
//   line["mode"] = "train";
//   line["loss"] = JsonNumber(loss, 5);
//   out << JsonLine(line) << "\n";        // {"mode": "train", "loss": 0.12345}
#ifndef ANN_UTIL_JSON_H_
#define ANN_UTIL_JSON_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace ann {

using Json = nlohmann::ordered_json;

// `value` as a JSON number, or null when it is NaN or infinite. With `decimals` >= 0 it is
// rounded first, as Python's round(value, decimals) (mmcv rounds log values to 5 decimals).
Json JsonNumber(double value, int decimals = -1);

// One line of text in Python's json.dumps layout ({"a": 1, "b": [1, 2]}): what mmcv's loggers
// write and its tools read line by line.
std::string JsonLine(const Json& value);

// Parses `text`; nullopt when it is not valid JSON.
std::optional<Json> ParseJson(const std::string& text);

// Writes `value` (indented, newline-terminated) to `path` atomically.
absl::Status WriteJsonFile(const std::string& path, const Json& value);

}  // namespace ann

#endif  // ANN_UTIL_JSON_H_
