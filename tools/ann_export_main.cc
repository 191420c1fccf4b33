// ann_export: a checkpoint as an ONNX file for other runtimes (ONNX Runtime, TensorRT, OpenVINO,
// mmdeploy's SDK): static (--input=WIDTHxHEIGHT) or dynamic (--dynamic: any batch, height and
// width) shapes, logits at the input size and optionally argmax labels; the preprocessing in the
// file's metadata (ann/export/onnx_export.h). With --precision=int8 --calibration=FILE the file is
// int8 in the QDQ form, with the calibration's scales.
#include <cstdio>
#include <string>

#include "ann/config/config.h"
#include "ann/eval/backend.h"
#include "ann/export/onnx_export.h"
#include "ann/util/flags.h"
#include "ann/util/runtime.h"
#include "gflags/gflags.h"

DEFINE_string(checkpoint, "", "Model checkpoint (.pth), zip or legacy torch.save format.");
DEFINE_string(out, "", "The ONNX file to write (.onnx).");
DEFINE_string(input, "512x512", "Static files: the input's WIDTHxHEIGHT.");
DEFINE_int32(batch, 1, "Static files: the input's batch size.");
DEFINE_bool(dynamic, false, "One file for any batch size, height and width.");
DEFINE_bool(with_argmax, false, "Also output the labels [N, H, W] (int64), as mmdeploy does.");

namespace ann {
namespace {

const ToolInfo kTool = {
    "ann_export", "exports a checkpoint as an ONNX file (static or dynamic shapes)",
    "--config=FLAGS --checkpoint=PTH --out=MODEL.onnx (--input=WIDTHxHEIGHT [--batch=N] | "
    "--dynamic) [--with_argmax] [--precision=int8 --calibration=FILE]",
    "ann_export --config=configs/ann_r50-d8_512x1024_40k_cityscapes.flags --checkpoint=r50.pth "
    "--out=ann_r50.onnx --dynamic"};

absl::Status Run() {
  ANN_ASSIGN_OR_RETURN(Config config, LoadConfig<kModelPart | kDataPart | kTestPart>());
  if (FLAGS_checkpoint.empty()) return absl::InvalidArgumentError("--checkpoint is required");
  if (FLAGS_out.empty()) return absl::InvalidArgumentError("--out is required");
  for (const char* fixed : {"input", "batch"}) {
    if (FLAGS_dynamic && !gflags::GetCommandLineFlagInfoOrDie(fixed).is_default) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", fixed, ": a --dynamic file takes any size; give --", fixed, " or --dynamic"));
    }
  }
  OnnxExportOptions options;
  options.dynamic = FLAGS_dynamic;
  options.with_argmax = FLAGS_with_argmax;
  ANN_ASSIGN_OR_RETURN(options.input, ParseSizeFlag("input", FLAGS_input));
  if (FLAGS_batch < 1) return absl::InvalidArgumentError("--batch: must be >= 1");
  options.batch = FLAGS_batch;
  if (config.test.precision == Precision::kInt8) {
    options.calibration = config.test.calibration;
    options.observer = config.test.observer;  // the head was checked by LoadConfig
  } else if (config.test.precision && *config.test.precision != Precision::kFp32) {
    return absl::InvalidArgumentError(
        "--precision: ann_export writes fp32 files (exact or fp32: the same file) or int8 QDQ "
        "files (int8 with --calibration)");
  }
  SetUpRuntimeFromFlags();
  ANN_ASSIGN_OR_RETURN(EncoderDecoder model,
                       LoadEvalModel(config.model, config.test, FLAGS_checkpoint));
  ANN_ASSIGN_OR_RETURN(const std::string summary, ExportOnnx(model, config, options, FLAGS_out));
  std::printf("%s\n", summary.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace ann

int main(int argc, char** argv) { return ann::RunConfigTool(argc, argv, ann::kTool, ann::Run); }
