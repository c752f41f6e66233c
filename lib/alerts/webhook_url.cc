// Webhook URLs read from the environment or a file, so that a secret need
// not be in argv (where ps and /proc show it to every user).
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "landfall/notifier.h"
#include "lib/pipeline/internal/read_file.h"

namespace landfall {
namespace {

// A URL file holds one line; anything much longer is not one.
constexpr int64_t kMaxUrlFileBytes = 64 * 1024;

// `value` trimmed, when it is an http(s) URL; else InvalidArgument with
// `where` and never the value.
absl::StatusOr<std::string> CheckedUrl(absl::string_view value,
                                       const std::string& where) {
  const std::string url(absl::StripAsciiWhitespace(value));
  if (url.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " is empty"));
  }
  if (!absl::StartsWithIgnoreCase(url, "http://") &&
      !absl::StartsWithIgnoreCase(url, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " does not hold an http:// or https:// URL"));
  }
  return url;
}

}  // namespace

absl::StatusOr<std::string> WebhookUrlFromEnv(const std::string& name) {
  const std::string where = absl::StrCat("environment variable ", name);
  const char* value = name.empty() ? nullptr : std::getenv(name.c_str());
  if (value == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(where, " is not set"));
  }
  return CheckedUrl(value, where);
}

absl::StatusOr<std::string> WebhookUrlFromFile(const std::string& path) {
  absl::StatusOr<std::string> text =
      internal::ReadRegularFile(path, kMaxUrlFileBytes, "webhook URL file");
  if (!text.ok()) return text.status();
  return CheckedUrl(*text, absl::StrCat("webhook URL file ", path));
}

}  // namespace landfall
