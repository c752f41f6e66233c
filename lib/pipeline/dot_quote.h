// DOT quoting. Header-only, so that the CLI (which cannot see the library's
// hidden symbols) quotes the demo's state graph by the same rules.
#pragma once

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace landfall::internal {

// `text` for inside a DOT quoted string: `"` and `\` escaped (DOT reads
// `\"` as a quote, and escapes like `\n` in labels start with `\`).
inline std::string DotEscaped(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"\"", "\\\""}});
}

// `text` as a DOT quoted string (an ID or an attribute value).
inline std::string DotQuoted(absl::string_view text) {
  return absl::StrCat("\"", DotEscaped(text), "\"");
}

}  // namespace landfall::internal
