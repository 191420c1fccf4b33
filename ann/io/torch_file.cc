#include "ann/io/torch_file.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ann/util/atomic_file.h"
#include "ann/util/crc32.h"
#include "ann/util/status_macros.h"
#include "caffe2/serialize/inline_container.h"
#include "zip.h"

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

// Checks a persistent id `('storage', <class>, key, location, numel, ...)` and returns the
// storage's dtype, key and element count. The location ('cpu', 'cuda:0', ...) is ignored:
// every storage is read onto the CPU, as torch.load(map_location='cpu') does.
absl::Status ParseStorageId(const std::string& path, const PickleValue& pid,
                            torch::ScalarType* dtype, std::string* key, int64_t* numel) {
  const auto& t = pid.items;
  if (pid.kind != PickleValue::Kind::kTuple || t.size() < 5 || !t[0]->IsString() ||
      t[0]->text != "storage" || t[1]->kind != PickleValue::Kind::kGlobal || !t[2]->IsString() ||
      t[4]->kind != PickleValue::Kind::kInt || t[4]->integer < 0) {
    return absl::DataLossError(absl::StrCat(path, ": malformed storage reference"));
  }
  // torch.FloatStorage, or torch.cuda.FloatStorage in files saved from a GPU by old PyTorch.
  if (!StorageDtype(t[1]->name, dtype)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": unsupported storage type ", t[1]->module, ".", t[1]->name));
  }
  *key = t[2]->text;
  *numel = t[4]->integer;
  return absl::OkStatus();
}

// Prefixes a pickle error with the file (and part) it came from, unless it names it already.
absl::Status InFile(const std::string& path, const std::string& part, const absl::Status& status) {
  if (absl::StartsWith(status.message(), path)) return status;
  return absl::Status(status.code(), absl::StrCat(path, ": ", part, status.message()));
}

// The central directory of a zip checkpoint, read with libzip, for two checks that LibTorch's
// reader (like Python's torch.load) does not make:
//  - sizes: torch.save stores records uncompressed, and PyTorchStreamReader::getRecord allocates
//    the size a record's header declares before reading it (a 3 KB file may declare 4 GB), so a
//    record larger than the file itself is refused up front;
//  - CRC-32: every record's bytes must match the checksum the directory holds for them, so a
//    flipped byte inside a tensor is an error naming the record instead of a silently wrong
//    weight. The bytes checked are those the reader hands us: nothing is read twice.
class ZipRecordCheck {
 public:
  static absl::StatusOr<ZipRecordCheck> Open(const std::string& path) {
    std::error_code ec;
    const uintmax_t file_size = std::filesystem::file_size(path, ec);
    int error = 0;
    zip_t* zip = zip_open(path.c_str(), ZIP_RDONLY, &error);
    if (zip == nullptr) {
      zip_error_t why;
      zip_error_init_with_code(&why, error);
      const std::string message = zip_error_strerror(&why);
      zip_error_fini(&why);
      return absl::DataLossError(absl::StrCat(
          path, ": not a readable PyTorch zip checkpoint (truncated or corrupt: ", message, ")"));
    }
    ZipRecordCheck check(path);
    absl::Status status;
    const zip_int64_t entries = zip_get_num_entries(zip, 0);
    for (zip_int64_t i = 0; i < entries && status.ok(); ++i) {
      zip_stat_t stat;
      zip_stat_init(&stat);
      if (zip_stat_index(zip, static_cast<zip_uint64_t>(i), 0, &stat) != 0 ||
          !(stat.valid & ZIP_STAT_NAME)) {
        continue;
      }
      if (!ec && (stat.valid & ZIP_STAT_SIZE) && stat.size > file_size) {
        status = absl::DataLossError(absl::StrCat(path, ": corrupt zip checkpoint: record ",
                                                  stat.name, " claims ", stat.size,
                                                  " bytes in a file of ", file_size));
      }
      // PyTorchStreamReader names records without the archive's top folder.
      const std::string name = stat.name;
      const size_t slash = name.find('/');
      if (slash == std::string::npos || !(stat.valid & ZIP_STAT_CRC)) continue;
      check.records_.emplace(name.substr(slash + 1), Record{name, stat.crc, false});
    }
    zip_discard(zip);
    if (!status.ok()) return status;
    return check;
  }

  // Checks the bytes of `record` (as PyTorchStreamReader names it).
  absl::Status Check(const std::string& record, const void* data, size_t size) {
    auto it = records_.find(record);
    if (it == records_.end()) return absl::OkStatus();  // not in the directory: nothing to check
    it->second.checked = true;
    const uint32_t crc = Crc32(0, data, size);
    if (crc == it->second.crc) return absl::OkStatus();
    return absl::DataLossError(
        absl::StrCat(path_, ": record ", it->second.zip_name, " is corrupt (CRC mismatch)"));
  }

  // Reads every record through libzip and checks it: why LibTorch's reader failed, when a record
  // it reads on opening (the version) is what is damaged.
  absl::Status CheckAllThroughLibzip() {
    zip_t* zip = zip_open(path_.c_str(), ZIP_RDONLY, nullptr);
    if (zip == nullptr) return absl::OkStatus();
    absl::Status status;
    std::vector<char> buffer(1 << 20);
    for (auto& [record, entry] : records_) {
      zip_file_t* file = zip_fopen(zip, entry.zip_name.c_str(), ZIP_FL_COMPRESSED);
      if (file == nullptr) continue;
      uint32_t crc = 0;
      zip_int64_t n;
      while ((n = zip_fread(file, buffer.data(), buffer.size())) > 0) {
        crc = Crc32(crc, buffer.data(), static_cast<size_t>(n));
      }
      // libzip checks stored records itself: a mismatch is a failed last read.
      const bool corrupt =
          n < 0 ? zip_error_code_zip(zip_file_get_error(file)) == ZIP_ER_CRC : crc != entry.crc;
      zip_fclose(file);
      if (corrupt) {
        status = absl::DataLossError(
            absl::StrCat(path_, ": record ", entry.zip_name, " is corrupt (CRC mismatch)"));
        break;
      }
    }
    zip_discard(zip);
    return status;
  }

  // Reads and checks every record not checked yet (the version, storages nothing refers to).
  absl::Status CheckRest(caffe2::serialize::PyTorchStreamReader& reader) {
    for (auto& [record, entry] : records_) {
      if (entry.checked || !reader.hasRecord(record)) continue;
      at::DataPtr data;
      size_t size;
      std::tie(data, size) = reader.getRecord(record);
      ANN_RETURN_IF_ERROR(Check(record, data.get(), size));
    }
    return absl::OkStatus();
  }

 private:
  struct Record {
    std::string zip_name;  // e.g. "archive/data/109", as zip tools name it
    uint32_t crc;
    bool checked;
  };
  explicit ZipRecordCheck(const std::string& path) : path_(path) {}
  std::string path_;
  std::map<std::string, Record> records_;
};

// Reads back every record of the zip file just written at `tmp` and checks it against its CRC-32,
// before `tmp` is renamed to `path`.
absl::Status CheckWrittenZip(const std::string& tmp, const std::string& path) {
  absl::Status status = [&]() -> absl::Status {
    ANN_ASSIGN_OR_RETURN(ZipRecordCheck check, ZipRecordCheck::Open(tmp));
    try {
      caffe2::serialize::PyTorchStreamReader reader(tmp);
      return check.CheckRest(reader);
    } catch (const c10::Error& e) {
      return absl::DataLossError(FirstLine(e.what_without_backtrace()));
    }
  }();
  if (status.ok()) return status;
  return OutputError(absl::DataLossError(
      absl::StrCat(path, ": the file written does not read back intact: ", status.message())));
}

absl::StatusOr<PickleValuePtr> ReadZipTorchFile(const std::string& path) {
  ANN_ASSIGN_OR_RETURN(ZipRecordCheck check, ZipRecordCheck::Open(path));
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (!reader.hasRecord("data.pkl")) {
      return absl::DataLossError(absl::StrCat(path, ": zip archive has no data.pkl record"));
    }
    at::DataPtr pkl_data;
    size_t pkl_size;
    std::tie(pkl_data, pkl_size) = reader.getRecord("data.pkl");
    ANN_RETURN_IF_ERROR(check.Check("data.pkl", pkl_data.get(), pkl_size));
    std::map<std::string, torch::Tensor> storages;
    PersistentLoadFn load = [&](const PickleValuePtr& pid) -> absl::StatusOr<PickleValuePtr> {
      torch::ScalarType dtype;
      std::string key;
      int64_t numel;
      absl::Status parsed = ParseStorageId(path, *pid, &dtype, &key, &numel);
      if (!parsed.ok()) return parsed;
      auto it = storages.find(key);
      if (it == storages.end()) {
        const std::string record = absl::StrCat("data/", key);
        if (!reader.hasRecord(record)) {
          return absl::DataLossError(
              absl::StrCat(path, ": storage record ", record, " is missing"));
        }
        at::DataPtr data;
        size_t size;
        std::tie(data, size) = reader.getRecord(record);
        ANN_RETURN_IF_ERROR(check.Check(record, data.get(), size));
        const size_t element = c10::elementSize(dtype);
        if (size / element < static_cast<uint64_t>(numel)) {
          return absl::DataLossError(absl::StrCat(path, ": storage ", record, " has ", size,
                                                  " bytes, expected ", numel, " elements of ",
                                                  element, " bytes"));
        }
        const size_t expected = static_cast<size_t>(numel) * element;
        torch::Tensor storage = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
        if (expected > 0) std::memcpy(storage.data_ptr(), data.get(), expected);
        it = storages.emplace(key, storage).first;
      }
      return PickleValue::Tensor(it->second);
    };
    auto root =
        Unpickle(std::string_view(static_cast<const char*>(pkl_data.get()), pkl_size), load);
    if (!root.ok()) return InFile(path, "data.pkl: ", root.status());
    ANN_RETURN_IF_ERROR(check.CheckRest(reader));
    return root;
  } catch (const c10::Error& e) {
    ANN_RETURN_IF_ERROR(check.CheckAllThroughLibzip());
    return absl::DataLossError(absl::StrCat(path,
                                            ": not a readable PyTorch zip checkpoint "
                                            "(truncated or corrupt): ",
                                            FirstLine(e.what_without_backtrace())));
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": cannot read: ", FirstLine(e.what())));
  }
}

// torch.save's legacy format (PyTorch < 1.6, or _use_new_zipfile_serialization=False), as
// torch.serialization._legacy_load reads it: pickles of the magic number, the protocol version
// and sys_info; the object, whose storages are persistent ids; the list of storage keys; then
// for each key, in that order, an int64 element count and the raw little-endian elements.
class LegacyReader {
 public:
  LegacyReader(const std::string& path, std::string data) : path_(path), data_(std::move(data)) {}

  absl::StatusOr<PickleValuePtr> Read() {
    ANN_ASSIGN_OR_RETURN(PickleValuePtr magic, Next("magic number", nullptr));
    static const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
    if (magic->kind != PickleValue::Kind::kBigInt || magic->text != kMagic) {
      return absl::DataLossError(absl::StrCat(
          path_, ": not a PyTorch checkpoint (a pickle without torch.save's magic number)"));
    }
    ANN_ASSIGN_OR_RETURN(PickleValuePtr protocol, Next("protocol version", nullptr));
    if (protocol->kind != PickleValue::Kind::kInt || protocol->integer != 1001) {
      return Corrupt(absl::StrCat("unsupported legacy protocol version ",
                                  protocol->kind == PickleValue::Kind::kInt
                                      ? std::to_string(protocol->integer)
                                      : protocol->TypeName()));
    }
    ANN_ASSIGN_OR_RETURN(PickleValuePtr sys_info, Next("sys_info", nullptr));
    if (sys_info->kind == PickleValue::Kind::kDict) {
      PickleValuePtr little = sys_info->Get("little_endian");
      if (little && little->kind == PickleValue::Kind::kBool && !little->boolean) {
        return absl::InvalidArgumentError(
            absl::StrCat(path_, ": written on a big-endian machine; not supported"));
      }
    }
    PersistentLoadFn load = [this](const PickleValuePtr& pid) { return Storage(*pid); };
    ANN_ASSIGN_OR_RETURN(PickleValuePtr root, Next("data", load));
    ANN_ASSIGN_OR_RETURN(PickleValuePtr keys, Next("storage keys", nullptr));
    if (keys->kind != PickleValue::Kind::kList && keys->kind != PickleValue::Kind::kTuple) {
      return Corrupt(absl::StrCat("storage key list is a ", keys->TypeName()));
    }
    std::set<std::string> filled;
    for (const PickleValuePtr& key : keys->items) {
      if (!key->IsString()) return Corrupt("storage key is not a string");
      auto it = roots_.find(key->text);
      if (it == roots_.end()) {
        return Corrupt(absl::StrCat("storage ", key->text, " is listed but never used"));
      }
      ANN_RETURN_IF_ERROR(Fill(key->text, it->second));
      filled.insert(key->text);
    }
    for (const auto& [key, storage] : roots_) {
      if (!filled.count(key)) return Corrupt(absl::StrCat("storage ", key, " has no data"));
    }
    return root;
  }

 private:
  absl::Status Corrupt(const std::string& what) const {
    return absl::DataLossError(
        absl::StrCat(path_, ": truncated or corrupt legacy torch.save file: ", what));
  }

  absl::StatusOr<PickleValuePtr> Next(const char* part, const PersistentLoadFn& load) {
    size_t consumed = 0;
    auto value = Unpickle(std::string_view(data_).substr(pos_), load, &consumed);
    if (!value.ok()) {
      if (absl::StartsWith(value.status().message(), path_)) return value.status();
      return Corrupt(absl::StrCat(part, ": ", value.status().message()));
    }
    pos_ += consumed;
    return value;
  }

  // persistent_load of _legacy_load: ('storage', class, root_key, location, numel,
  // view_metadata), view_metadata None or (view_key, offset, view_numel); ('module', class, ...)
  // for pickled nn.Module classes, whose source is not needed.
  absl::StatusOr<PickleValuePtr> Storage(const PickleValue& pid) {
    if (pid.kind == PickleValue::Kind::kTuple && pid.items.size() >= 2 &&
        pid.items[0]->IsString() && pid.items[0]->text == "module") {
      return pid.items[1];
    }
    torch::ScalarType dtype;
    std::string key;
    int64_t numel;
    ANN_RETURN_IF_ERROR(ParseStorageId(path_, pid, &dtype, &key, &numel));
    auto it = roots_.find(key);
    if (it == roots_.end()) {
      // Filled from the data section once the object is read; a file too short for it fails
      // there, before anything is allocated past its size.
      if (static_cast<uint64_t>(numel) > (data_.size() - pos_) / c10::elementSize(dtype)) {
        return Corrupt(
            absl::StrCat("storage ", key, " of ", numel, " elements is larger than the file"));
      }
      it = roots_.emplace(key, torch::empty({numel}, torch::TensorOptions().dtype(dtype))).first;
    }
    torch::Tensor root = it->second;
    if (root.scalar_type() != dtype) {
      return Corrupt(absl::StrCat("storage ", key, " is used with two element types"));
    }
    if (pid.items.size() >= 6 && pid.items[5]->kind == PickleValue::Kind::kTuple) {
      const auto& view = pid.items[5]->items;
      if (view.size() != 3 || !view[0]->IsString() || view[1]->kind != PickleValue::Kind::kInt ||
          view[2]->kind != PickleValue::Kind::kInt || view[1]->integer < 0 ||
          view[2]->integer < 0 || view[1]->integer > root.numel() ||
          view[2]->integer > root.numel() - view[1]->integer) {
        return Corrupt(absl::StrCat("bad view of storage ", key));
      }
      auto view_it =
          views_.emplace(view[0]->text, root.narrow(0, view[1]->integer, view[2]->integer)).first;
      return PickleValue::Tensor(view_it->second);
    }
    return PickleValue::Tensor(root);
  }

  absl::Status Fill(const std::string& key, torch::Tensor& storage) {
    if (data_.size() - pos_ < 8) return Corrupt(absl::StrCat("storage ", key, " is missing"));
    uint64_t count = 0;
    for (int i = 0; i < 8; ++i) {
      count |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += 8;
    if (count != static_cast<uint64_t>(storage.numel())) {
      return Corrupt(
          absl::StrCat("storage ", key, " holds ", count, " elements, expected ", storage.numel()));
    }
    const size_t bytes = static_cast<size_t>(storage.numel()) * storage.element_size();
    if (data_.size() - pos_ < bytes) {
      return Corrupt(absl::StrCat("storage ", key, " is cut short (", data_.size() - pos_, " of ",
                                  bytes, " bytes)"));
    }
    if (bytes > 0) std::memcpy(storage.data_ptr(), data_.data() + pos_, bytes);
    pos_ += bytes;
    return absl::OkStatus();
  }

  const std::string& path_;
  std::string data_;
  size_t pos_ = 0;
  std::map<std::string, torch::Tensor> roots_;
  std::map<std::string, torch::Tensor> views_;
};

}  // namespace

absl::StatusOr<PickleValuePtr> ReadTorchFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::string head(4, '\0');
  in.read(head.data(), 4);
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.size() == 4 && head.compare(0, 4, "PK\x03\x04") == 0) return ReadZipTorchFile(path);
  // A legacy file opens with a pickle PROTO opcode (torch.save's default protocol is 2).
  if (head.size() < 2 || static_cast<uint8_t>(head[0]) != 0x80 || head[1] < 2 || head[1] > 5) {
    return absl::DataLossError(absl::StrCat(
        path,
        ": not a PyTorch checkpoint (neither a zip archive nor a legacy torch.save file; "
        "empty or corrupt)"));
  }
  in.clear();  // a file shorter than the 4 bytes read above has set eof and fail
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0);
  if (size < 0 || !in) return absl::DataLossError(absl::StrCat(path, ": cannot read"));
  std::string data;
  try {
    data.resize(static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(path, ": not enough memory to read it"));
  }
  if (!in.read(data.data(), size)) return absl::DataLossError(absl::StrCat(path, ": cannot read"));
  try {
    return LegacyReader(path, std::move(data)).Read();
  } catch (const c10::Error& e) {
    return absl::DataLossError(absl::StrCat(
        path, ": cannot read legacy torch.save file: ", FirstLine(e.what_without_backtrace())));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(path, ": not enough memory to read it"));
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
    // The zip goes through our own sink, which never fails towards the writer: a
    // PyTorchStreamWriter that sees a short write throws, and throws again from its destructor
    // while unwinding (std::terminate). We record the failure and report it after the archive.
    CheckedFile file(tmp);
    auto sink = [&](const void* data, size_t size) -> size_t {
      file.Write(data, size);
      return size;
    };
    std::string failure;
    try {
      caffe2::serialize::PyTorchStreamWriter writer(sink);
      writer.writeRecord("data.pkl", pickle.data(), pickle.size());
      writer.writeRecord("byteorder", "little", 6);
      for (const Storage& s : storages) {
        writer.writeRecord(absl::StrCat("data/", s.key), s.data, s.nbytes);
      }
      writer.writeEndOfFile();
    } catch (const c10::Error& e) {
      failure = FirstLine(e.what_without_backtrace());
    }
    ANN_RETURN_IF_ERROR(file.Close(path));
    if (!failure.empty())
      return absl::InternalError(absl::StrCat(path, ": cannot write: ", failure));
    return CheckWrittenZip(tmp, path);
  });
}

}  // namespace ann
