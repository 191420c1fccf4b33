// CRC-32 (zip's and zlib's: the IEEE polynomial, reflected) at memory speed. zlib's crc32 reads
// 2.3 GB/s here, which made checking every record of an R-101 checkpoint cost 70% of reading
// it; this one folds 64 bytes per step with carry-less multiplication (PCLMULQDQ, Intel's "Fast
// CRC Computation for Generic Polynomials Using PCLMULQDQ"), chosen at run time, and falls back
// to zlib on CPUs without it. Results are zlib's, bit for bit (crc32_test).
//
//   uint32_t crc = Crc32(0, data, size);       // as zlib's crc32(0, data, size)
//   crc = Crc32(crc, more, more_size);         // continued
#ifndef ANN_UTIL_CRC32_H_
#define ANN_UTIL_CRC32_H_

#include <cstddef>
#include <cstdint>

namespace ann {

// The CRC-32 of `size` bytes at `data` continuing `crc` (0 to start), as zlib's crc32().
uint32_t Crc32(uint32_t crc, const void* data, size_t size);

// zlib's crc32 alone, for comparison (tests, benchmarks).
uint32_t Crc32Zlib(uint32_t crc, const void* data, size_t size);

}  // namespace ann

#endif  // ANN_UTIL_CRC32_H_
