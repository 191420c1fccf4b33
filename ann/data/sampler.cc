#include "ann/data/sampler.h"

#include <numeric>

#include "ann/data/transforms.h"

namespace ann {

TrainSampler::TrainSampler(int64_t dataset_size, int world_size, int batch_per_rank, uint64_t seed)
    : dataset_size_(dataset_size), world_size_(world_size), batch_(batch_per_rank), seed_(seed) {}

std::vector<int64_t> TrainSampler::Permutation(int64_t epoch) const {
  std::vector<int64_t> perm(dataset_size_);
  std::iota(perm.begin(), perm.end(), 0);
  Rng rng(MixSeed(seed_, 0x5eed5eedULL, static_cast<uint64_t>(epoch)));
  for (int64_t i = dataset_size_ - 1; i > 0; --i) {
    const int64_t j = RandInt(rng, 0, static_cast<int>(i + 1));
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

int64_t TrainSampler::SampleIndex(int64_t iteration, int rank, int slot) const {
  const int64_t p = (iteration * world_size_ + rank) * batch_ + slot;
  const int64_t epoch = p / dataset_size_;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(epoch);
  if (it == cache_.end()) {
    if (cache_.size() > 4) cache_.erase(cache_.begin());
    it = cache_.emplace(epoch, Permutation(epoch)).first;
  }
  return it->second[p % dataset_size_];
}

uint64_t TrainSampler::AugmentSeed(int64_t iteration, int rank, int slot) const {
  // Keyed by the slot in the global batch (rank * batch + slot): an image is augmented the same
  // whichever process of however many loads it. (The 0 is the rank field of earlier versions,
  // kept so that single-process runs draw what they always drew.)
  const uint64_t global_slot = static_cast<uint64_t>(rank) * batch_ + slot;
  return MixSeed(seed_, static_cast<uint64_t>(iteration), 0, global_slot + 1);
}

}  // namespace ann
