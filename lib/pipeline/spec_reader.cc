#include "lib/pipeline/spec_reader.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/json_util.h"

namespace landfall::internal {
namespace {

// Collects text-format syntax errors as problems.
class ProblemCollector : public google::protobuf::io::ErrorCollector {
 public:
  ProblemCollector(absl::string_view file, std::vector<SpecProblem>* problems)
      : file_(file), problems_(problems) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    problems_->push_back(SpecProblem{
        SpecLocation{file_, line + 1, static_cast<int>(column) + 1}, message});
  }

 private:
  std::string file_;
  std::vector<SpecProblem>* problems_;
};

absl::Status FileError(const std::string& path, int error) {
  const std::string message =
      absl::StrCat("cannot read spec file ", path, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::UnavailableError(message);
  }
}

}  // namespace

absl::StatusOr<std::string> ReadSpecFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return FileError(path, errno);
  std::string contents;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) {
    contents.append(buffer, n);
  }
  const int error = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (error != 0) return FileError(path, error);
  return contents;
}

SpecFormat ResolveSpecFormat(SpecFormat format, absl::string_view file,
                             absl::string_view text) {
  if (format != SpecFormat::kAuto) return format;
  if (absl::EndsWithIgnoreCase(file, ".json")) return SpecFormat::kJson;
  if (absl::EndsWithIgnoreCase(file, ".textproto") ||
      absl::EndsWithIgnoreCase(file, ".txtpb") ||
      absl::EndsWithIgnoreCase(file, ".pbtxt")) {
    return SpecFormat::kTextProto;
  }
  return absl::StartsWith(absl::StripLeadingAsciiWhitespace(text), "{")
             ? SpecFormat::kJson
             : SpecFormat::kTextProto;
}

absl::StatusOr<ParsedSpec> ParseSpecText(absl::string_view text,
                                         SpecFormat format,
                                         absl::string_view file,
                                         std::vector<SpecProblem>* problems) {
  ParsedSpec parsed;
  std::vector<SpecProblem> syntax_problems;
  if (ResolveSpecFormat(format, file, text) == SpecFormat::kJson) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto status = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(text.data(), text.size()), &parsed.spec,
        options);
    if (!status.ok()) {
      syntax_problems.push_back(SpecProblem{
          SpecLocation{std::string(file), 0, 0},
          absl::StrCat("invalid JSON spec: ", status.message().as_string())});
    } else {
      parsed.locator = MakeJsonLocator(std::string(file), text, parsed.spec);
    }
  } else {
    auto tree = std::make_unique<google::protobuf::TextFormat::ParseInfoTree>();
    ProblemCollector collector(file, &syntax_problems);
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&collector);
    parser.WriteLocationsTo(tree.get());
    google::protobuf::io::ArrayInputStream input(text.data(),
                                                 static_cast<int>(text.size()));
    if (!parser.Parse(&input, &parsed.spec) && syntax_problems.empty()) {
      syntax_problems.push_back(SpecProblem{
          SpecLocation{std::string(file), 0, 0}, "invalid text format spec"});
    }
    parsed.locator = MakeTextProtoLocator(std::string(file), std::move(tree));
  }
  if (!syntax_problems.empty()) {
    if (problems != nullptr) {
      problems->insert(problems->end(), syntax_problems.begin(),
                       syntax_problems.end());
    }
    return ProblemsToStatus(syntax_problems);
  }
  return parsed;
}

absl::Status ProblemsToStatus(const std::vector<SpecProblem>& problems) {
  return absl::InvalidArgumentError(absl::StrJoin(
      problems, "\n", [](std::string* out, const SpecProblem& problem) {
        out->append(problem.ToString());
      }));
}

}  // namespace landfall::internal
