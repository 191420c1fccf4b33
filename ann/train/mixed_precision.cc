#include "ann/train/mixed_precision.h"

#include "ATen/autocast_mode.h"

namespace ann {
namespace {

// torch.autocast('cpu', dtype=torch.bfloat16) for one scope.
class Bf16Autocast {
 public:
  Bf16Autocast()
      : was_enabled_(at::autocast::is_cpu_enabled()),
        old_dtype_(at::autocast::get_autocast_cpu_dtype()) {
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~Bf16Autocast() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_cpu_enabled(was_enabled_);
    at::autocast::set_autocast_cpu_dtype(old_dtype_);
  }
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  bool was_enabled_;
  at::ScalarType old_dtype_;
};

}  // namespace

SegmentorOutputs TrainingForward(EncoderDecoder& model, const torch::Tensor& images,
                                 Precision precision) {
  if (precision == Precision::kFp64) return model->forward(images.to(torch::kDouble));
  if (precision == Precision::kFp32) return model->forward(images);
  SegmentorOutputs outputs;
  {
    Bf16Autocast autocast;
    // Channels-last images: oneDNN's convolutions then keep every activation (and its gradient)
    // channels-last from layer to layer. From NCHW, each bf16 convolution converted its input
    // and output layouts forward and backward (550 copies, a quarter of the step), and the R-50
    // step at batch 2 of 512x512 took 4.0 s instead of 2.3 (benchmarks/op_profile, Intel AMX).
    // The weights stay NCHW (checkpoints and the all-reduce are unchanged).
    outputs = model->forward(images.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  outputs.decode = outputs.decode.to(torch::kFloat);
  if (outputs.auxiliary.defined()) outputs.auxiliary = outputs.auxiliary.to(torch::kFloat);
  return outputs;
}

}  // namespace ann
