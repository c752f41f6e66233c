// How each C API function checks its required arguments, runs its body and
// reports the Status: a code, and a malloc'd message through `errmsg`.
#pragma once

#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <new>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace landfall::capi {

// A malloc'd copy, or null when memory ran out.
inline char* CopyString(absl::string_view s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

// As CopyString, for results a caller asked for.
inline char* CopyResult(absl::string_view s) {
  char* out = CopyString(s);
  if (out == nullptr) throw std::bad_alloc();
  return out;
}

struct Arg {
  const char* name;
  const void* value;
};

// Checks the required arguments, then runs `body` (returning absl::Status),
// and reports its status through the return code and `errmsg`.
template <typename Body>
int Call(const char* function, char** errmsg, std::initializer_list<Arg> args,
         Body&& body) {
  absl::Status status;
  for (const Arg& arg : args) {
    if (arg.value == nullptr) {
      status = absl::InvalidArgumentError(
          absl::StrCat(function, ": ", arg.name, " is NULL"));
      break;
    }
  }
  if (status.ok()) {
    // C callers cannot catch C++ exceptions: they end here.
    try {
      status = body();
    } catch (const std::bad_alloc&) {
      status = absl::ResourceExhaustedError(
          absl::StrCat(function, ": out of memory"));
    } catch (const std::exception& e) {
      status = absl::InternalError(absl::StrCat(function, ": ", e.what()));
    } catch (...) {
      status = absl::InternalError(absl::StrCat(function, ": exception"));
    }
  }
  if (errmsg != nullptr) {
    std::free(*errmsg);
    *errmsg = status.ok() ? nullptr : CopyString(status.message());
  }
  return static_cast<int>(status.code());
}

}  // namespace landfall::capi
