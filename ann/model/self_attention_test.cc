#include "ann/model/self_attention.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

// Adaptive average of x[c] over bin (i, j) of an s x s grid, from the bin definition in spec
// §1: bin i of s spans [floor(i*H/s), ceil((i+1)*H/s)).
double AdaptiveBinMean(const torch::Tensor& x, int64_t b, int64_t c, int64_t s, int64_t i,
                       int64_t j) {
  const int64_t h = x.size(2), w = x.size(3);
  const int64_t y0 = (i * h) / s, y1 = ((i + 1) * h + s - 1) / s;
  const int64_t x0 = (j * w) / s, x1 = ((j + 1) * w + s - 1) / s;
  auto a = x.accessor<double, 4>();
  double sum = 0;
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t xx = x0; xx < x1; ++xx) sum += a[b][c][y][xx];
  return sum / static_cast<double>((y1 - y0) * (x1 - x0));
}

TEST(PyramidPoolingTest, HandComputedOverlappingBins) {
  // 5x5 map of 0..24: at scale 3 the row/column bins are {0,1}, {1,2,3}, {3,4}.
  torch::Tensor x = torch::arange(25, torch::kFloat64).reshape({1, 1, 5, 5});
  torch::Tensor out = PyramidPooling(x, {1, 3});
  ASSERT_EQ(out.sizes(), torch::IntArrayRef({1, 1, 10}));
  auto o = out.accessor<double, 3>();
  EXPECT_DOUBLE_EQ(o[0][0][0], 12.0);                                             // mean of 0..24
  EXPECT_DOUBLE_EQ(o[0][0][1], (0 + 1 + 5 + 6) / 4.0);                            // bin (0, 0)
  EXPECT_DOUBLE_EQ(o[0][0][2], (1 + 2 + 3 + 6 + 7 + 8) / 6.0);                    // bin (0, 1)
  EXPECT_DOUBLE_EQ(o[0][0][5], (6 + 7 + 8 + 11 + 12 + 13 + 16 + 17 + 18) / 9.0);  // (1, 1)
  EXPECT_DOUBLE_EQ(o[0][0][9], (18 + 19 + 23 + 24) / 4.0);                        // bin (2, 2)
}

TEST(PyramidPoolingTest, DefaultScalesAgainstBinDefinition) {
  torch::manual_seed(0);
  torch::Tensor x = torch::randn({2, 3, 13, 11}, torch::kFloat64);
  const std::vector<int64_t> scales = {1, 3, 6, 8};
  torch::Tensor out = PyramidPooling(x, scales);
  ASSERT_EQ(out.sizes(), torch::IntArrayRef({2, 3, 110}));
  EXPECT_EQ(PyramidAnchorCount(scales), 110);
  auto o = out.accessor<double, 3>();
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t c = 0; c < 3; ++c) {
      int64_t k = 0;
      for (int64_t s : scales) {
        for (int64_t i = 0; i < s; ++i) {
          for (int64_t j = 0; j < s; ++j, ++k) {
            EXPECT_NEAR(o[b][c][k], AdaptiveBinMean(x, b, c, s, i, j), 1e-12)
                << "scale " << s << " bin " << i << "," << j;
          }
        }
      }
    }
  }
}

// Applies a 1x1 conv (+ optional eval BN + ReLU) at one position, from the weights.
std::vector<double> Project(const torch::Tensor& x, int64_t b, int64_t y, int64_t xx,
                            const torch::Tensor& weight, const torch::Tensor& bias,
                            const SyncBatchNorm& bn) {
  const int64_t out = weight.size(0), in = weight.size(1);
  auto wa = weight.accessor<double, 4>();
  auto xa = x.accessor<double, 4>();
  std::vector<double> r(out);
  for (int64_t o = 0; o < out; ++o) {
    double v = bias.defined() ? bias[o].item<double>() : 0.0;
    for (int64_t i = 0; i < in; ++i) v += wa[o][i][0][0] * xa[b][i][y][xx];
    if (bn) {
      const double mean = bn->running_mean[o].item<double>();
      const double var = bn->running_var[o].item<double>();
      v = (v - mean) / std::sqrt(var + 1e-5) * bn->weight[o].item<double>() +
          bn->bias[o].item<double>();
      v = std::max(v, 0.0);
    }
    r[o] = v;
  }
  return r;
}

void RandomiseBatchNorm(const SyncBatchNorm& bn) {
  torch::NoGradGuard no_grad;
  bn->running_mean.uniform_(-0.5, 0.5);
  bn->running_var.uniform_(0.5, 2.0);
  bn->weight.uniform_(0.5, 1.5);
  bn->bias.uniform_(-0.2, 0.2);
}

// Computes the block step by step with loops: projections per position, pooling by the bin
// definition, scaled dot products, softmax over anchors, weighted values, output projection.
torch::Tensor DirectAttention(SelfAttentionBlock& block, const torch::Tensor& query_feats,
                              const torch::Tensor& key_feats, const std::vector<int64_t>& scales,
                              int64_t channels) {
  const int64_t batch = query_feats.size(0), h = query_feats.size(2), w = query_feats.size(3);
  const int64_t hk = key_feats.size(2), wk = key_feats.size(3);
  const int64_t out_channels = block->out_project->weight.size(0);
  torch::Tensor result = torch::zeros({batch, out_channels, h, w}, torch::kFloat64);
  for (int64_t b = 0; b < batch; ++b) {
    // Key and value maps at every key position.
    torch::Tensor kmap = torch::zeros({1, channels, hk, wk}, torch::kFloat64);
    torch::Tensor vmap = torch::zeros({1, channels, hk, wk}, torch::kFloat64);
    for (int64_t y = 0; y < hk; ++y) {
      for (int64_t x = 0; x < wk; ++x) {
        auto k = Project(key_feats, b, y, x, block->key_project->conv->weight,
                         block->key_project->conv->bias, block->key_project->bn);
        auto v = Project(key_feats, b, y, x, block->value_project->weight,
                         block->value_project->bias, nullptr);
        for (int64_t c = 0; c < channels; ++c) {
          kmap[0][c][y][x] = k[c];
          vmap[0][c][y][x] = v[c];
        }
      }
    }
    // Anchors.
    std::vector<std::vector<double>> keys, values;
    for (int64_t s : scales) {
      for (int64_t i = 0; i < s; ++i) {
        for (int64_t j = 0; j < s; ++j) {
          std::vector<double> k(channels), v(channels);
          for (int64_t c = 0; c < channels; ++c) {
            k[c] = AdaptiveBinMean(kmap, 0, c, s, i, j);
            v[c] = AdaptiveBinMean(vmap, 0, c, s, i, j);
          }
          keys.push_back(k);
          values.push_back(v);
        }
      }
    }
    auto wo = block->out_project->weight.accessor<double, 4>();
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        auto q = Project(query_feats, b, y, x, block->query_project->conv->weight,
                         block->query_project->conv->bias, block->query_project->bn);
        std::vector<double> logits(keys.size());
        double max_logit = -1e300;
        for (size_t s = 0; s < keys.size(); ++s) {
          double dot = 0;
          for (int64_t c = 0; c < channels; ++c) dot += q[c] * keys[s][c];
          logits[s] = dot / std::sqrt(static_cast<double>(channels));
          max_logit = std::max(max_logit, logits[s]);
        }
        double denom = 0;
        for (double& l : logits) denom += (l = std::exp(l - max_logit));
        std::vector<double> context(channels, 0.0);
        for (size_t s = 0; s < keys.size(); ++s)
          for (int64_t c = 0; c < channels; ++c) context[c] += logits[s] / denom * values[s][c];
        for (int64_t o = 0; o < out_channels; ++o) {
          double v = block->out_project->bias[o].item<double>();
          for (int64_t c = 0; c < channels; ++c) v += wo[o][c][0][0] * context[c];
          result[b][o][y][x] = v;
        }
      }
    }
  }
  return result;
}

TEST(SelfAttentionBlockTest, AsymmetricFusionMatchesDirectComputation) {
  torch::manual_seed(1);
  const std::vector<int64_t> scales = {1, 2, 3};
  SelfAttentionBlock block(SelfAttentionOptions(/*key_in=*/5, /*query_in=*/6, /*channels=*/4,
                                                /*out=*/3)
                               .pool_scales(scales));
  block->to(torch::kFloat64);
  RandomiseBatchNorm(block->key_project->bn);
  RandomiseBatchNorm(block->query_project->bn);
  block->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor query = torch::randn({2, 6, 4, 5}, torch::kFloat64);
  torch::Tensor key = torch::randn({2, 5, 7, 6}, torch::kFloat64);
  torch::Tensor got = block->forward(query, key);
  ASSERT_EQ(got.sizes(), torch::IntArrayRef({2, 3, 4, 5}));
  torch::Tensor want = DirectAttention(block, query, key, scales, 4);
  EXPECT_LT((got - want).abs().max().item<double>(), 1e-10);
}

TEST(SelfAttentionBlockTest, SharedKeyQueryIsOneModuleUnderTwoNames) {
  torch::manual_seed(2);
  const std::vector<int64_t> scales = {1, 3, 6, 8};
  SelfAttentionBlock block(
      SelfAttentionOptions(6, 6, 4, 6).share_key_query(true).pool_scales(scales));
  block->to(torch::kFloat64);
  RandomiseBatchNorm(block->key_project->bn);
  block->eval();
  EXPECT_EQ(block->key_project.ptr(), block->query_project.ptr());
  auto named = block->named_parameters();
  EXPECT_TRUE(named.contains("key_project.conv.weight"));
  EXPECT_TRUE(named.contains("query_project.conv.weight"));
  EXPECT_FALSE(named.contains("key_project.conv.bias"));
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::randn({1, 6, 9, 10}, torch::kFloat64);
  torch::Tensor got = block->forward(x, x);
  torch::Tensor want = DirectAttention(block, x, x, scales, 4);
  EXPECT_LT((got - want).abs().max().item<double>(), 1e-10);
}

}  // namespace
}  // namespace ann
