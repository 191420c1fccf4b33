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
  EXPECT_NE(bad.status().message().find(dir + "/broken.png: not a decodable image"),
            std::string::npos);
  auto missing = ReadColorImage(dir + "/missing.png");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.png: cannot open file"), std::string::npos);
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
