#include "lib/pipeline/spec_reader.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/json_util.h"
#include "lib/core/utf8.h"
#include "lib/pipeline/internal/read_file.h"
#include "lib/pipeline/yaml_reader.h"

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

// Where `field` (element `index`) was written, or `fallback` when `tree`
// does not know.
SpecLocation FieldLocation(const ParseInfoTree* tree,
                           const google::protobuf::FieldDescriptor* field,
                           int index, const SpecLocation& fallback) {
  if (tree == nullptr) return fallback;
  const google::protobuf::TextFormat::ParseLocation at =
      tree->GetLocation(field, index);
  if (at.line < 0) return fallback;
  return SpecLocation{fallback.file, at.line + 1, at.column + 1};
}

}  // namespace

void FindNonUtf8Strings(const google::protobuf::Message& message,
                        const ParseInfoTree* tree, const SpecLocation& where,
                        std::vector<SpecProblem>* problems) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const bool repeated = field->is_repeated();
    const int count = repeated ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      const int index = repeated ? i : -1;
      const SpecLocation at = FieldLocation(tree, field, index, where);
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        FindNonUtf8Strings(
            repeated ? reflection->GetRepeatedMessage(message, field, i)
                     : reflection->GetMessage(message, field),
            tree == nullptr ? nullptr : tree->GetTreeForNested(field, index),
            at, problems);
      } else if (field->type() == FieldDescriptor::TYPE_STRING) {
        std::string scratch;
        const std::string& value =
            repeated ? reflection->GetRepeatedStringReference(message, field, i,
                                                              &scratch)
                     : reflection->GetStringReference(message, field, &scratch);
        if (!IsValidUtf8(value)) {
          problems->push_back(SpecProblem{
              at, absl::StrCat(field->name(), " \"", absl::CEscape(value),
                               "\" is not UTF-8 text")});
        }
      }
    }
  }
}

absl::StatusOr<std::string> ReadSpecFile(const std::string& path) {
  return ReadRegularFile(path, kMaxSpecBytes, "spec file");
}

SpecFormat ResolveSpecFormat(SpecFormat format, absl::string_view file,
                             absl::string_view text) {
  if (format != SpecFormat::kAuto) return format;
  if (absl::EndsWithIgnoreCase(file, ".json")) return SpecFormat::kJson;
  if (absl::EndsWithIgnoreCase(file, ".yaml") ||
      absl::EndsWithIgnoreCase(file, ".yml")) {
    return SpecFormat::kYaml;
  }
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
  // protobuf logs some parse problems itself; a library keeps stderr quiet
  // and reports every problem in the status instead.
  google::protobuf::LogSilencer silence_protobuf;
  ParsedSpec parsed;
  std::vector<SpecProblem> syntax_problems;
  const SpecFormat resolved = ResolveSpecFormat(format, file, text);
  if (resolved == SpecFormat::kYaml) {
    parsed.locator =
        ReadYamlSpec(text, std::string(file), &parsed.spec, &syntax_problems);
  } else if (resolved == SpecFormat::kJson) {
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
    // The text parser takes any bytes in a string (raw or as escapes like
    // "\377"), but a proto3 string that is not UTF-8 cannot be stored.
    if (syntax_problems.empty()) {
      FindNonUtf8Strings(parsed.spec, tree.get(),
                         SpecLocation{std::string(file), 0, 0},
                         &syntax_problems);
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
