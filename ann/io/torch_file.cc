#include "ann/io/torch_file.h"

#include <cstring>
#include <fstream>
#include <map>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "ann/util/atomic_file.h"
#include "caffe2/serialize/inline_container.h"

namespace ann {
namespace {

struct StorageType {
  const char* name;
  torch::ScalarType dtype;
};

constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", torch::kFloat32}, {"DoubleStorage", torch::kFloat64},
    {"HalfStorage", torch::kFloat16},  {"BFloat16Storage", torch::kBFloat16},
    {"LongStorage", torch::kInt64},    {"IntStorage", torch::kInt32},
    {"ShortStorage", torch::kInt16},   {"CharStorage", torch::kInt8},
    {"ByteStorage", torch::kUInt8},    {"BoolStorage", torch::kBool},
    {"UntypedStorage", torch::kUInt8},
};

bool StorageDtype(const std::string& name, torch::ScalarType* dtype) {
  for (const auto& t : kStorageTypes) {
    if (name == t.name) {
      *dtype = t.dtype;
      return true;
    }
  }
  return false;
}

const char* StorageName(torch::ScalarType dtype) {
  for (const auto& t : kStorageTypes) {
    if (t.dtype == dtype) return t.name;
  }
  return nullptr;
}

// c10::Error messages carry a C++ backtrace; keep the first line only.
std::string FirstLine(const std::string& text) {
  return std::string(text.substr(0, text.find('\n')));
}

// Python's legacy (pre-1.6) torch.save output starts with a protocol-2 pickle of a magic number.
bool LooksLikeLegacyTorchFile(const std::string& head) {
  return head.size() >= 2 && static_cast<uint8_t>(head[0]) == 0x80 && head[1] == 0x02;
}

}  // namespace

absl::StatusOr<PickleValuePtr> ReadTorchFile(const std::string& path) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::string head(4, '\0');
  probe.read(head.data(), 4);
  head.resize(static_cast<size_t>(probe.gcount()));
  if (head.size() < 4 || head.compare(0, 4, "PK\x03\x04") != 0) {
    if (LooksLikeLegacyTorchFile(head)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": legacy (pre-1.6) torch.save format is not supported; re-save it with "
                "torch.save(obj, path) in PyTorch >= 1.6"));
    }
    return absl::DataLossError(
        absl::StrCat(path, ": not a PyTorch checkpoint (no zip header; empty or corrupt file)"));
  }
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (!reader.hasRecord("data.pkl")) {
      return absl::DataLossError(absl::StrCat(path, ": zip archive has no data.pkl record"));
    }
    at::DataPtr pkl_data;
    size_t pkl_size;
    std::tie(pkl_data, pkl_size) = reader.getRecord("data.pkl");
    std::map<std::string, torch::Tensor> storages;
    PersistentLoadFn load = [&](const PickleValuePtr& pid) -> absl::StatusOr<PickleValuePtr> {
      const auto& t = pid->items;
      if (pid->kind != PickleValue::Kind::kTuple || t.size() < 5 || !t[0]->IsString() ||
          t[0]->text != "storage" || t[1]->kind != PickleValue::Kind::kGlobal ||
          !t[2]->IsString() || t[4]->kind != PickleValue::Kind::kInt) {
        return absl::DataLossError(absl::StrCat(path, ": malformed storage reference"));
      }
      torch::ScalarType dtype;
      if (!StorageDtype(t[1]->name, &dtype)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": unsupported storage type torch.", t[1]->name));
      }
      const std::string& key = t[2]->text;
      auto it = storages.find(key);
      if (it == storages.end()) {
        const std::string record = absl::StrCat("data/", key);
        if (!reader.hasRecord(record)) {
          return absl::DataLossError(absl::StrCat(path, ": storage record ", record, " is missing"));
        }
        at::DataPtr data;
        size_t size;
        std::tie(data, size) = reader.getRecord(record);
        const int64_t numel = t[4]->integer;
        const size_t expected = static_cast<size_t>(numel) * c10::elementSize(dtype);
        if (numel < 0 || size < expected) {
          return absl::DataLossError(absl::StrCat(path, ": storage ", record, " has ", size,
                                                  " bytes, expected ", expected));
        }
        torch::Tensor storage = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
        if (expected > 0) std::memcpy(storage.data_ptr(), data.get(), expected);
        it = storages.emplace(key, storage).first;
      }
      return PickleValue::Tensor(it->second);
    };
    auto root = Unpickle(
        std::string_view(static_cast<const char*>(pkl_data.get()), pkl_size), load);
    if (!root.ok()) {
      if (absl::StartsWith(root.status().message(), path)) return root.status();
      return absl::Status(root.status().code(),
                          absl::StrCat(path, ": data.pkl: ", root.status().message()));
    }
    return root;
  } catch (const c10::Error& e) {
    return absl::DataLossError(absl::StrCat(path, ": not a readable PyTorch zip checkpoint "
                                                  "(truncated or corrupt): ",
                                            FirstLine(e.what_without_backtrace())));
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": cannot read: ", FirstLine(e.what())));
  }
}

absl::Status WriteTorchFile(const std::string& path, const PickleValue& value) {
  struct Storage {
    std::string key;
    torch::Tensor holder;  // keeps the bytes alive
    const void* data;
    size_t nbytes;
  };
  std::unordered_map<const void*, StorageRef> refs;
  std::vector<Storage> storages;
  std::string unsupported;
  StorageIdFn storage_id = [&](const torch::Tensor& tensor) -> StorageRef {
    const c10::Storage& storage = tensor.storage();
    auto it = refs.find(storage.data());
    if (it != refs.end()) return it->second;
    const char* name = StorageName(tensor.scalar_type());
    if (name == nullptr) unsupported = std::string(c10::toString(tensor.scalar_type()));
    StorageRef ref{name ? name : "FloatStorage", std::to_string(storages.size()),
                   static_cast<int64_t>(storage.nbytes() / tensor.element_size())};
    storages.push_back({ref.key, tensor, storage.data(), storage.nbytes()});
    refs.emplace(storage.data(), ref);
    return ref;
  };
  const std::string pickle = Pickle(value, storage_id);
  if (!unsupported.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot save tensors of type ", unsupported));
  }
  return WriteFileAtomically(path, [&](const std::string& tmp) -> absl::Status {
    try {
      caffe2::serialize::PyTorchStreamWriter writer(tmp);
      writer.writeRecord("data.pkl", pickle.data(), pickle.size());
      writer.writeRecord("byteorder", "little", 6);
      for (const Storage& s : storages) {
        writer.writeRecord(absl::StrCat("data/", s.key), s.data, s.nbytes);
      }
      writer.writeEndOfFile();
    } catch (const c10::Error& e) {
      return absl::InternalError(
          absl::StrCat(path, ": cannot write: ", FirstLine(e.what_without_backtrace())));
    }
    return absl::OkStatus();
  });
}

}  // namespace ann
