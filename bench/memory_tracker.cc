#include "bench/memory_tracker.h"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

// AddressSanitizer brings its own operator new, which finds bugs ours would
// hide; GCC and Clang announce it differently.
#if defined(__SANITIZE_ADDRESS__)
#define LANDFALL_TRACK_HEAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LANDFALL_TRACK_HEAP 0
#endif
#endif
#ifndef LANDFALL_TRACK_HEAP
#define LANDFALL_TRACK_HEAP 1
#endif

#if LANDFALL_TRACK_HEAP

namespace landfall::memory_tracker {
namespace {

// Constant-initialized, so allocations made before main() count too.
std::atomic<size_t> live_bytes{0};
std::atomic<size_t> peak_bytes{0};

// Counts the usable size, which free() gives back, so that what is counted
// on allocation is exactly what is uncounted on release without a header.
void Count(void* p) {
  const size_t bytes = malloc_usable_size(p);
  const size_t live =
      live_bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  size_t peak = peak_bytes.load(std::memory_order_relaxed);
  while (live > peak && !peak_bytes.compare_exchange_weak(
                            peak, live, std::memory_order_relaxed)) {
  }
}

constexpr std::align_val_t kDefaultAlignment{__STDCPP_DEFAULT_NEW_ALIGNMENT__};

// Allocates as the standard operator new does, retrying after each call of
// the new-handler; nullptr once there is none.
void* Allocate(size_t size, std::align_val_t alignment) {
  if (size == 0) size = 1;  // Distinct non-null pointers for empty objects.
  const auto align = static_cast<size_t>(alignment);
  for (;;) {
    void* p = nullptr;
    if (align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      p = std::malloc(size);
    } else if (posix_memalign(&p, align, size) != 0) {
      p = nullptr;
    }
    if (p != nullptr) {
      Count(p);
      return p;
    }
    const std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) return nullptr;
    handler();
  }
}

void* AllocateOrThrow(size_t size, std::align_val_t alignment) {
  void* p = Allocate(size, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* AllocateNoThrow(size_t size, std::align_val_t alignment) noexcept {
  try {
    return Allocate(size, alignment);
  } catch (const std::bad_alloc&) {  // Thrown by a new-handler.
    return nullptr;
  }
}

void Release(void* p) noexcept {
  if (p == nullptr) return;
  live_bytes.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
  std::free(p);
}

}  // namespace

bool Enabled() { return true; }
size_t LiveBytes() { return live_bytes.load(std::memory_order_relaxed); }
size_t PeakBytes() { return peak_bytes.load(std::memory_order_relaxed); }
void ResetPeak() { peak_bytes.store(LiveBytes(), std::memory_order_relaxed); }

}  // namespace landfall::memory_tracker

// Every replaceable form, not only the four that libstdc++'s defaults forward
// to, so the count holds with any standard library.
namespace tracker = ::landfall::memory_tracker;
using tracker::kDefaultAlignment;

void* operator new(size_t size) {
  return tracker::AllocateOrThrow(size, kDefaultAlignment);
}
void* operator new[](size_t size) {
  return tracker::AllocateOrThrow(size, kDefaultAlignment);
}
void* operator new(size_t size, std::align_val_t alignment) {
  return tracker::AllocateOrThrow(size, alignment);
}
void* operator new[](size_t size, std::align_val_t alignment) {
  return tracker::AllocateOrThrow(size, alignment);
}
void* operator new(size_t size, const std::nothrow_t& /*tag*/) noexcept {
  return tracker::AllocateNoThrow(size, kDefaultAlignment);
}
void* operator new[](size_t size, const std::nothrow_t& /*tag*/) noexcept {
  return tracker::AllocateNoThrow(size, kDefaultAlignment);
}
void* operator new(size_t size, std::align_val_t alignment,
                   const std::nothrow_t& /*tag*/) noexcept {
  return tracker::AllocateNoThrow(size, alignment);
}
void* operator new[](size_t size, std::align_val_t alignment,
                     const std::nothrow_t& /*tag*/) noexcept {
  return tracker::AllocateNoThrow(size, alignment);
}

void operator delete(void* p) noexcept { tracker::Release(p); }
void operator delete[](void* p) noexcept { tracker::Release(p); }
void operator delete(void* p, size_t /*size*/) noexcept { tracker::Release(p); }
void operator delete[](void* p, size_t /*size*/) noexcept {
  tracker::Release(p);
}
void operator delete(void* p, std::align_val_t /*alignment*/) noexcept {
  tracker::Release(p);
}
void operator delete[](void* p, std::align_val_t /*alignment*/) noexcept {
  tracker::Release(p);
}
void operator delete(void* p, size_t /*size*/,
                     std::align_val_t /*alignment*/) noexcept {
  tracker::Release(p);
}
void operator delete[](void* p, size_t /*size*/,
                       std::align_val_t /*alignment*/) noexcept {
  tracker::Release(p);
}
void operator delete(void* p, const std::nothrow_t& /*tag*/) noexcept {
  tracker::Release(p);
}
void operator delete[](void* p, const std::nothrow_t& /*tag*/) noexcept {
  tracker::Release(p);
}
void operator delete(void* p, std::align_val_t /*alignment*/,
                     const std::nothrow_t& /*tag*/) noexcept {
  tracker::Release(p);
}
void operator delete[](void* p, std::align_val_t /*alignment*/,
                       const std::nothrow_t& /*tag*/) noexcept {
  tracker::Release(p);
}

#else  // !LANDFALL_TRACK_HEAP

namespace landfall::memory_tracker {

bool Enabled() { return false; }
size_t LiveBytes() { return 0; }
size_t PeakBytes() { return 0; }
void ResetPeak() {}

}  // namespace landfall::memory_tracker

#endif  // LANDFALL_TRACK_HEAP
