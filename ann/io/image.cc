#include "ann/io/image.h"

#include <glob.h>
#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ann/util/atomic_file.h"
#include "ann/util/crc32.h"
#include "ann/util/files.h"
#include "ann/util/status_macros.h"
#include "opencv2/imgcodecs.hpp"

namespace ann {
namespace {

bool IsImageFile(const std::filesystem::path& p) {
  const std::string ext = absl::AsciiStrToLower(p.extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".tif" ||
         ext == ".tiff" || ext == ".webp";
}

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

absl::Status CheckPixels(const std::string& path, int64_t width, int64_t height) {
  if (width < 1 || height < 1) {
    return absl::DataLossError(absl::StrCat(path, ": image header says ", width, "x", height));
  }
  if (width * height > kMaxImagePixels) {
    return absl::OutOfRangeError(absl::StrCat(path, ": ", width, "x", height,
                                              " pixels is more than ann reads (at most ",
                                              kMaxImagePixels, " pixels)"));
  }
  return absl::OkStatus();
}

// "<path>: not a decodable image (corrupt <format>: <what>)".
absl::Status Corrupt(const std::string& path, absl::string_view format, absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat(path, ": not a decodable image (corrupt ", format, ": ", what, ")"));
}

absl::Status CheckPng(const std::string& path, const std::vector<unsigned char>& bytes) {
  auto corrupt = [&](absl::string_view what) { return Corrupt(path, "PNG", what); };
  size_t at = 8;
  bool header = false;
  while (true) {
    if (bytes.size() - at < 12) return corrupt("cut short, no IEND chunk");
    const uint32_t length = BigEndian32(&bytes[at]);
    if (length > bytes.size() - at - 12) {
      return corrupt("cut short, no IEND chunk");
    }
    const unsigned char* type = &bytes[at + 4];
    const std::string name(reinterpret_cast<const char*>(type), 4);
    const bool printable = std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    });
    if (!printable) return corrupt(absl::StrCat("bad chunk header at byte ", at));
    const uint32_t crc = Crc32(0, type, length + 4);
    if (crc != BigEndian32(type + 4 + length)) {
      return corrupt(absl::StrCat("CRC error in its ", name, " chunk at byte ", at));
    }
    if (!header) {
      if (name != "IHDR" || length < 8) return corrupt("no IHDR chunk first");
      ANN_RETURN_IF_ERROR(CheckPixels(path, BigEndian32(type + 4), BigEndian32(type + 8)));
      header = true;
    }
    if (name == "IEND") return absl::OkStatus();
    at += 12 + size_t{length};
  }
}

absl::Status CheckJpeg(const std::string& path, const std::vector<unsigned char>& bytes) {
  auto corrupt = [&](absl::string_view what) { return Corrupt(path, "JPEG", what); };
  // Marker segments up to the first scan; the frame header (SOFn) gives the size.
  size_t at = 2;
  bool frame = false;
  while (true) {
    while (at < bytes.size() && bytes[at] == 0xFF) ++at;  // fill bytes
    if (at + 3 > bytes.size()) return corrupt("cut short before its first scan");
    const unsigned char marker = bytes[at];
    if (marker == 0xD9) return corrupt("no image data before its end marker");
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length field
      ++at;
      continue;
    }
    const size_t length = (size_t{bytes[at + 1]} << 8) | bytes[at + 2];
    if (length < 2 || at + 1 + length > bytes.size()) {
      return corrupt("cut short inside a marker segment");
    }
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (length < 7) return corrupt("short frame header");
      const int64_t height = (int64_t{bytes[at + 4]} << 8) | bytes[at + 5];
      const int64_t width = (int64_t{bytes[at + 6]} << 8) | bytes[at + 7];
      ANN_RETURN_IF_ERROR(CheckPixels(path, width, height));
      frame = true;
    }
    at += 1 + length;
    if (marker == 0xDA) break;  // start of scan: entropy-coded data follows
  }
  if (!frame) return corrupt("no frame header before its first scan");
  // In entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so the first
  // FF D9 after the scan header is the end-of-image marker. A cut file has none.
  for (size_t i = at; i + 1 < bytes.size(); ++i) {
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xD9) return absl::OkStatus();
  }
  return corrupt("cut short, no end-of-image marker");
}

// libpng reports errors by longjmp: this part holds no object with a destructor, and writes
// into the rows its caller allocated.
struct PngSource {
  const unsigned char* data;
  size_t size;
  size_t at;
  char error[200];
};

void PngRead(png_structp png, png_bytep out, png_size_t n) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (n > source->size - source->at) png_error(png, "cut short");
  std::memcpy(out, source->data + source->at, n);
  source->at += n;
}

void PngError(png_structp png, png_const_charp message) {
  auto* source = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(source->error, sizeof(source->error), "%s", message);
  longjmp(png_jmpbuf(png), 1);
}

void PngWarning(png_structp, png_const_charp) {}

// Decodes a palette PNG's pixel indices into `rows` (one byte per pixel); false with
// source->error set on failure.
bool ReadPaletteIndices(PngSource* source, png_bytep* rows) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, source, PngError, PngWarning);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, source, PngRead);
  png_read_info(png, info);
  png_set_packing(png);  // 1, 2 and 4-bit indices to one byte each; no palette expansion
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

// A palette PNG ("P" mode: colour type 3 in its IHDR) as its indices, as PIL reads it; nullopt
// for any other image.
std::optional<absl::StatusOr<cv::Mat>> DecodePaletteIndices(const std::string& path,
                                                            const std::vector<uchar>& bytes) {
  // Signature, IHDR length and type, width, height, bit depth, colour type.
  if (bytes.size() < 33 || bytes[0] != 0x89 || std::memcmp(&bytes[12], "IHDR", 4) != 0 ||
      bytes[25] != 3) {
    return std::nullopt;
  }
  const uint32_t width = BigEndian32(&bytes[16]), height = BigEndian32(&bytes[20]);
  cv::Mat indices(static_cast<int>(height), static_cast<int>(width), CV_8UC1);
  std::vector<png_bytep> rows(height);
  for (uint32_t y = 0; y < height; ++y) rows[y] = indices.ptr<uchar>(static_cast<int>(y));
  PngSource source{bytes.data(), bytes.size(), 0, {0}};
  if (!ReadPaletteIndices(&source, rows.data())) {
    return absl::StatusOr<cv::Mat>(Corrupt(path, "PNG", source.error));
  }
  return absl::StatusOr<cv::Mat>(indices);
}

absl::StatusOr<cv::Mat> Decode(const std::string& path, int flags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::vector<uchar> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) return absl::DataLossError(absl::StrCat(path, ": empty file"));
  ANN_RETURN_IF_ERROR(CheckEncodedImage(path, bytes));
  if (flags == cv::IMREAD_UNCHANGED) {
    if (auto indices = DecodePaletteIndices(path, bytes)) return *indices;
  }
  cv::Mat image;
  try {
    image = cv::imdecode(bytes, flags);
  } catch (const cv::Exception&) {
    image.release();
  }
  if (image.empty()) {
    return absl::DataLossError(
        absl::StrCat(path, ": not a decodable image (corrupt or truncated)"));
  }
  return image;
}

}  // namespace

absl::Status CheckEncodedImage(const std::string& path, const std::vector<unsigned char>& bytes) {
  static constexpr unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() >= 8 && std::equal(kPng, kPng + 8, bytes.begin())) return CheckPng(path, bytes);
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    return CheckJpeg(path, bytes);
  }
  return absl::OkStatus();
}

absl::StatusOr<cv::Mat> ReadColorImage(const std::string& path) {
  return Decode(path, cv::IMREAD_COLOR);
}

absl::StatusOr<cv::Mat> ReadLabelImage(const std::string& path) {
  return Decode(path, cv::IMREAD_UNCHANGED);
}

absl::Status WriteImage(const std::string& path, const cv::Mat& image) {
  // Encoded in memory and written with checked calls: cv::imwrite reports success on a full disk
  // and leaves a 0-byte file.
  std::vector<uchar> bytes;
  try {
    const std::string ext = std::filesystem::path(path).extension().string();
    if (!cv::imencode(ext.empty() ? ".png" : ext, image, bytes)) bytes.clear();
  } catch (const cv::Exception&) {
    bytes.clear();
  }
  if (bytes.empty()) return absl::InternalError(absl::StrCat(path, ": cannot encode image"));
  return WriteFileAtomically(path, [&](const std::string& tmp) -> absl::Status {
    CheckedFile file(tmp);
    file.Write(bytes.data(), bytes.size());
    return file.Close(path);
  });
}

absl::StatusOr<std::vector<std::string>> ListImages(const std::string& spec,
                                                    const std::vector<std::string>& skip) {
  std::vector<std::string> paths;
  std::error_code ec;
  if (std::filesystem::is_directory(spec, ec)) {
    // Recursively: Cityscapes' leftImg8bit/val holds one folder per city.
    absl::StatusOr<std::vector<std::string>> files = ListFiles(spec, "", /*recursive=*/true, skip);
    if (!files.ok()) return files.status();
    for (const std::string& file : *files) {
      if (IsImageFile(file)) paths.push_back(file);
    }
  } else if (std::filesystem::exists(spec, ec)) {
    paths.push_back(spec);
  } else {
    glob_t g;
    if (glob(spec.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        if (IsImageFile(g.gl_pathv[i])) paths.emplace_back(g.gl_pathv[i]);
      }
    }
    globfree(&g);
    if (paths.empty() && spec.find_first_of("*?[") == std::string::npos) {
      return absl::NotFoundError(absl::StrCat(spec, ": no such file or directory"));
    }
  }
  if (paths.empty()) return absl::NotFoundError(absl::StrCat(spec, ": no images found"));
  std::sort(paths.begin(), paths.end());
  return paths;
}

torch::Tensor ImageToTensor(const cv::Mat& image) {
  cv::Mat contiguous = image.isContinuous() ? image : image.clone();
  return torch::from_blob(contiguous.data,
                          {contiguous.rows, contiguous.cols, contiguous.channels()}, torch::kUInt8)
      .clone();
}

cv::Mat LabelTensorToMat(const torch::Tensor& labels) {
  torch::Tensor t = labels.to(torch::kUInt8).contiguous();
  cv::Mat view(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC1, t.data_ptr());
  return view.clone();
}

std::string FileStem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

}  // namespace ann
