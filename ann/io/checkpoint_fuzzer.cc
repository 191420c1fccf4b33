// libFuzzer target for the checkpoint reader: any bytes as a `.pth` file through ReadTorchFile
// (zip container or legacy torch.save, the pickle machine, tensor rebuilding) and
// ExtractStateDict (layout detection, name mapping), then every tensor read in full so that a
// tensor pointing outside its storage is caught by AddressSanitizer. The reader must return a
// status for anything it cannot read: an exception, a crash or a sanitizer report is a bug.
//
// Built with --config=asan (clang, ASan + UBSan, libFuzzer); otherwise it links
// tests/fuzz_replay_main.cc and replays files given on the command line.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "ann/io/checkpoint.h"
#include "ann/io/torch_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One in-memory file, rewritten per input: the reader opens real paths.
  static const int fd = memfd_create("checkpoint.pth", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0) return 0;
  size_t written = 0;
  while (written < size) {
    const ssize_t n = pwrite(fd, data + written, size - written, static_cast<off_t>(written));
    if (n <= 0) return 0;
    written += static_cast<size_t>(n);
  }
  absl::StatusOr<ann::PickleValuePtr> root = ann::ReadTorchFile(path);
  if (!root.ok()) return 0;
  absl::StatusOr<ann::StateDict> state_dict = ann::ExtractStateDict(**root, path);
  if (!state_dict.ok()) return 0;
  double sum = 0;
  for (const auto& [name, tensor] : *state_dict) {
    if (tensor.numel() > 0 && tensor.is_floating_point()) {
      sum += tensor.to(torch::kDouble).abs().sum().item<double>();
    } else if (tensor.numel() > 0) {
      sum += static_cast<double>(tensor.to(torch::kLong).sum().item<int64_t>());
    }
  }
  return sum == -1 ? 1 : 0;
}
