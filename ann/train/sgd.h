// SGD with momentum and weight decay, PyTorch's torch.optim.SGD update (dampening 0, no
// Nesterov): d = g + wd * p; buf = d on the first step, else momentum * buf + d; p -= lr * buf.
// Shared parameters (AFNB's key/query) are updated once. Its state (the momentum buffers) goes
// into checkpoints in torch.optim.SGD.state_dict()'s layout, so a resumed run continues exactly.
#ifndef ANN_TRAIN_SGD_H_
#define ANN_TRAIN_SGD_H_

#include <vector>

#include "absl/status/status.h"
#include "ann/io/pickle.h"
#include "torch/torch.h"

namespace ann {

// Parameters of `module` in registration order, each distinct tensor once.
std::vector<torch::Tensor> UniqueParameters(const torch::nn::Module& module);

// torch.optim.SGD's update (momentum, weight decay) on the model's unique parameters, with its
// state_dict layout for checkpoints.
class Sgd {
 public:
  Sgd(std::vector<torch::Tensor> params, double momentum, double weight_decay);

  void ZeroGrad();
  void Step(double lr);

  // {'state': {i: {'momentum_buffer': t}}, 'param_groups': [{'lr', 'momentum', 'dampening',
  // 'weight_decay', 'nesterov', 'params': [0..n-1]}]}
  PickleValuePtr StateDict(double lr) const;
  // Restores the momentum buffers; the parameter count and shapes must match.
  absl::Status LoadStateDict(const PickleValue& state);

  const std::vector<torch::Tensor>& params() const { return params_; }
  const std::vector<torch::Tensor>& buffers() const { return buffers_; }
  // Makes buffer i a zero tensor where defined[i], undefined elsewhere (to receive another
  // process's state in place).
  void ResetBuffers(const std::vector<bool>& defined);

 private:
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> buffers_;  // Undefined until a parameter's first step.
  double momentum_;
  double weight_decay_;
};

}  // namespace ann

#endif  // ANN_TRAIN_SGD_H_
