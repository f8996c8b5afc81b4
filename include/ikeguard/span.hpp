// SPDX-License-Identifier: MIT
// Span<T>: a pointer and a count, the part of C++20's std::span the burst calls take, for C++17.
#pragma once

#include <cstddef>
#include <iterator>
#include <type_traits>

namespace ikeguard {

/// A view of `size()` contiguous T, owned by the caller. Made from a pointer and a count, a
/// built-in array, or anything with data() and size() whose elements are T (std::vector,
/// std::array, C++20's std::span, a string of bytes). Span<const T> accepts const containers.
template <class T>
class Span {
  template <class Container>
  using data_of = decltype(std::data(std::declval<Container&>()));
  template <class Container>
  static constexpr bool views =
      std::is_convertible_v<data_of<Container>, T*> &&
      std::is_same_v<std::remove_cv_t<std::remove_pointer_t<data_of<Container>>>, std::remove_cv_t<T>>;

 public:
  constexpr Span() noexcept = default;
  constexpr Span(T* data, std::size_t size) noexcept : data_(data), size_(size) {}
  template <std::size_t N>
  constexpr Span(T (&array)[N]) noexcept : data_(array), size_(N) {}  // NOLINT: implicit by design
  template <class Container, class = std::enable_if_t<!std::is_array_v<std::remove_reference_t<Container>> &&
                                                      views<std::remove_reference_t<Container>>>>
  constexpr Span(Container&& container) noexcept  // NOLINT: implicit by design
      : data_(std::data(container)), size_(std::size(container)) {}

  constexpr T* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  /// Precondition: i < size().
  constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }
  constexpr T* begin() const noexcept { return data_; }
  constexpr T* end() const noexcept { return data_ + size_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ikeguard
