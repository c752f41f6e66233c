#include "lib/pipeline/sql_template.h"

#include <cctype>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace landfall::internal {

absl::StatusOr<SqlParameter> ParsePlaceholder(
    absl::string_view sql, size_t* pos,
    absl::FunctionRef<bool(absl::string_view)> is_input) {
  const size_t end = sql.find('}', *pos);
  if (end == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("unterminated placeholder ", sql.substr(*pos, 20)));
  }
  const absl::string_view name = sql.substr(*pos + 1, end - *pos - 1);
  SqlParameter parameter;
  if (name == "partition") {
    parameter.kind = SqlParameter::Kind::kPartition;
  } else if (name == "table") {
    parameter.kind = SqlParameter::Kind::kTable;
  } else if (name == "attempt") {
    parameter.kind = SqlParameter::Kind::kAttempt;
  } else if (absl::StartsWith(name, "input:")) {
    parameter.kind = SqlParameter::Kind::kInput;
    parameter.input = std::string(name.substr(6));
    if (!is_input(parameter.input)) {
      return absl::InvalidArgumentError(
          absl::StrCat("placeholder {", name, "}: \"", parameter.input,
                       "\" is not an upstream of the table"));
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown placeholder {", name,
        "} (known: {partition}, {table}, {attempt}, {input:NAME})"));
  }
  *pos = end + 1;
  return parameter;
}

absl::Status CheckNoPlaceholderIn(absl::string_view literal,
                                  absl::string_view bound_as) {
  for (absl::string_view name :
       {"{partition}", "{table}", "{attempt}", "{input:"}) {
    if (absl::StrContains(literal, name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "placeholder ", name == "{input:" ? "{input:...}" : name,
          " inside the string literal ", literal,
          " would not be replaced: write it unquoted (it is bound as ",
          bound_as, " parameter)"));
    }
  }
  return absl::OkStatus();
}

size_t AddParameter(std::vector<SqlParameter>* list,
                    const SqlParameter& parameter) {
  for (size_t i = 0; i < list->size(); ++i) {
    if ((*list)[i].kind == parameter.kind &&
        (*list)[i].input == parameter.input) {
      return i;
    }
  }
  list->push_back(parameter);
  return list->size() - 1;
}

namespace {

bool IsIdentifierChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '$' || static_cast<unsigned char>(c) >= 0x80;
}

// Splits and rewrites one `sql` text; one pass, PostgreSQL's lexical rules.
class SqlCompiler {
 public:
  SqlCompiler(absl::string_view sql,
              absl::FunctionRef<bool(absl::string_view)> is_input)
      : sql_(sql), is_input_(is_input) {}

  absl::StatusOr<std::vector<SqlStatement>> Run() {
    while (pos_ < sql_.size()) {
      absl::Status step = Step();
      if (!step.ok()) return step;
    }
    FinishStatement();
    if (statements_.empty()) {
      return absl::InvalidArgumentError("sql holds no statement");
    }
    return std::move(statements_);
  }

 private:
  absl::Status Step() {
    const char c = sql_[pos_];
    const absl::string_view rest = sql_.substr(pos_);
    if (absl::StartsWith(rest, "--")) {
      const size_t end = sql_.find('\n', pos_);
      Copy(end == absl::string_view::npos ? sql_.size() : end);
      return absl::OkStatus();
    }
    if (absl::StartsWith(rest, "/*")) return BlockComment();
    if (c == '\'') return StringLiteral();
    if (c == '"') return Quoted('"', "quoted identifier");
    if (c == '$' && !AfterIdentifier()) return Dollar();
    if (c == ';') {
      ++pos_;
      FinishStatement();
      return absl::OkStatus();
    }
    if (c == '{') return Placeholder();
    Copy(pos_ + 1);
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) has_code_ = true;
    return absl::OkStatus();
  }

  bool AfterIdentifier() const {
    return pos_ > 0 && IsIdentifierChar(sql_[pos_ - 1]);
  }

  // Appends sql_[pos_, end) to the statement.
  void Copy(size_t end) {
    current_.text.append(sql_.data() + pos_, end - pos_);
    pos_ = end;
  }

  absl::Status BlockComment() {  // Nested, as PostgreSQL's are.
    size_t i = pos_ + 2;
    int depth = 1;
    while (i < sql_.size() && depth > 0) {
      if (sql_.compare(i, 2, "/*") == 0) {
        ++depth;
        i += 2;
      } else if (sql_.compare(i, 2, "*/") == 0) {
        --depth;
        i += 2;
      } else {
        ++i;
      }
    }
    if (depth > 0) return Unterminated("comment");
    Copy(i);
    return absl::OkStatus();
  }

  absl::Status StringLiteral() {
    // E'...' takes backslash escapes; standard strings do not.
    const bool escapes = pos_ > 0 &&
                         (sql_[pos_ - 1] == 'E' || sql_[pos_ - 1] == 'e') &&
                         (pos_ < 2 || !IsIdentifierChar(sql_[pos_ - 2]));
    const size_t start = pos_;
    size_t i = pos_ + 1;
    while (true) {
      if (i >= sql_.size()) return Unterminated("string literal");
      if (escapes && sql_[i] == '\\') {
        i += 2;
        continue;
      }
      if (sql_[i] == '\'') {
        if (i + 1 < sql_.size() && sql_[i + 1] == '\'') {
          i += 2;
          continue;
        }
        break;
      }
      ++i;
    }
    absl::Status free =
        CheckNoPlaceholderIn(sql_.substr(start, i + 1 - start), "a text");
    if (!free.ok()) return free;
    Copy(i + 1);
    has_code_ = true;
    return absl::OkStatus();
  }

  absl::Status Quoted(char quote, absl::string_view what) {
    size_t i = pos_ + 1;
    while (true) {
      if (i >= sql_.size()) return Unterminated(what);
      if (sql_[i] == quote) {
        if (i + 1 < sql_.size() && sql_[i + 1] == quote) {
          i += 2;
          continue;
        }
        break;
      }
      ++i;
    }
    Copy(i + 1);
    has_code_ = true;
    return absl::OkStatus();
  }

  // $tag$...$tag$ (tag empty or an identifier), or $1 written by hand.
  absl::Status Dollar() {
    size_t i = pos_ + 1;
    if (i < sql_.size() && absl::ascii_isdigit(sql_[i])) {
      return absl::InvalidArgumentError(
          "positional parameters ($1, ...) are not allowed: write "
          "placeholders such as {partition}, which become them");
    }
    while (i < sql_.size() && IsIdentifierChar(sql_[i]) && sql_[i] != '$') {
      ++i;
    }
    if (i >= sql_.size() || sql_[i] != '$') {  // Not a dollar quote.
      Copy(pos_ + 1);
      has_code_ = true;
      return absl::OkStatus();
    }
    const absl::string_view tag = sql_.substr(pos_, i + 1 - pos_);
    const size_t end = sql_.find(tag, i + 1);
    if (end == absl::string_view::npos) {
      return Unterminated(absl::StrCat("dollar-quoted string ", tag));
    }
    Copy(end + tag.size());
    has_code_ = true;
    return absl::OkStatus();
  }

  absl::Status Placeholder() {
    absl::StatusOr<SqlParameter> parameter =
        ParsePlaceholder(sql_, &pos_, is_input_);
    if (!parameter.ok()) return parameter.status();
    absl::StrAppend(&current_.text, "$", NumberOf(*parameter));
    has_code_ = true;
    return absl::OkStatus();
  }

  // The $n of `parameter` in the current statement, added on first use.
  size_t NumberOf(const SqlParameter& parameter) {
    return AddParameter(&current_.parameters, parameter) + 1;
  }

  void FinishStatement() {
    if (has_code_) {
      current_.text = std::string(absl::StripAsciiWhitespace(current_.text));
      statements_.push_back(std::move(current_));
    }
    current_ = SqlStatement();
    has_code_ = false;
  }

  static absl::Status Unterminated(absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("unterminated ", what));
  }

  const absl::string_view sql_;
  absl::FunctionRef<bool(absl::string_view)> is_input_;
  size_t pos_ = 0;
  SqlStatement current_;
  bool has_code_ = false;  // current_ holds more than blanks and comments.
  std::vector<SqlStatement> statements_;
};

}  // namespace

absl::StatusOr<std::vector<SqlStatement>> CompileSql(
    absl::string_view sql,
    absl::FunctionRef<bool(absl::string_view)> is_input) {
  return SqlCompiler(sql, is_input).Run();
}

}  // namespace landfall::internal
