// The backends a Predictor runs, chosen by --precision, and the one load sequence of the tools
// that predict (ann_test, ann_eval, ann_submit; ann_export loads the same way):
//
//   SetUpRuntimeFromFlags();
//   ANN_ASSIGN_OR_RETURN(Predictor predictor,
//                        LoadPredictor(config.model, config.data.normalize, config.test, path));
//
// The model's tensors are only read by a backend (an executor copies what its graph rewrites), so
// one loaded model serves every precision, in any order, from its float32 master weights.
#ifndef ANN_EVAL_BACKEND_H_
#define ANN_EVAL_BACKEND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ann/eval/predictor.h"
#include "ann/eval/test_config.h"
#include "ann/io/checkpoint.h"
#include "ann/model/segmentor.h"

namespace ann {

// The model's own forward, mmseg's eager arithmetic (--precision=exact): `model` is put in eval
// mode (it is shared: a caller that trains it sets train mode again).
Forward ExactForward(EncoderDecoder model);

// The forward `test.precision` asks for over a loaded `model`: ExactForward; its inference graph
// (ann/inference/inference_form.h) through oneDNN in fp32 or bf16 (DnnlExecutor); or the graph
// quantized with test.calibration (Int8Executor). Throws (one line naming the node) where a
// backend cannot run the graph.
Forward MakeForward(EncoderDecoder model, const TestConfig& test);

// The model of `model_config` loaded strictly from `checkpoint_path`, after an int8
// calibration made for another checkpoint is refused (CheckCalibrationForCheckpoint). `report`,
// when given, receives what the load matched.
absl::StatusOr<EncoderDecoder> LoadEvalModel(const ModelConfig& model_config,
                                             const TestConfig& test,
                                             const std::string& checkpoint_path,
                                             LoadReport* report = nullptr);

// LoadEvalModel, then a Predictor running MakeForward in the test mode on images normalised
// with `normalize`.
absl::StatusOr<Predictor> LoadPredictor(const ModelConfig& model_config,
                                        const NormalizeParams& normalize, const TestConfig& test,
                                        const std::string& checkpoint_path,
                                        LoadReport* report = nullptr);

// int8 calibration (ann_test --calibrate=FILE) in the configured test mode: every pass of each of
// `images` through the float graph's observing forward, written to `out_path` with the SHA-256
// of `checkpoint_path` (ann/quant/calibrate.h).
absl::Status CalibrateImages(EncoderDecoder model, const NormalizeParams& normalize,
                             const TestConfig& test, const std::vector<std::string>& images,
                             const std::string& checkpoint_path, const std::string& out_path);

}  // namespace ann

#endif  // ANN_EVAL_BACKEND_H_
