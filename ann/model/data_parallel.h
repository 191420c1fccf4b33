// The model's part of data-parallel training, so that N processes of batch b train exactly like
// one process of batch N*b:
//  - SyncBatchNorm (mmseg's norm_cfg=dict(type='SyncBN'), PyTorch's nn.SyncBatchNorm): BatchNorm
//    whose training-mode statistics are those of the batches of all ranks. Forward all-gathers
//    each rank's per-channel (mean, sum of squared deviations, count) and combines them (Chan et
//    al.'s parallel variance); backward all-reduces sum(dy) and sum(dy * (x - mean)) as
//    PyTorch's SyncBatchNorm does. Running statistics follow the global batch (unbiased
//    variance). Without a group, in eval mode or with one rank it is torch's BatchNorm2d.
//  - BatchDropout2d: torch's Dropout2d, except that every rank draws the channel mask of the
//    whole global batch [N*b, C] from the (identically seeded) default generator and keeps its
//    own rows, so each image gets the mask it would get in the single big batch.
// Both keep torch's parameter and buffer names (weight, bias, running_mean, running_var,
// num_batches_tracked), so checkpoints map as for torch's modules; BatchDropout2d derives from
// Dropout2dImpl.
#ifndef ANN_MODEL_DATA_PARALLEL_H_
#define ANN_MODEL_DATA_PARALLEL_H_

#include <stdexcept>

#include "torch/torch.h"

namespace ann {

// The collectives SyncBatchNorm needs (ann/train/distributed implements them over c10d Gloo).
// Both throw CollectiveError when a peer died or did not answer in time.
class BatchGroup {
 public:
  virtual ~BatchGroup() = default;
  virtual int world_size() const = 0;
  // Every rank's 1-d `local` (same size and dtype everywhere), as rows of [world_size, n].
  virtual torch::Tensor AllGather(const torch::Tensor& local) = 0;
  // The sum over ranks of `local` (same shape and dtype everywhere).
  virtual torch::Tensor AllReduceSum(const torch::Tensor& local) = 0;
};

// A collective failed (the group keeps the full status); thrown through forward / backward.
class CollectiveError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// torch's BatchNorm2d (same parameters, buffers, names and arithmetic: torch::batch_norm),
// synchronised over `group` in training mode (see the file comment).
class SyncBatchNormImpl : public torch::nn::Cloneable<SyncBatchNormImpl> {
 public:
  explicit SyncBatchNormImpl(int64_t num_features)
      : SyncBatchNormImpl(torch::nn::BatchNormOptions(num_features)) {}
  explicit SyncBatchNormImpl(const torch::nn::BatchNormOptions& options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x);
  // nullptr (the default): plain BatchNorm2d.
  void set_group(BatchGroup* group) { group_ = group; }

  torch::nn::BatchNormOptions options;
  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  BatchGroup* group_ = nullptr;
};
TORCH_MODULE(SyncBatchNorm);

// torch's Dropout2d with the mask of the global batch (see the file comment).
class BatchDropout2dImpl : public torch::nn::Dropout2dImpl {
 public:
  using torch::nn::Dropout2dImpl::Dropout2dImpl;
  torch::Tensor forward(const torch::Tensor& x);
  // This process holds rows [rank * b, (rank + 1) * b) of a global batch of world_size * b.
  void set_slice(int rank, int world_size) {
    rank_ = rank;
    world_size_ = world_size;
  }

 private:
  int rank_ = 0, world_size_ = 1;
};
TORCH_MODULE(BatchDropout2d);

// Installs `group` in every SyncBatchNorm of `module` (nullptr: plain BN) and this process's
// slice of the global batch in every BatchDropout2d.
void SetDataParallel(torch::nn::Module& module, BatchGroup* group, int rank, int world_size);

}  // namespace ann

#endif  // ANN_MODEL_DATA_PARALLEL_H_
