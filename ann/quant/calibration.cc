#include "ann/quant/calibration.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ann/util/flags.h"
#include "ann/util/json.h"
#include "ann/util/status_macros.h"

namespace ann {

absl::StatusOr<Observer> ParseObserverFlag(const std::string& text) {
  return ParseEnumFlag<Observer>(
      "int8_observer", text,
      {{"minmax", Observer::kMinMax}, {"percentile", Observer::kPercentile}});
}

void Observe(const torch::Tensor& x, TensorRange& range) {
  torch::NoGradGuard no_grad;
  const torch::Tensor flat = x.detach().reshape({-1}).to(torch::kFloat);
  const double lo = flat.min().item<double>(), hi = flat.max().item<double>();
  // Quantiles of an evenly strided sample of at most 2^20 values (deterministic).
  const int64_t step = std::max<int64_t>(1, flat.numel() >> 20);
  const torch::Tensor sample = flat.slice(0, 0, flat.numel(), step).contiguous();
  const torch::Tensor q = torch::quantile(sample, torch::tensor({1e-4, 1 - 1e-4}));
  const double n = static_cast<double>(range.images);
  if (range.images == 0) {
    range.min = lo;
    range.max = hi;
  } else {
    range.min = std::min(range.min, lo);
    range.max = std::max(range.max, hi);
  }
  range.low = (range.low * n + q[0].item<double>()) / (n + 1);
  range.high = (range.high * n + q[1].item<double>()) / (n + 1);
  ++range.images;
}

std::pair<double, int64_t> ActivationQParams(const TensorRange& range, Observer observer) {
  double lo = observer == Observer::kMinMax ? range.min : range.low;
  double hi = observer == Observer::kMinMax ? range.max : range.high;
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  const double scale = hi > lo ? (hi - lo) / 255.0 : 1.0;
  const int64_t zero_point = std::clamp<int64_t>(std::llround(-lo / scale), 0, 255);
  return {scale, zero_point};
}

torch::Tensor QuantizeWeightPerChannel(const torch::Tensor& weight, int64_t max_code) {
  const torch::Tensor w = weight.detach().to(torch::kFloat).contiguous();
  torch::Tensor scale = w.abs().amax(std::vector<int64_t>{1, 2, 3}) / static_cast<double>(max_code);
  scale = torch::where(scale > 0, scale, torch::ones_like(scale)).to(torch::kDouble);
  return torch::quantize_per_channel(w, scale, torch::zeros({w.size(0)}, torch::kLong), 0,
                                     torch::kQInt8);
}

absl::StatusOr<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buffer.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx, digest, &length);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) absl::StrAppendFormat(&hex, "%02x", digest[i]);
  return hex;
}

absl::Status WriteCalibration(const std::string& path, const Calibration& calibration) {
  Json json = Json::object();
  json["format"] = "ann int8 calibration 1";
  json["checkpoint_sha256"] = calibration.checkpoint_sha256;
  json["images"] = calibration.images;
  Json ranges = Json::object();
  for (const auto& [name, r] : calibration.ranges) {
    ranges[name] = {{"min", r.min}, {"max", r.max}, {"low", r.low}, {"high", r.high}};
  }
  json["ranges"] = ranges;
  return WriteJsonFile(path, json);
}

absl::StatusOr<Calibration> ReadCalibration(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open calibration file"));
  std::stringstream text;
  text << in.rdbuf();
  std::optional<Json> json = ParseJson(text.str());
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not an int8 calibration file of ann_test --calibrate (", what, ")"));
  };
  if (!json || !json->is_object() || !json->contains("format") ||
      (*json)["format"] != "ann int8 calibration 1") {
    return bad("no format line");
  }
  Calibration c;
  try {
    c.checkpoint_sha256 = (*json)["checkpoint_sha256"].get<std::string>();
    c.images = (*json)["images"].get<int64_t>();
    for (const auto& [name, r] : (*json)["ranges"].items()) {
      TensorRange range;
      range.min = r["min"].get<double>();
      range.max = r["max"].get<double>();
      range.low = r["low"].get<double>();
      range.high = r["high"].get<double>();
      range.images = c.images;
      if (!(range.max >= range.min) || !std::isfinite(range.min) || !std::isfinite(range.max)) {
        return bad(absl::StrCat("range of ", name));
      }
      c.ranges[name] = range;
    }
  } catch (const std::exception&) {
    return bad("missing or mistyped fields");
  }
  if (c.ranges.empty() || c.checkpoint_sha256.size() != 64) return bad("no ranges");
  return c;
}

absl::Status CheckCalibrationFor(const Calibration& calibration,
                                 const std::string& calibration_path,
                                 const std::string& checkpoint_path) {
  ANN_ASSIGN_OR_RETURN(const std::string sha, FileSha256(checkpoint_path));
  if (sha == calibration.checkpoint_sha256) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(calibration_path, ": made for another checkpoint (SHA-256 ",
                   calibration.checkpoint_sha256.substr(0, 12), "..., not ", checkpoint_path, "'s ",
                   sha.substr(0, 12), "...); calibrate again with ann_test --calibrate"));
}

}  // namespace ann
