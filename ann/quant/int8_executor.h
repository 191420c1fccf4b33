// int8 inference of the segmentor: post-training static quantization of its inference graph
// (ann/inference/inference_form.h: BatchNorm folded, the AFNB / APNB bottleneck fused with the
// attention's output projection, AFNB's composed into the head's 3x3 bottleneck, residual sums
// and ReLUs inside the convolutions), executed through oneDNN directly (Int8Conv):
//  - every convolution of the backbone and the head runs in int8, weights per output channel
//    (symmetric), activations per tensor (uint8, from calibration), ReLU fused into it;
//  - each residual block's sum and ReLU run inside its last convolution; the stem's max pooling
//    on uint8;
//  - kept in float: the attention (pyramid pooling, the key/query product, softmax, the value
//    product: they quantize badly and cost little; its key, query and value projections are
//    int8 convolutions with float outputs; in bfloat16, softmax in float32, where the CPU has
//    AVX512-BF16 or AMX), the composed bottleneck's border bias, the classifier and the
//    logits' resize.
// Every quantized tensor is named in the calibration file by what produces it (CalibrationName).
//
//   Int8Executor engine(InferenceGraph(*model));
//   for (x : calibration inputs) engine.Observe(x);
//   WriteCalibration(path, engine.calibration());
//   engine.Quantize(calibration, Observer::kMinMax);
//   torch::Tensor logits = engine.Predict(x);    // as EncoderDecoder::Predict
#ifndef ANN_QUANT_INT8_EXECUTOR_H_
#define ANN_QUANT_INT8_EXECUTOR_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ann/inference/compose_bottleneck.h"
#include "ann/inference/graph.h"
#include "ann/quant/calibration.h"
#include "ann/quant/int8_conv.h"
#include "torch/torch.h"

namespace ann {

class Int8Executor {
 public:
  // `graph`: an inference graph (InferenceGraph). Throws (one line naming the node) on a node the
  // int8 forward cannot run.
  explicit Int8Executor(Graph graph);
  ~Int8Executor();

  // The float32 forward (as --precision=fp32 up to its operation order), recording the range of
  // every tensor the int8 forward quantizes: one calibration image.
  torch::Tensor Observe(const torch::Tensor& input);
  // What Observe saw so far (checkpoint_sha256 left for the caller).
  const Calibration& calibration() const { return observed_; }

  // Prepares the int8 forward: weights quantized and packed, activation parameters from
  // `calibration` under `observer`. Throws (one line) if the calibration lacks a tensor.
  void Quantize(const Calibration& calibration, Observer observer);

  // Logits [N, K, H, W] float32 at the input's size, in int8 (after Quantize). Thread-safe.
  torch::Tensor Predict(const torch::Tensor& input) const;

  // How each convolution runs.
  enum class Role {
    kOther,       // not a convolution
    kClassifier,  // read by the resize: float, through LibTorch
    kProjection,  // read by attention nodes only: int8 with a float output
    kComposed,    // several inputs and a border bias: a sum of int8 convolutions (ComposedChunks),
                  // the border bias and ReLU in float, the result quantized
    kJoined,      // several inputs: their requantized concatenation, then one int8 convolution
    kQuantized,   // one input: int8 in (plus a residual), int8 out
  };
  // The int8 forward step by step, for writers of the same computation (the QDQ ONNX export):
  // the graph, each node's role, and after Quantize the quantization of the input, of each
  // node's output (kComposed, kJoined, kQuantized, attention nodes; max pooling keeps its
  // input's) and of a kJoined node's concatenation.
  const Graph& graph() const { return graph_; }
  Role role(int node) const { return steps_[node].role; }
  const QParams& input_quantization() const { return input_; }
  const QParams& output_quantization(int node) const { return steps_[node].out; }
  const QParams& concat_quantization(int node) const { return steps_[node].cat; }

 private:
  class Walk;
  struct Chunk {
    ConvChunk part;
    torch::Tensor weight, bias;  // float32
    std::shared_ptr<Int8Conv> conv;
  };
  struct Step {
    Role role = Role::kOther;
    std::string name;      // in the calibration (CalibrationName); kJoined: its concatenation's
    std::string cat_name;  // kJoined
    torch::Tensor weight, bias;  // float32 (channels-last as the module's parameters)
    std::vector<Chunk> chunks;   // kComposed
    std::shared_ptr<Int8Conv> conv;
    QParams out, cat;  // after Quantize
  };

  Graph graph_;
  std::vector<Step> steps_;
  std::vector<int> last_use_;
  Calibration observed_;
  std::mutex observe_mutex_;
  bool quantized_ = false;
  QParams input_;
};

// The name under which a node's output is quantized: its module path as the calibration files
// written since ann 0.1 name it ("backbone.stem.2" for the second stem conv, counted without its
// BatchNorms; a downsample by its Sequential; a ConvModule without ".conv"; an attention stage
// "<block>.attention").
std::string CalibrationName(const std::string& node_name);

}  // namespace ann

#endif  // ANN_QUANT_INT8_EXECUTOR_H_
