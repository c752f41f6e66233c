// DOT to SVG through Graphviz's `dot` program, run as a child process.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace landfall::cli {

// Runs `dot_command -Tsvg` (found on PATH when it has no slash) with `dot`
// on its standard input and returns what it writes. Unavailable when it
// cannot be started, exits with an error (its stderr in the message), or
// runs past `timeout` (it is then killed).
absl::StatusOr<std::string> DotToSvg(const std::string& dot_command,
                                     const std::string& dot,
                                     absl::Duration timeout);

}  // namespace landfall::cli
