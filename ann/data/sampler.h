// Deterministic training order. Global position p = (iteration * world_size + rank) * batch +
// slot walks through epochs of the dataset; each epoch is a Fisher-Yates permutation drawn from
// (seed, epoch). Every augmentation stream is seeded from (seed, iteration, rank * batch + slot),
// the slot in the global batch. So which data a step sees depends only on those numbers: a
// resumed run sees exactly what it would have seen uninterrupted, and N ranks of batch b see
// (and augment) exactly the images of one process of batch N * b, split in rank order.
#ifndef ANN_DATA_SAMPLER_H_
#define ANN_DATA_SAMPLER_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace ann {

// Which sample fills each slot of each iteration, and its augmentation seed: pure functions of
// (seed, iteration, rank, slot), so any run can resume at any iteration.
class TrainSampler {
 public:
  TrainSampler(int64_t dataset_size, int world_size, int batch_per_rank, uint64_t seed);

  // Dataset index for (iteration, rank, slot in the rank's batch).
  int64_t SampleIndex(int64_t iteration, int rank, int slot) const;
  // Seed of the augmentation stream for the same coordinates.
  uint64_t AugmentSeed(int64_t iteration, int rank, int slot) const;

  int64_t dataset_size() const { return dataset_size_; }
  // The permutation of epoch `epoch` (exposed for tests).
  std::vector<int64_t> Permutation(int64_t epoch) const;

 private:
  int64_t dataset_size_;
  int world_size_;
  int batch_;
  uint64_t seed_;
  mutable std::mutex mu_;
  mutable std::map<int64_t, std::vector<int64_t>> cache_;
};

}  // namespace ann

#endif  // ANN_DATA_SAMPLER_H_
