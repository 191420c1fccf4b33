#include "ann/util/crc32.h"

#include <immintrin.h>

#include <algorithm>

#include "zlib.h"

namespace ann {
namespace {

#define ANN_PCLMUL __attribute__((target("pclmul,sse4.1"), always_inline)) inline

ANN_PCLMUL __m128i Load(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// x's low half times k's low plus x's high half times k's high, plus `next`.
ANN_PCLMUL __m128i Fold(__m128i x, __m128i k, __m128i next) {
  return _mm_xor_si128(
      _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next);
}

// Folds `size` bytes (a multiple of 16, at least 64) into the bit-reflected CRC register `crc`
// (the pre-inverted value); returns the register, still to be inverted. The constants are
// x^(n) mod P(x) for the fold distances, bit-reflected, with P(x) = 0x104C11DB7 and its Barrett
// constant, as the white paper gives them.
__attribute__((target("pclmul,sse4.1"))) uint32_t FoldPclmul(const uint8_t* data, size_t size,
                                                             uint32_t crc) {
  alignas(16) static const uint64_t k512[] = {0x0154442bd4, 0x01c6e41596};  // fold by 4 x 128
  alignas(16) static const uint64_t k128[] = {0x01751997d0, 0x00ccaa009e};  // fold by 128
  alignas(16) static const uint64_t k64[] = {0x0163cd6124, 0};              // 96 -> 64 bits
  alignas(16) static const uint64_t barrett[] = {0x01db710641, 0x01f7011641};
  __m128i x1 = _mm_xor_si128(Load(data), _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i x2 = Load(data + 16), x3 = Load(data + 32), x4 = Load(data + 48);
  data += 64;
  size -= 64;
  __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(k512));
  for (; size >= 64; data += 64, size -= 64) {
    x1 = Fold(x1, k, Load(data));
    x2 = Fold(x2, k, Load(data + 16));
    x3 = Fold(x3, k, Load(data + 32));
    x4 = Fold(x4, k, Load(data + 48));
  }
  k = _mm_load_si128(reinterpret_cast<const __m128i*>(k128));
  x1 = Fold(x1, k, x2);
  x1 = Fold(x1, k, x3);
  x1 = Fold(x1, k, x4);
  for (; size >= 16; data += 16, size -= 16) x1 = Fold(x1, k, Load(data));
  // 128 -> 64 bits.
  const __m128i low32 = _mm_setr_epi32(~0, 0, ~0, 0);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), _mm_clmulepi64_si128(x1, k, 0x10));
  k = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(k64));
  x1 =
      _mm_xor_si128(_mm_srli_si128(x1, 4), _mm_clmulepi64_si128(_mm_and_si128(x1, low32), k, 0x00));
  // Barrett reduction to 32 bits.
  k = _mm_load_si128(reinterpret_cast<const __m128i*>(barrett));
  __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), k, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), k, 0x00);
  return static_cast<uint32_t>(_mm_extract_epi32(_mm_xor_si128(x1, t), 1));
}

bool HasPclmul() {
  static const bool has = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  return has;
}

}  // namespace

uint32_t Crc32Zlib(uint32_t crc, const void* data, size_t size) {
  const auto* bytes = static_cast<const Bytef*>(data);
  uLong value = crc;
  // zlib takes a uInt length.
  for (size_t done = 0; done < size;) {
    const size_t chunk = std::min<size_t>(size - done, 1u << 30);
    value = crc32(value, bytes + done, static_cast<uInt>(chunk));
    done += chunk;
  }
  return static_cast<uint32_t>(value);
}

uint32_t Crc32(uint32_t crc, const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (size >= 64 && HasPclmul()) {
    const size_t folded = size & ~size_t{15};
    crc = ~FoldPclmul(bytes, folded, ~crc);
    bytes += folded;
    size -= folded;
  }
  return Crc32Zlib(crc, bytes, size);
}

}  // namespace ann
