// Compiles a table's `sql` into statements with bound parameters. For
// PostgreSQL and Redshift the text is split on `;` and its placeholders
// ({partition}, ...) replaced by $1, $2, ... in PostgreSQL's lexical rules;
// for BigQuery it stays one script and the placeholders become named
// parameters (@partition, ...) in GoogleSQL's lexical rules. Either way a
// `;` or `{` inside a string literal, a quoted identifier or a comment is
// text.
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

// `sql` as one BigQuery script: one statement whose placeholders are
// replaced by @NAME (BigQueryParameterName), `;` kept (BigQuery runs a
// multi-statement script as one job). GoogleSQL's lexical rules: '...',
// "...", '''...''' and """...""" strings (r/b prefixes; a backslash always
// takes the next character), `quoted identifiers`, and #, -- and /* */
// comments. InvalidArgument as CompileSql, and for an @name written by hand
// (@@system variables are fine) or two {input:NAME} whose parameter names
// are the same.
absl::StatusOr<std::vector<SqlStatement>> CompileBigQuerySql(
    absl::string_view sql, absl::FunctionRef<bool(absl::string_view)> is_input);

// The name (without @) `parameter` has in BigQuery: "partition", "table",
// "attempt", or "input_" + the upstream's name with every character outside
// [A-Za-z0-9_] replaced by "_".
std::string BigQueryParameterName(const SqlParameter& parameter);

// Shared by both dialects.
// The placeholder starting at sql[*pos] ('{'); moves *pos past its '}'.
absl::StatusOr<SqlParameter> ParsePlaceholder(
    absl::string_view sql, size_t* pos,
    absl::FunctionRef<bool(absl::string_view)> is_input);
// InvalidArgument when string `literal` holds a placeholder; `bound_as`
// says how one is bound ("a text").
absl::Status CheckNoPlaceholderIn(absl::string_view literal,
                                  absl::string_view bound_as);
// The index of `parameter` in `list`, appended on first use.
size_t AddParameter(std::vector<SqlParameter>* list,
                    const SqlParameter& parameter);

}  // namespace landfall::internal
