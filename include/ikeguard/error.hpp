// SPDX-License-Identifier: MIT
// Error values: every fallible call reports one of these, with or without exceptions.
#pragma once

#include <ikeguard/errors.h>  // IKEGUARD_ERRORS(X): the list of names, numbers and messages
#include <ikeguard/export.hpp>

#include <cstdint>
#include <optional>
#include <utility>

namespace ikeguard {

/// What went wrong. `ok` is zero; every other value names one invalid input or resource.
enum class Errc : std::uint8_t {
#define IKEGUARD_ERRC_ENUM(name, number, message) name = number,
  IKEGUARD_ERRORS(IKEGUARD_ERRC_ENUM)
#undef IKEGUARD_ERRC_ENUM
};

/// A static, human-readable sentence for `code` ("unknown error" for values outside the list).
constexpr const char* message(Errc code) noexcept {
  switch (code) {
#define IKEGUARD_ERRC_MESSAGE(name, number, text) \
  case Errc::name:                                \
    return text;
    IKEGUARD_ERRORS(IKEGUARD_ERRC_MESSAGE)
#undef IKEGUARD_ERRC_MESSAGE
  }
  return "unknown error";
}

/// The identifier of `code` ("invalid_backoff"), for logs and formatting.
constexpr const char* name(Errc code) noexcept {
  switch (code) {
#define IKEGUARD_ERRC_NAME(id, number, text) \
  case Errc::id:                             \
    return #id;
    IKEGUARD_ERRORS(IKEGUARD_ERRC_NAME)
#undef IKEGUARD_ERRC_NAME
  }
  return "unknown";
}

/// Either a value or the error that prevented it. Never both, never neither.
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)), error_(Errc::ok) {}  // NOLINT: implicit by design
  Result(Errc error) : error_(error) {}                            // NOLINT: implicit by design

  bool ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }

  /// Errc::ok when a value is held.
  Errc error() const noexcept { return error_; }
  const char* error_message() const noexcept { return message(error_); }

  /// Precondition: ok().
  T& value() & noexcept { return *value_; }
  const T& value() const& noexcept { return *value_; }
  T&& value() && noexcept { return std::move(*value_); }
  T* operator->() noexcept { return &*value_; }
  const T* operator->() const noexcept { return &*value_; }
  T& operator*() & noexcept { return *value_; }
  const T& operator*() const& noexcept { return *value_; }

 private:
  std::optional<T> value_;
  Errc error_;
};

}  // namespace ikeguard
