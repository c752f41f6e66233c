// ChunkedVector: a vector that grows in fixed chunks of 2^kChunkBits
// elements. Elements never move, growth has no 2x slack, and indexing is a
// shift and a mask (std::deque's blocks of 512 bytes make it a division).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace landfall::internal {

template <typename T, int kChunkBits = 10>
class ChunkedVector {
 public:
  static constexpr size_t kChunk = size_t{1} << kChunkBits;

  size_t size() const { return size_; }
  T& operator[](size_t i) { return chunks_[i >> kChunkBits][i & (kChunk - 1)]; }
  const T& operator[](size_t i) const {
    return chunks_[i >> kChunkBits][i & (kChunk - 1)];
  }
  void push_back(const T& value) {
    if ((size_ & (kChunk - 1)) == 0) {
      chunks_.push_back(std::make_unique<T[]>(kChunk));
    }
    (*this)[size_++] = value;
  }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t size_ = 0;
};

}  // namespace landfall::internal
