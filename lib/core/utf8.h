// UTF-8 checks for text that must be UTF-8: JSON output, attribute names.
#pragma once

#include <cstddef>
#include <string_view>

namespace landfall::internal {

// The length of the well-formed UTF-8 character `text` starts with (RFC
// 3629: no overlong forms, no surrogates, nothing past U+10FFFF); 0 when it
// starts with none or is empty.
size_t Utf8CharLength(std::string_view text);

bool IsValidUtf8(std::string_view text);

}  // namespace landfall::internal
