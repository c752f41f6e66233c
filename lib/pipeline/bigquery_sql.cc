// CompileBigQuerySql: one pass over a GoogleSQL script.
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/pipeline/sql_template.h"

namespace landfall::internal {
namespace {

bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
}

class BigQueryCompiler {
 public:
  BigQueryCompiler(absl::string_view sql,
                   absl::FunctionRef<bool(absl::string_view)> is_input)
      : sql_(sql), is_input_(is_input) {}

  absl::StatusOr<std::vector<SqlStatement>> Run() {
    while (pos_ < sql_.size()) {
      absl::Status step = Step();
      if (!step.ok()) return step;
    }
    if (!has_code_) return absl::InvalidArgumentError("sql holds no statement");
    script_.text = std::string(absl::StripAsciiWhitespace(script_.text));
    std::vector<SqlStatement> statements;
    statements.push_back(std::move(script_));
    return statements;
  }

 private:
  absl::Status Step() {
    const char c = sql_[pos_];
    const absl::string_view rest = sql_.substr(pos_);
    if (c == '#' || absl::StartsWith(rest, "--")) {
      const size_t end = sql_.find('\n', pos_);
      Copy(end == absl::string_view::npos ? sql_.size() : end);
      return absl::OkStatus();
    }
    if (absl::StartsWith(rest, "/*")) {  // Not nested in GoogleSQL.
      const size_t end = sql_.find("*/", pos_ + 2);
      if (end == absl::string_view::npos) return Unterminated("comment");
      Copy(end + 2);
      return absl::OkStatus();
    }
    has_code_ =
        has_code_ || !absl::ascii_isspace(static_cast<unsigned char>(c));
    if (c == '\'' || c == '"') return StringLiteral(c);
    if (c == '`') return Quoted();
    if (c == '@') return At();
    if (c == '{') return Placeholder();
    Copy(pos_ + 1);
    return absl::OkStatus();
  }

  void Copy(size_t end) {
    script_.text.append(sql_.data() + pos_, end - pos_);
    pos_ = end;
  }

  // Where the literal opening at pos_ with `quote` ends (one past it), or
  // npos. A backslash takes the next character, in raw strings too (a raw
  // string cannot end with an odd number of backslashes).
  size_t LiteralEnd(absl::string_view quote) const {
    size_t i = pos_ + quote.size();
    while (i < sql_.size()) {
      if (sql_[i] == '\\') {
        i += 2;
      } else if (sql_.compare(i, quote.size(), quote) == 0) {
        return i + quote.size();
      } else {
        ++i;
      }
    }
    return absl::string_view::npos;
  }

  absl::Status StringLiteral(char c) {
    const std::string triple(3, c);
    const bool is_triple = sql_.compare(pos_, 3, triple) == 0;
    const size_t end = LiteralEnd(is_triple ? absl::string_view(triple)
                                            : sql_.substr(pos_, 1));
    if (end == absl::string_view::npos) return Unterminated("string literal");
    absl::Status free =
        CheckNoPlaceholderIn(sql_.substr(pos_, end - pos_), "a STRING query");
    if (!free.ok()) return free;
    Copy(end);
    return absl::OkStatus();
  }

  absl::Status Quoted() {
    const size_t end = LiteralEnd("`");
    if (end == absl::string_view::npos) {
      return Unterminated("quoted identifier");
    }
    Copy(end);
    return absl::OkStatus();
  }

  // @@system_variable is GoogleSQL's; @name would be a parameter nothing
  // binds.
  absl::Status At() {
    if (sql_.compare(pos_, 2, "@@") == 0) {
      Copy(pos_ + 2);
      return absl::OkStatus();
    }
    if (pos_ + 1 < sql_.size() && IsNameChar(sql_[pos_ + 1])) {
      return absl::InvalidArgumentError(
          "query parameters (@name) are not allowed: write placeholders "
          "such as {partition}, which become them");
    }
    Copy(pos_ + 1);
    return absl::OkStatus();
  }

  absl::Status Placeholder() {
    absl::StatusOr<SqlParameter> parameter =
        ParsePlaceholder(sql_, &pos_, is_input_);
    if (!parameter.ok()) return parameter.status();
    const std::string name = BigQueryParameterName(*parameter);
    for (const SqlParameter& other : script_.parameters) {
      if (BigQueryParameterName(other) == name &&
          other.input != parameter->input) {
        return absl::InvalidArgumentError(absl::StrCat(
            "placeholders {input:", other.input, "} and {input:",
            parameter->input, "} would both be the parameter @", name));
      }
    }
    AddParameter(&script_.parameters, *parameter);
    absl::StrAppend(&script_.text, "@", name);
    return absl::OkStatus();
  }

  static absl::Status Unterminated(absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("unterminated ", what));
  }

  const absl::string_view sql_;
  absl::FunctionRef<bool(absl::string_view)> is_input_;
  size_t pos_ = 0;
  SqlStatement script_;
  bool has_code_ = false;  // script_ holds more than blanks and comments.
};

}  // namespace

absl::StatusOr<std::vector<SqlStatement>> CompileBigQuerySql(
    absl::string_view sql,
    absl::FunctionRef<bool(absl::string_view)> is_input) {
  return BigQueryCompiler(sql, is_input).Run();
}

std::string BigQueryParameterName(const SqlParameter& parameter) {
  switch (parameter.kind) {
    case SqlParameter::Kind::kPartition:
      return "partition";
    case SqlParameter::Kind::kTable:
      return "table";
    case SqlParameter::Kind::kAttempt:
      return "attempt";
    case SqlParameter::Kind::kInput:
      break;
  }
  std::string name = absl::StrCat("input_", parameter.input);
  for (char& c : name) {
    if (!IsNameChar(c)) c = '_';
  }
  return name;
}

}  // namespace landfall::internal
