#include "ann/inference/border_bias.h"

#include <algorithm>
#include <vector>

namespace ann {
namespace {

// The `n` rows (or columns) of a map on `small` ones mapped to the `n` of the image: the first
// and last `pad` are the border's own, every other one is the interior's (`pad`).
torch::Tensor SmallIndex(int64_t n, int64_t small, int64_t pad) {
  std::vector<int64_t> index(n);
  for (int64_t i = 0; i < n; ++i) index[i] = i < pad ? i : (i >= n - pad ? small - (n - i) : pad);
  return torch::tensor(index, torch::kLong);
}

}  // namespace

BorderBias::BorderBias(torch::Tensor taps, torch::Tensor bias, std::array<int64_t, 2> padding,
                       std::array<int64_t, 2> dilation)
    : taps_(std::move(taps)), bias64_(std::move(bias)), padding_(padding), dilation_(dilation) {
  torch::NoGradGuard no_grad;
  // The map on a (2 ph + 1) x (2 pw + 1) image: its centre is the interior value.
  const torch::Tensor small = Map(2 * padding_[0] + 1, 2 * padding_[1] + 1);
  interior64_ = small.select(0, 0).select(1, padding_[0]).select(1, padding_[1]).clone();
  border_ = (small - interior64_.view({1, -1, 1, 1})).to(torch::kFloat);
}

torch::Tensor BorderBias::Map(int64_t height, int64_t width) const {
  return torch::conv2d(torch::ones({1, 1, height, width}, torch::kDouble), taps_, bias64_, 1,
                       padding_, dilation_);
}

torch::Tensor BorderBias::Border(int64_t height, int64_t width) const {
  return (Map(height, width) - interior64_.view({1, -1, 1, 1})).to(torch::kFloat);
}

void BorderBias::AddTo(torch::Tensor& sum) const {
  const int64_t height = sum.size(2), width = sum.size(3), ph = padding_[0], pw = padding_[1];
  if (height < 2 * ph + 1 || width < 2 * pw + 1) {
    // Smaller than the border itself: the whole map (tiny inputs only).
    const int64_t h = std::min(height, 2 * ph + 1), w = std::min(width, 2 * pw + 1);
    sum.add_(Border(h, w)
                 .index_select(2, SmallIndex(height, h, ph))
                 .index_select(3, SmallIndex(width, w, pw)));
    return;
  }
  const int64_t h = border_.size(2), w = border_.size(3);
  const torch::Tensor columns = SmallIndex(width, w, pw);
  sum.narrow(2, 0, ph).add_(border_.narrow(2, 0, ph).index_select(3, columns));
  sum.narrow(2, height - ph, ph).add_(border_.narrow(2, h - ph, ph).index_select(3, columns));
  torch::Tensor middle = sum.narrow(2, ph, height - 2 * ph);
  const torch::Tensor interior_row = border_.narrow(2, ph, 1);
  middle.narrow(3, 0, pw).add_(interior_row.narrow(3, 0, pw));
  middle.narrow(3, width - pw, pw).add_(interior_row.narrow(3, w - pw, pw));
}

}  // namespace ann
