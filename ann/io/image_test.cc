#include "ann/io/image.h"

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "ann/io/palette.h"
#include "gtest/gtest.h"
#include "opencv2/imgcodecs.hpp"
#include "tests/testing.h"
#include "torch/torch.h"
#include "zlib.h"

namespace ann {
namespace {

TEST(ImageTest, WriteReadRoundTripAndTensorLayout) {
  const std::string dir = testing::MakeTempDir("image");
  cv::Mat image(3, 4, CV_8UC3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) image.at<cv::Vec3b>(y, x) = cv::Vec3b(x, y, 200);
  ASSERT_TRUE(WriteImage(dir + "/a.png", image).ok());
  // Only the final file remains: the temporary one was renamed.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  auto back = ReadColorImage(dir + "/a.png");
  ASSERT_TRUE(back.ok()) << back.status();
  torch::Tensor t = ImageToTensor(*back);
  EXPECT_EQ(t.sizes(), torch::IntArrayRef({3, 4, 3}));
  EXPECT_EQ(t[2][3][0].item<int>(), 3);    // B = x
  EXPECT_EQ(t[2][3][1].item<int>(), 2);    // G = y
  EXPECT_EQ(t[2][3][2].item<int>(), 200);  // R
}

TEST(ImageTest, ErrorsNameTheFile) {
  const std::string dir = testing::MakeTempDir("bad_image");
  std::ofstream(dir + "/broken.png") << "\x89PNG\r\n\x1a\n garbage";
  auto bad = ReadColorImage(dir + "/broken.png");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(dir + "/broken.png: not a decodable image (corrupt PNG"),
            std::string::npos);
  auto missing = ReadColorImage(dir + "/missing.png");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.png: cannot open file"), std::string::npos);
}

// Encoded bytes of an asymmetric, odd-sized BGR image.
std::vector<uchar> Encoded(const std::string& ext) {
  cv::Mat image(37, 53, CV_8UC3);
  cv::randu(image, 0, 255);
  std::vector<uchar> bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes));
  return bytes;
}

std::string Write(const std::string& path, const std::vector<uchar>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return path;
}

std::string ReadError(const std::string& path) {
  absl::StatusOr<cv::Mat> image = ReadColorImage(path);
  return image.ok() ? "" : std::string(image.status().message());
}

TEST(ImageTest, CutOrCorruptFilesAreRefusedBeforeDecoding) {
  const std::string dir = testing::MakeTempDir("cut");
  const std::vector<uchar> png = Encoded(".png");
  const std::vector<uchar> jpg = Encoded(".jpg");
  EXPECT_EQ(ReadError(Write(dir + "/ok.png", png)), "");
  EXPECT_EQ(ReadError(Write(dir + "/ok.jpg", jpg)), "");
  // Cut anywhere: OpenCV would decode a cut JPEG (grey-filled) with a libjpeg warning on stderr.
  for (double keep : {0.3, 0.6, 0.99}) {
    const std::string cut_jpg =
        Write(dir + "/cut.jpg", std::vector<uchar>(jpg.begin(), jpg.begin() + jpg.size() * keep));
    EXPECT_EQ(ReadError(cut_jpg), cut_jpg +
                                      ": not a decodable image (corrupt JPEG: cut short, "
                                      "no end-of-image marker)")
        << keep;
    const std::string cut_png =
        Write(dir + "/cut.png", std::vector<uchar>(png.begin(), png.begin() + png.size() * keep));
    EXPECT_EQ(ReadError(cut_png),
              cut_png + ": not a decodable image (corrupt PNG: cut short, no IEND chunk)")
        << keep;
  }
  // One changed byte of pixel data: libpng would print "libpng error: IDAT: ..." itself.
  std::vector<uchar> flipped = png;
  flipped[png.size() / 2] ^= 0x40;
  const std::string crc = Write(dir + "/crc.png", flipped);
  EXPECT_EQ(ReadError(crc).rfind(crc + ": not a decodable image (corrupt PNG: CRC error in its "
                                       "IDAT chunk at byte ",
                                 0),
            0u)
      << ReadError(crc);
}

TEST(ImageTest, HugeImagesAreRefusedFromTheirHeader) {
  const std::string dir = testing::MakeTempDir("huge");
  // A PNG whose IHDR says 30000x30000 (with a valid CRC): refused without decoding.
  std::vector<uchar> png = Encoded(".png");
  auto put32 = [](uchar* p, uint32_t v) {
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
  };
  put32(&png[16], 30000);
  put32(&png[20], 30000);
  put32(&png[29], static_cast<uint32_t>(crc32(0L, &png[12], 17)));
  const std::string big_png = Write(dir + "/big.png", png);
  EXPECT_EQ(ReadError(big_png), big_png + ": 30000x30000 pixels is more than ann reads (at most " +
                                    std::to_string(kMaxImagePixels) + " pixels)");
  // A JPEG whose frame header says 60000x60000 (found from the SOF0 marker).
  std::vector<uchar> jpg = Encoded(".jpg");
  size_t sof = 2;
  while (jpg[sof + 1] != 0xC0) sof += 2 + ((jpg[sof + 2] << 8) | jpg[sof + 3]);
  for (int at : {5, 7}) {
    jpg[sof + at] = 60000 >> 8;
    jpg[sof + at + 1] = 60000 & 0xFF;
  }
  const std::string big_jpg = Write(dir + "/big.jpg", jpg);
  EXPECT_EQ(ReadError(big_jpg), big_jpg + ": 60000x60000 pixels is more than ann reads (at most " +
                                    std::to_string(kMaxImagePixels) + " pixels)");
}

// Palette ("P" mode) PNGs written by PIL, read as their indices as PIL and mmseg read them:
// 8-bit with a palette whose colours repeat (the colour cannot tell the index), 4-bit and 1-bit
// packed; the indices are compared with what PIL reads back, on an odd-sized asymmetric mask.
TEST(ImageTest, PalettePngsAreReadAsTheirIndices) {
  const std::string dir = testing::MakeTempDir("palette");
  const std::string script = R"(
import sys, numpy as np
from PIL import Image
d = sys.argv[1]
h, w = 13, 29
y, x = np.mgrid[0:h, 0:w]
for name, bits, levels in [('p8', 8, 200), ('p4', 4, 16), ('p1', 1, 2)]:
    a = ((x * 7 + y * y * 3 + (x > y) * 5) % levels).astype(np.uint8)
    im = Image.fromarray(a, 'P')
    im.putpalette([(i // 3) % 2 * 255 for i in range(768)])  # two colours, many indices
    im.save(f'{d}/{name}.png', bits=bits)
    back = np.array(Image.open(f'{d}/{name}.png'))
    assert Image.open(f'{d}/{name}.png').mode == 'P' and (back == a).all()
    back.tofile(f'{d}/{name}.raw')
)";
  std::ofstream(dir + "/make.py") << script;
  std::string out;
  ASSERT_EQ(testing::RunCommand("/usr/bin/python3 " + dir + "/make.py " + dir, &out), 0) << out;
  for (const std::string name : {"p8", "p4", "p1"}) {
    auto label = ReadLabelImage(dir + "/" + name + ".png");
    ASSERT_TRUE(label.ok()) << label.status();
    ASSERT_EQ(label->type(), CV_8UC1) << name;
    ASSERT_EQ(label->size(), cv::Size(29, 13)) << name;
    std::ifstream raw(dir + "/" + name + ".raw", std::ios::binary);
    const std::string expected((std::istreambuf_iterator<char>(raw)), {});
    ASSERT_TRUE(label->isContinuous());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(label->data), label->total()), expected)
        << name;
  }
  // A colour image is still read as colours.
  cv::Mat colour(3, 5, CV_8UC3, cv::Scalar(1, 2, 3));
  cv::imwrite(dir + "/rgb.png", colour);
  auto rgb = ReadLabelImage(dir + "/rgb.png");
  ASSERT_TRUE(rgb.ok());
  EXPECT_EQ(rgb->type(), CV_8UC3);
}

TEST(ImageTest, ListImagesFromFileDirectoryAndGlob) {
  const std::string dir = testing::MakeTempDir("list");
  cv::Mat image(2, 2, CV_8UC3, cv::Scalar(1, 2, 3));
  for (const char* name : {"b.png", "a.jpg", "c.png"}) cv::imwrite(dir + "/" + name, image);
  std::ofstream(dir + "/notes.txt") << "x";
  auto all = ListImages(dir);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<std::string>{dir + "/a.jpg", dir + "/b.png", dir + "/c.png"}));
  auto pngs = ListImages(dir + "/*.png");
  ASSERT_TRUE(pngs.ok());
  EXPECT_EQ(pngs->size(), 2u);
  auto one = ListImages(dir + "/a.jpg");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  EXPECT_FALSE(ListImages(dir + "/nothing").ok());
  EXPECT_FALSE(ListImages(dir + "/*.bmp").ok());
}

TEST(PaletteTest, CityscapesColoursAndIgnore) {
  cv::Mat labels = (cv::Mat_<uint8_t>(1, 3) << 0, 18, 255);
  cv::Mat color = Colorize(labels, PaletteFor(19));
  EXPECT_EQ(color.at<cv::Vec3b>(0, 0), cv::Vec3b(128, 64, 128));  // road, BGR
  EXPECT_EQ(color.at<cv::Vec3b>(0, 1), cv::Vec3b(32, 11, 119));   // bicycle (119,11,32) RGB
  EXPECT_EQ(color.at<cv::Vec3b>(0, 2), cv::Vec3b(0, 0, 0));
  std::vector<Rgb> voc = PaletteFor(21);
  EXPECT_EQ(voc[1], (Rgb{128, 0, 0}));
  EXPECT_EQ(voc[15], (Rgb{192, 128, 128}));
}

TEST(ImageTest, LabelTensorToMat) {
  torch::Tensor labels = torch::tensor({{1, 2}, {3, 255}}, torch::kInt64);
  cv::Mat m = LabelTensorToMat(labels);
  EXPECT_EQ(m.type(), CV_8UC1);
  EXPECT_EQ(m.at<uint8_t>(1, 1), 255);
  EXPECT_EQ(m.at<uint8_t>(0, 1), 2);
}

// A full disk (RLIMIT_FSIZE) is an error naming the file, never a 0-byte "success".
TEST(ImageTest, FullDiskIsAnErrorAndLeavesNothing) {
  const std::string dir = ::ann::testing::MakeTempDir("image_full_disk");
  cv::Mat noise(512, 512, CV_8UC3);
  cv::randu(noise, 0, 256);  // incompressible: about 768 KB as PNG
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = 64 << 10;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  absl::Status status = WriteImage(dir + "/noise.png", noise);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(std::string(status.message()).rfind(dir + "/noise.png: cannot write:", 0), 0u)
      << status.message();
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

}  // namespace
}  // namespace ann
