// Reading and writing files in PyTorch's zip serialisation (what `torch.save` writes since 1.6):
// a `data.pkl` pickle whose tensors reference storages stored as `data/<key>` records. The zip
// container is LibTorch's PyTorchStreamReader / PyTorchStreamWriter; the pickle is ours
// (ann/io/pickle.h). Writes are atomic: a temporary file renamed into place.
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

// Reads a file written by Python's torch.save (or WriteTorchFile). Errors name the file and say
// what is wrong: missing, not a zip (truncated / corrupt), legacy pre-1.6 format, a storage
// record missing or short.
absl::StatusOr<PickleValuePtr> ReadTorchFile(const std::string& path);

// Writes `value` so that Python's torch.load returns the same structure. Tensors sharing a
// storage are written once and stay shared.
absl::Status WriteTorchFile(const std::string& path, const PickleValue& value);

}  // namespace ann

#endif  // ANN_IO_TORCH_FILE_H_
