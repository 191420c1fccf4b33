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
                                 TrainConfig::Precision precision) {
  if (precision == TrainConfig::Precision::kFp64) return model->forward(images.to(torch::kDouble));
  if (precision == TrainConfig::Precision::kFp32) return model->forward(images);
  SegmentorOutputs outputs;
  {
    Bf16Autocast autocast;
    outputs = model->forward(images);
  }
  outputs.decode = outputs.decode.to(torch::kFloat);
  if (outputs.auxiliary.defined()) outputs.auxiliary = outputs.auxiliary.to(torch::kFloat);
  return outputs;
}

}  // namespace ann
