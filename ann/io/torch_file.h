// Reading and writing the files of Python's `torch.save`. Two formats exist and users hold both:
//  - zip (PyTorch >= 1.6): a `data.pkl` pickle whose tensors reference storages stored as
//    `data/<key>` records; the container is LibTorch's PyTorchStreamReader / Writer;
//  - legacy (PyTorch < 1.6, or _use_new_zipfile_serialization=False: mmseg's 2020 model zoo, the
//    authors' checkpoints, early ImageNet backbones): consecutive pickles followed by the raw
//    storages (torch/serialization.py's _legacy_save), read here directly.
// The pickles are ours (ann/io/pickle.h). Storages saved on a GPU are read onto the CPU. We write
// the zip format only. Writes are atomic: a temporary file renamed into place.
//
//   ASSIGN_OR_RETURN(PickleValuePtr root, ReadTorchFile("model.pth"));
//   RETURN_IF_ERROR(WriteTorchFile("logits.pt", *PickleValue::Tensor(logits)));
#ifndef ANN_IO_TORCH_FILE_H_
#define ANN_IO_TORCH_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ann/io/pickle.h"

namespace ann {

// Reads a file written by Python's torch.save in either format (or by WriteTorchFile). Errors
// name the file and say what is wrong in one line: missing, neither format, truncated or corrupt
// (which part), a storage missing or short.
absl::StatusOr<PickleValuePtr> ReadTorchFile(const std::string& path);

// Writes `value` so that Python's torch.load returns the same structure. Tensors sharing a
// storage are written once and stay shared.
absl::Status WriteTorchFile(const std::string& path, const PickleValue& value);

}  // namespace ann

#endif  // ANN_IO_TORCH_FILE_H_
