// OptionalBox: an optional value held on the heap, one pointer wide.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace landfall {

// An optional T kept through a pointer: one pointer wide however large T
// is, where std::optional<T> holds a whole T and a flag even when empty.
// For a field that is seldom set in a struct kept many times over (a
// Pipeline keeps one Table per table, and few tables have a deadline): an
// empty box costs its pointer, a full one a heap allocation of T besides.
//
// A value type with std::optional's interface for reading: it converts
// from T, std::optional<T> and std::nullopt, and to std::optional<T>, so
// code written for std::optional<T> mostly compiles unchanged. Copying
// copies the T (deep); moving moves the pointer and leaves the source
// empty (a moved-from std::optional keeps a moved-from T instead). Not
// thread-safe for writes; const access from several threads is safe, as
// for std::optional.
template <typename T>
class OptionalBox {
 public:
  using value_type = T;

  // Empty.
  OptionalBox() noexcept = default;
  // The constructors from std::nullopt, T and std::optional<T> are
  // implicit, as std::optional's are.
  // NOLINTNEXTLINE(google-explicit-constructor)
  OptionalBox(std::nullopt_t /*none*/) noexcept {}
  // Holding a copy of `value`, or `value` moved.
  // NOLINTNEXTLINE(google-explicit-constructor)
  OptionalBox(const T& value) : value_(std::make_unique<T>(value)) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  OptionalBox(T&& value) : value_(std::make_unique<T>(std::move(value))) {}
  // Empty when `value` is; else holding a copy of its T, or its T moved.
  // NOLINTNEXTLINE(google-explicit-constructor)
  OptionalBox(const std::optional<T>& value)
      : value_(value ? std::make_unique<T>(*value) : nullptr) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  OptionalBox(std::optional<T>&& value)
      : value_(value ? std::make_unique<T>(*std::move(value)) : nullptr) {}

  OptionalBox(const OptionalBox& other)
      : value_(other ? std::make_unique<T>(*other) : nullptr) {}
  OptionalBox(OptionalBox&& other) noexcept = default;
  OptionalBox& operator=(const OptionalBox& other) {
    if (this == &other) return *this;
    if (!other) {
      value_.reset();
    } else if (value_) {
      *value_ = *other;
    } else {
      value_ = std::make_unique<T>(*other);
    }
    return *this;
  }
  OptionalBox& operator=(OptionalBox&& other) noexcept = default;
  ~OptionalBox() = default;

  // A copy of the value, or std::nullopt when empty; implicit, so that a
  // box passes where a std::optional<T> is taken.
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator std::optional<T>() const {
    return value_ ? std::optional<T>(*value_) : std::nullopt;
  }

  bool has_value() const noexcept { return value_ != nullptr; }
  explicit operator bool() const noexcept { return has_value(); }

  // REQUIRES: has_value().
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }

  // The value. As std::optional::value, throws std::bad_optional_access
  // when empty; the library itself never calls it on an empty box.
  T& value() & {
    if (!value_) throw std::bad_optional_access();
    return *value_;
  }
  const T& value() const& {
    if (!value_) throw std::bad_optional_access();
    return *value_;
  }
  // The value, or `fallback` when empty.
  template <typename U>
  T value_or(U&& fallback) const& {
    return value_ ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

  // Holds a T made from `args`, dropping any value held before.
  template <typename... Args>
  T& emplace(Args&&... args) {
    value_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *value_;
  }
  // Empty.
  void reset() noexcept { value_.reset(); }

  // Equal when both are empty, or both hold values that compare equal
  // (T's operator==, needed only when these are used). Either side may be
  // a box, a T, a std::optional<T> or std::nullopt.
  friend bool operator==(const OptionalBox& a, const OptionalBox& b) {
    return Equal(Get(a), Get(b));
  }
  friend bool operator==(const OptionalBox& a, std::nullopt_t /*none*/) {
    return !a.has_value();
  }
  friend bool operator==(std::nullopt_t /*none*/, const OptionalBox& b) {
    return !b.has_value();
  }
  friend bool operator==(const OptionalBox& a, const T& b) {
    return Equal(Get(a), &b);
  }
  friend bool operator==(const T& a, const OptionalBox& b) {
    return Equal(&a, Get(b));
  }
  friend bool operator==(const OptionalBox& a, const std::optional<T>& b) {
    return Equal(Get(a), Get(b));
  }
  friend bool operator==(const std::optional<T>& a, const OptionalBox& b) {
    return Equal(Get(a), Get(b));
  }
  friend bool operator!=(const OptionalBox& a, const OptionalBox& b) {
    return !(a == b);
  }
  friend bool operator!=(const OptionalBox& a, std::nullopt_t /*none*/) {
    return a.has_value();
  }
  friend bool operator!=(std::nullopt_t /*none*/, const OptionalBox& b) {
    return b.has_value();
  }
  friend bool operator!=(const OptionalBox& a, const T& b) { return !(a == b); }
  friend bool operator!=(const T& a, const OptionalBox& b) { return !(a == b); }
  friend bool operator!=(const OptionalBox& a, const std::optional<T>& b) {
    return !(a == b);
  }
  friend bool operator!=(const std::optional<T>& a, const OptionalBox& b) {
    return !(a == b);
  }

 private:
  static const T* Get(const OptionalBox& box) { return box.value_.get(); }
  static const T* Get(const std::optional<T>& value) {
    return value ? &*value : nullptr;
  }
  static bool Equal(const T* a, const T* b) {
    if (a == nullptr || b == nullptr) return a == b;
    return *a == *b;
  }

  std::unique_ptr<T> value_;  // Null: empty.
};

}  // namespace landfall
