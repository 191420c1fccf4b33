// What checking every zip record's CRC-32 costs when a checkpoint is read: an R-101 model (or
// --depth) saved as a checkpoint, then, side by side in one run, the whole read (ReadTorchFile,
// CRC included) and the CRC-32 alone over the same file's bytes, ours (ann/util/crc32) and
// zlib's.
//
//   bazel run //benchmarks:checkpoint_read -- --depth=101 --runs=5
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "ann/io/checkpoint.h"
#include "ann/io/torch_file.h"
#include "ann/model/segmentor.h"
#include "ann/util/cpu.h"
#include "ann/util/crc32.h"
#include "ann/util/runtime.h"
#include "benchmarks/timing.h"
#include "gflags/gflags.h"
#include "torch/torch.h"

DEFINE_int32(depth, 101, "ResNet depth of the checkpointed model.");
DEFINE_int32(runs, 5, "Timed reads (the minimum is printed).");

// Seconds of the fastest of --runs runs of `run` (after one untimed).
double Seconds(const std::function<void()>& run) {
  return ann::bench::Time(run, FLAGS_runs).min_ms / 1e3;
}

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  std::printf("%s\n", ann::CpuDescription(ann::SetUpRuntimeFromFlags()).c_str());
  ann::ModelConfig config;
  config.depth = FLAGS_depth;
  ann::EncoderDecoder model(config);
  const std::string path =
      (std::filesystem::temp_directory_path() / "ann_checkpoint_read.pth").string();
  if (!ann::SaveCheckpoint(path, *model, nullptr).ok()) {
    std::fprintf(stderr, "error: %s: cannot write\n", path.c_str());
    return 1;
  }
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const double read = Seconds([&] {
    if (!ann::ReadTorchFile(path).ok()) std::abort();
  });
  uint32_t ours = 0, zlib = 0;
  const double crc = Seconds([&] { ours = ann::Crc32(0, bytes.data(), bytes.size()); });
  const double crc_zlib = Seconds([&] { zlib = ann::Crc32Zlib(0, bytes.data(), bytes.size()); });
  if (ours != zlib) {
    std::fprintf(stderr, "error: CRC-32 differs from zlib's\n");
    return 1;
  }
  const double mb = bytes.size() / 1e6;
  std::printf(
      "R-%d checkpoint, %.1f MB: read (every record's CRC-32 checked) %.1f ms; CRC-32 alone over "
      "the file: ours %.1f ms (%.0f MB/s, %.1f%% of the read), zlib's %.1f ms (%.0f MB/s, "
      "%.1f%%)\n",
      FLAGS_depth, mb, read * 1e3, crc * 1e3, mb / crc, 100 * crc / read, crc_zlib * 1e3,
      mb / crc_zlib, 100 * crc_zlib / read);
  std::filesystem::remove(path);
  return 0;
}
