// The asymmetric self-attention block shared by AFNB and APNB, and its pyramid sampling.
//
// Keys and values are not taken at every position (as in a standard non-local block) but at
// S = sum(s^2) anchors obtained by adaptive average pooling of the key map to each scale s
// (default 1, 3, 6, 8 -> S = 110). Attention is then N x S instead of N x N.
//
//   SelfAttentionBlock sab(SelfAttentionOptions(/*key_in=*/1024, /*query_in=*/2048,
//                                               /*channels=*/256, /*out=*/2048));
//   torch::Tensor context = sab->forward(c5, c4);  // [B, 2048, h, w]
#ifndef ANN_MODEL_SELF_ATTENTION_H_
#define ANN_MODEL_SELF_ATTENTION_H_

#include <cstdint>
#include <vector>

#include "ann/model/conv_module.h"
#include "torch/torch.h"

namespace ann {

// Pyramid sampling (mmseg's PPMConcat): [B, C, H, W] -> [B, C, S], each scale's pooled map
// flattened row-major and concatenated in scale order. Adaptive bin i of s spans
// [floor(i*H/s), ceil((i+1)*H/s)), so bins may overlap.
torch::Tensor PyramidPooling(const torch::Tensor& x, const std::vector<int64_t>& scales);

// Number of anchors S produced by PyramidPooling for `scales`.
int64_t PyramidAnchorCount(const std::vector<int64_t>& scales);

// The attention of AFNB and APNB given its projections (query [B, C, h, w], key and value
// [B, C, h', w']): keys and values pyramid-pooled at `pool_scales` (every position when empty),
// softmax(query . key / sqrt(C)) in float32 also for bfloat16 inputs (as autocast does), times
// the values: [B, C, h, w], in channels-last memory when `channels_last` (a view of the product,
// no copy), else contiguous.
torch::Tensor PyramidAttention(const torch::Tensor& query_map, const torch::Tensor& key_map,
                               const torch::Tensor& value_map,
                               const std::vector<int64_t>& pool_scales, bool channels_last);

// Widths and pyramid scales of a self-attention block.
struct SelfAttentionOptions {
  SelfAttentionOptions(int64_t key_in_channels, int64_t query_in_channels, int64_t channels,
                       int64_t out_channels)
      : key_in_channels_(key_in_channels),
        query_in_channels_(query_in_channels),
        channels_(channels),
        out_channels_(out_channels) {}
  TORCH_ARG(int64_t, key_in_channels);
  TORCH_ARG(int64_t, query_in_channels);
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(int64_t, out_channels);
  // APNB computes key and query with one module (registered under both names).
  TORCH_ARG(bool, share_key_query) = false;
  TORCH_ARG(std::vector<int64_t>, pool_scales) = std::vector<int64_t>({1, 3, 6, 8});
  // The authors' key/query convs have a bias; mmseg's (followed by BN) do not.
  TORCH_ARG(bool, key_query_bias) = false;
};

// The asymmetric self-attention of AFNB and APNB (mmseg's mmseg/models/decode_heads/ann_head.py).
class SelfAttentionBlockImpl : public torch::nn::Module {
 public:
  explicit SelfAttentionBlockImpl(const SelfAttentionOptions& options);
  // query_feats: [B, Cq, h, w]; key_feats: [B, Ck, h', w']. Returns [B, out, h, w].
  torch::Tensor forward(const torch::Tensor& query_feats, const torch::Tensor& key_feats);

  // The attention before out_project (PyramidAttention of the projections): [B, channels, h, w],
  // in channels-last memory when `channels_last` (a view of the attention product, no copy),
  // else contiguous as forward() feeds it to out_project.
  torch::Tensor Attend(const torch::Tensor& query_feats, const torch::Tensor& key_feats,
                       bool channels_last = false);

  ConvModule key_project{nullptr};
  ConvModule query_project{nullptr};
  torch::nn::Conv2d value_project{nullptr};
  torch::nn::Conv2d out_project{nullptr};

  const SelfAttentionOptions& options() const { return options_; }

 private:
  SelfAttentionOptions options_;
};
TORCH_MODULE(SelfAttentionBlock);

}  // namespace ann

#endif  // ANN_MODEL_SELF_ATTENTION_H_
