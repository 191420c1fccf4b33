// The one cache of oneDNN primitives: a convolution's primitive (and its reordered weights) is
// built once per key (input size, post-ops, quantization) and shared by every later call, from
// any thread. DnnlConv (float32 / bfloat16) and Int8Conv (ann/quant) each hold one.
//
//   PrimitiveCache<Key, Primitive> cache_;
//   std::shared_ptr<Primitive> p = cache_.Get(key, [&] { return Build(key); });
#ifndef ANN_DNNL_PRIMITIVE_CACHE_H_
#define ANN_DNNL_PRIMITIVE_CACHE_H_

#include <map>
#include <memory>
#include <mutex>

namespace ann {

template <typename Key, typename Primitive>
class PrimitiveCache {
 public:
  // The primitive of `key`, made by `build()` (returning std::shared_ptr<Primitive>) the first
  // time. Builds run under the cache's lock: two threads never build the same key twice.
  template <typename Build>
  std::shared_ptr<Primitive> Get(const Key& key, const Build& build) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    std::shared_ptr<Primitive> primitive = build();
    cache_.emplace(key, primitive);
    return primitive;
  }

 private:
  mutable std::mutex mutex_;
  mutable std::map<Key, std::shared_ptr<Primitive>> cache_;
};

}  // namespace ann

#endif  // ANN_DNNL_PRIMITIVE_CACHE_H_
