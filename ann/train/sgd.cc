#include "ann/train/sgd.h"

#include <unordered_set>

#include "absl/strings/str_cat.h"

namespace ann {

std::vector<torch::Tensor> UniqueParameters(const torch::nn::Module& module) {
  std::vector<torch::Tensor> params;
  std::unordered_set<const void*> seen;
  for (const torch::Tensor& p : module.parameters(/*recurse=*/true)) {
    if (seen.insert(p.unsafeGetTensorImpl()).second) params.push_back(p);
  }
  return params;
}

Sgd::Sgd(std::vector<torch::Tensor> params, double momentum, double weight_decay)
    : params_(std::move(params)),
      buffers_(params_.size()),
      momentum_(momentum),
      weight_decay_(weight_decay) {}

void Sgd::ZeroGrad() {
  for (torch::Tensor& p : params_) {
    if (p.grad().defined()) {
      p.mutable_grad().detach_();
      p.mutable_grad().zero_();
    }
  }
}

void Sgd::Step(double lr) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i];
    if (!p.grad().defined()) continue;
    torch::Tensor d = p.grad();
    if (weight_decay_ != 0) d = d.add(p, weight_decay_);
    if (momentum_ != 0) {
      if (!buffers_[i].defined()) {
        buffers_[i] = d.clone().detach();
      } else {
        buffers_[i].mul_(momentum_).add_(d);
      }
      d = buffers_[i];
    }
    p.add_(d, -lr);
  }
}

void Sgd::ResetBuffers(const std::vector<bool>& defined) {
  for (size_t i = 0; i < buffers_.size(); ++i) {
    buffers_[i] = defined[i] ? torch::zeros_like(params_[i]).detach() : torch::Tensor();
  }
}

PickleValuePtr Sgd::StateDict(double lr) const {
  auto state = PickleValue::Dict();
  for (size_t i = 0; i < buffers_.size(); ++i) {
    if (!buffers_[i].defined()) continue;
    auto entry = PickleValue::Dict();
    entry->Set("momentum_buffer", PickleValue::Tensor(buffers_[i]));
    state->entries.emplace_back(PickleValue::Int(static_cast<int64_t>(i)), entry);
  }
  auto group = PickleValue::Dict();
  group->Set("lr", PickleValue::Float(lr));
  group->Set("momentum", PickleValue::Float(momentum_));
  group->Set("dampening", PickleValue::Int(0));
  group->Set("weight_decay", PickleValue::Float(weight_decay_));
  group->Set("nesterov", PickleValue::Bool(false));
  std::vector<PickleValuePtr> ids;
  for (size_t i = 0; i < params_.size(); ++i)
    ids.push_back(PickleValue::Int(static_cast<int64_t>(i)));
  group->Set("params", PickleValue::List(std::move(ids)));
  auto root = PickleValue::Dict();
  root->Set("state", state);
  root->Set("param_groups", PickleValue::List({group}));
  return root;
}

absl::Status Sgd::LoadStateDict(const PickleValue& root) {
  PickleValuePtr state = root.Get("state");
  if (!state || state->kind != PickleValue::Kind::kDict) {
    return absl::InvalidArgumentError("optimizer state has no 'state' dict");
  }
  std::vector<torch::Tensor> buffers(params_.size());
  for (const auto& [key, value] : state->entries) {
    if (key->kind != PickleValue::Kind::kInt || key->integer < 0 ||
        key->integer >= static_cast<int64_t>(params_.size())) {
      return absl::InvalidArgumentError("optimizer state refers to an unknown parameter");
    }
    PickleValuePtr buffer = value->Get("momentum_buffer");
    if (!buffer || buffer->kind != PickleValue::Kind::kTensor) continue;
    const torch::Tensor& p = params_[key->integer];
    if (buffer->tensor.sizes() != p.sizes()) {
      return absl::InvalidArgumentError(
          absl::StrCat("optimizer momentum of parameter ", key->integer, " has the wrong shape"));
    }
    buffers[key->integer] = buffer->tensor.to(p.dtype()).contiguous().clone();
  }
  buffers_ = std::move(buffers);
  return absl::OkStatus();
}

}  // namespace ann
