// A simple framing for structured fuzz inputs, read by the fuzzers and
// written by the seed writer (store_seeds.cc): little-endian integers of a
// fixed width, and byte strings as a 16-bit length and the bytes. Reading
// past the end yields zeros and empty strings, so every input is valid.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace landfall::fuzz {

class FuzzReader {
 public:
  FuzzReader(const uint8_t* data, size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}

  bool empty() const { return pos_ >= size_; }

  template <typename T>
  T Int() {
    uint64_t value = 0;
    for (size_t i = 0; i < sizeof(T) && pos_ < size_; ++i, ++pos_) {
      value |= uint64_t{static_cast<uint8_t>(data_[pos_])} << (8 * i);
    }
    return static_cast<T>(value);
  }

  std::string Bytes() {
    const size_t length = std::min<size_t>(Int<uint16_t>(), size_ - pos_);
    std::string out(data_ + pos_, length);
    pos_ += length;
    return out;
  }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

class FuzzWriter {
 public:
  template <typename T>
  void Int(T value) {
    const uint64_t bits = static_cast<uint64_t>(value);
    for (size_t i = 0; i < sizeof(T); ++i) {
      out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
    }
  }

  // REQUIRES: bytes.size() <= 65535.
  void Bytes(std::string_view bytes) {
    Int(static_cast<uint16_t>(bytes.size()));
    out_.append(bytes.data(), bytes.size());
  }

  const std::string& data() const { return out_; }

 private:
  std::string out_;
};

}  // namespace landfall::fuzz
