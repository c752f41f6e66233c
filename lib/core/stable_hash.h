// A 64-bit hash that is the same in every process and on every platform:
// what the state keeps of a text that must be recognised after a restart.
// (absl::Hash is seeded per process.)
#pragma once

#include <cstdint>
#include <string_view>

namespace landfall::internal {

inline constexpr uint64_t kFnv1aOffset = 14695981039346656037ull;

// FNV-1a over `data`, continuing from `hash`.
inline uint64_t Fnv1a64(std::string_view data, uint64_t hash = kFnv1aOffset) {
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace landfall::internal
