// Compiles a table's `sql` into statements with bound parameters: the text is
// split on `;` and its placeholders ({partition}, ...) replaced by $1, $2, ...
// in PostgreSQL's lexical rules, so that a `;` or `{` inside a string
// literal, a quoted identifier, a dollar-quoted body or a comment is text.
#pragma once

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "landfall/pipeline.h"

namespace landfall::internal {

// The statements of `sql`, empty ones (only blanks and comments) left out.
// InvalidArgument naming the problem (not where; callers add that): an
// unknown placeholder, {input:NAME} for which `is_input(NAME)` is false, a
// placeholder inside a string literal (it would not be replaced), a `$1`
// written by hand, an unterminated literal or comment, or no statement.
absl::StatusOr<std::vector<SqlStatement>> CompileSql(
    absl::string_view sql, absl::FunctionRef<bool(absl::string_view)> is_input);

}  // namespace landfall::internal
