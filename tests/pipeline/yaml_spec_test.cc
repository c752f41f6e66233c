// YAML specs: the same protos as text format and JSON, errors at file:line.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "landfall/pipeline.h"
#include "tests/pipeline/spec_problems.h"
#include "tests/pipeline/temp_file.h"
#include "yaml-cpp/yaml.h"

namespace landfall {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

void EmitMessage(const Message& message, YAML::Emitter* out);

void EmitValue(const Message& message, const FieldDescriptor* field, int index,
               YAML::Emitter* out) {
  const Reflection& r = *message.GetReflection();
  const bool repeated = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return EmitMessage(repeated ? r.GetRepeatedMessage(message, field, index)
                                  : r.GetMessage(message, field),
                         out);
    case FieldDescriptor::CPPTYPE_STRING:
      *out << (repeated ? r.GetRepeatedString(message, field, index)
                        : r.GetString(message, field));
      return;
    case FieldDescriptor::CPPTYPE_BOOL:
      *out << (repeated ? r.GetRepeatedBool(message, field, index)
                        : r.GetBool(message, field));
      return;
    case FieldDescriptor::CPPTYPE_INT32:
      *out << (repeated ? r.GetRepeatedInt32(message, field, index)
                        : r.GetInt32(message, field));
      return;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      *out << (repeated ? r.GetRepeatedDouble(message, field, index)
                        : r.GetDouble(message, field));
      return;
    case FieldDescriptor::CPPTYPE_ENUM:
      *out << (repeated ? r.GetRepeatedEnum(message, field, index)
                        : r.GetEnum(message, field))
                  ->name();
      return;
    default:
      ADD_FAILURE() << "no YAML for " << field->full_name();
  }
}

// Block-style YAML of `message`, written by walking it by reflection: a
// converter independent of the reader under test.
void EmitMessage(const Message& message, YAML::Emitter* out) {
  const Reflection& r = *message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r.ListFields(message, &fields);
  *out << YAML::BeginMap;
  for (const FieldDescriptor* field : fields) {
    *out << YAML::Key << field->name() << YAML::Value;
    if (field->is_map()) {
      *out << YAML::BeginMap;
      for (int i = 0; i < r.FieldSize(message, field); ++i) {
        const Message& entry = r.GetRepeatedMessage(message, field, i);
        EmitValue(entry, field->message_type()->map_key(), -1, out);
        *out << YAML::Value;
        EmitValue(entry, field->message_type()->map_value(), -1, out);
      }
      *out << YAML::EndMap;
    } else if (field->is_repeated()) {
      *out << YAML::BeginSeq;
      for (int i = 0; i < r.FieldSize(message, field); ++i) {
        EmitValue(message, field, i, out);
      }
      *out << YAML::EndSeq;
    } else {
      EmitValue(message, field, -1, out);
    }
  }
  *out << YAML::EndMap;
}

std::string ToYaml(const PipelineSpec& spec) {
  YAML::Emitter out;
  EmitMessage(spec, &out);
  return out.c_str();
}

std::string ToJson(const PipelineSpec& spec) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  EXPECT_TRUE(
      google::protobuf::util::MessageToJsonString(spec, &json, options).ok());
  return json;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Loads the text-format spec, converts it to JSON and YAML, and expects all
// three to load to equal protos.
void ExpectSameProtoInEveryFormat(const std::string& text,
                                  const std::string& name) {
  auto from_text = Pipeline::FromText(text, SpecFormat::kTextProto, name);
  ASSERT_TRUE(from_text.ok()) << from_text.status();
  const PipelineSpec& spec = (*from_text)->spec();
  auto from_json =
      Pipeline::FromText(ToJson(spec), SpecFormat::kJson, name + ".json");
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  auto from_yaml =
      Pipeline::FromText(ToYaml(spec), SpecFormat::kYaml, name + ".yaml");
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status();
  google::protobuf::util::MessageDifferencer differ;
  std::string diff;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(spec, (*from_yaml)->spec())) << diff;
  EXPECT_TRUE(differ.Compare(spec, (*from_json)->spec())) << diff;
}

TEST(YamlSpecTest, DemoSpecLoadsToOneProtoFromTextJsonAndYaml) {
  ExpectSameProtoInEveryFormat(
      ReadFile(LANDFALL_SOURCE_DIR "/examples/recruit/pipeline.textproto"),
      "recruit");
}

TEST(YamlSpecTest, BigQueryEtlFixtureLoadsToOneProtoFromTextJsonAndYaml) {
  const std::string path =
      LANDFALL_FIXTURES_DIR "/bigquery-etl/pipeline-main.textproto";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is absent";
  ExpectSameProtoInEveryFormat(ReadFile(path), "bigquery-etl");
}

constexpr char kHandWritten[] =
    R"(# One spec, written the way people write YAML.
name: analytics
priority_gate: PIPELINE
priority_class: [{name: etl}, {name: adhoc, gate_holds_retrying: false}]
pool:
  - name: redshift
    slots: 500
defaults:
  priority_class: etl
  retry: &retry {max_attempts: 5, initialBackoff: 30s, multiplier: 2.5}
table:
  - {name: jalan.reservations, source: true}
  - name: dwh.reservations
    upstream: jalan.reservations
    retry: *retry
  - name: mart.sales
    upstream:
      - dwh.reservations
      - jalan.reservations
    trigger: ANY
    poolSlots: 2
    description:
    labels: {owner: bi, "no": "yes"}
)";

TEST(YamlSpecTest, ReadsListsMapsAliasesCamelCaseAndNulls) {
  std::vector<SpecProblem> problems;
  auto p =
      Pipeline::FromText(kHandWritten, SpecFormat::kYaml, "p.yaml", &problems);
  ASSERT_TRUE(p.ok()) << p.status();
  const PipelineSpec& spec = (*p)->spec();
  EXPECT_EQ(spec.name(), "analytics");
  EXPECT_EQ(spec.priority_gate(), PipelineSpec::PIPELINE);
  ASSERT_EQ(spec.priority_class_size(), 2);
  EXPECT_FALSE(spec.priority_class(0).has_gate_holds_retrying());
  EXPECT_FALSE(spec.priority_class(1).gate_holds_retrying());
  EXPECT_EQ(spec.pool(0).slots(), 500);
  EXPECT_EQ(spec.defaults().retry().initial_backoff(), "30s");
  // The alias repeats the anchored map.
  EXPECT_EQ(spec.table(1).retry().max_attempts(), 5);
  EXPECT_EQ(spec.table(1).retry().multiplier(), 2.5);
  // One scalar for a repeated scalar is a one-element list.
  EXPECT_THAT(spec.table(1).upstream(), ElementsAre("jalan.reservations"));
  EXPECT_THAT(spec.table(2).upstream(),
              ElementsAre("dwh.reservations", "jalan.reservations"));
  EXPECT_EQ(spec.table(2).trigger(), TableSpec::ANY);
  EXPECT_EQ(spec.table(2).pool_slots(), 2);
  EXPECT_EQ(spec.table(2).description(), "");
  // A string field takes the scalar's text: no "Norway problem".
  EXPECT_EQ(spec.table(2).labels().at("no"), "yes");
  EXPECT_EQ(spec.table(2).labels().at("owner"), "bi");
  // Fields map back to their lines.
  EXPECT_EQ((*p)->table(0).defined_at.line, 12);
  EXPECT_EQ((*p)->table(1).defined_at.line, 13);
  EXPECT_EQ((*p)->table(1).defined_at.column, 5);
  EXPECT_EQ((*p)->table(2).defined_at.line, 16);
}

TEST(YamlSpecTest, ValidationProblemsCarryTheYamlLine) {
  EXPECT_THAT(Problems(R"(table:
  - name: a
    source: true
  - name: b
    upstream: [a, c]
  - name: d
    upstream: b
    pool_slots: 0
)",
                       SpecFormat::kYaml, "p.yaml"),
              ElementsAre("p.yaml:4:5: table \"b\": unknown upstream \"c\" "
                          "(did you mean \"a\"?)",
                          "p.yaml:8:5: table \"d\": pool_slots must be at "
                          "least 1 (got 0)"));
}

TEST(YamlSpecTest, UnknownKeyIsNamedWithItsLineAndASuggestion) {
  EXPECT_THAT(Problems("table:\n  - name: a\n    sorce: true\n",
                       SpecFormat::kYaml, "p.yaml"),
              ElementsAre("p.yaml:3:5: unknown key \"sorce\" in table[0] (did "
                          "you mean \"source\"?)"));
}

TEST(YamlSpecTest, WrongTypesAreRefusedWithTheirLines) {
  EXPECT_THAT(
      Problems(R"(name: [x]
pool: {name: p, slots: many}
table:
  - name: a
    source: yes
    trigger: SOME
  - name: b
    pool_slots: 99999999999
  - upstream: {a: b}
defaults: 3
)",
               SpecFormat::kYaml, "p.yaml"),
      ElementsAre(
          "p.yaml:1:7: name: expected a scalar, found a list",
          "p.yaml:2:7: pool: expected a list, found a map",
          "p.yaml:5:13: table[0].source: \"yes\" is not true or false",
          "p.yaml:6:14: table[0].trigger: unknown value \"SOME\"",
          "p.yaml:8:17: table[1].pool_slots: \"99999999999\" is not a 32-bit "
          "integer",
          "p.yaml:9:15: table[2].upstream: expected a list, found a map",
          "p.yaml:10:11: defaults: expected a map, found a scalar"));
}

TEST(YamlSpecTest, KeysWrittenTwiceAndTwoKindsOfOneSinkAreRefused) {
  EXPECT_THAT(
      Problems(R"(name: a
name: b
sink:
  - name: s
    postgres: {conninfo: "service=dwh"}
    bigquery: {project: p}
table:
  - name: t
    labels: {k: 1, k: 2}
)",
               SpecFormat::kYaml, "p.yaml"),
      ElementsAre("p.yaml:2:1: name: key written twice",
                  "p.yaml:6:5: sink[0].bigquery: kind is already set by "
                  "another key",
                  "p.yaml:9:20: table[0].labels[\"k\"]: key written twice"));
}

TEST(YamlSpecTest, SyntaxErrorsAndSecondDocumentsCarryTheLine) {
  EXPECT_THAT(Problems("table:\n  - name: a\n    source: [true\n",
                       SpecFormat::kYaml, "p.yaml"),
              ElementsAre(HasSubstr("p.yaml:4:1: invalid YAML: ")));
  EXPECT_THAT(Problems("table: [{name: a, source: true}]\n---\nname: b\n",
                       SpecFormat::kYaml, "p.yaml"),
              ElementsAre("p.yaml:2:1: a spec is one YAML document; this is "
                          "a second one"));
  EXPECT_THAT(
      Problems("- a\n- b\n", SpecFormat::kYaml, "p.yaml"),
      ElementsAre("p.yaml:1:1: the spec: expected a map, found a list"));
}

// Found by yaml_spec_fuzzer: on this text yaml-cpp's LoadAll finds empty
// documents without end, and reading hung.
TEST(YamlSpecTest, TextYamlCppFindsEndlessDocumentsInIsRefusedNotHung) {
  EXPECT_THAT(
      Problems(
          R"yaml({", ?source": true}, {"name": "b", "upstream": ["a"]l  "trmaxAttemptsigger": table": [{"name": "a", "source": true}, {"name": "b", "upstream": ["a"]l  "trmaxAttemptsigger": "NY"}]}
)yaml",
          SpecFormat::kYaml, "p.yaml"),
      ElementsAre(HasSubstr("p.yaml:")));
}

TEST(YamlSpecTest, StringThatIsNotUtf8IsRefusedWhereWritten) {
  EXPECT_THAT(Problems("table:\n  - name: \"a\"\n    description: x\xff\n",
                       SpecFormat::kYaml, "p.yaml"),
              ElementsAre("p.yaml:3:18: table[0].description: \"x\\377\" is "
                          "not UTF-8 text"));
}

TEST(YamlSpecTest, AliasBombIsRefusedQuickly) {
  // 3,000 aliases of a table whose upstream lists 3,000 names: nine million
  // nodes from some 40 KB.
  std::string text = "table:\n  - &t {name: x, upstream: &u [a";
  for (int i = 1; i < 3000; ++i) text += ", a";
  text += "]}\n";
  for (int i = 1; i < 3000; ++i) text += "  - *t\n";
  const absl::Time start = absl::Now();
  EXPECT_THAT(Problems(text, SpecFormat::kYaml, "p.yaml"),
              ElementsAre(HasSubstr("expands to too many YAML nodes")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(YamlSpecFileTest, YamlAndYmlNamesAreReadAsYaml) {
  for (const char* name : {"spec.yaml", "spec.yml", "SPEC.YAML"}) {
    auto p = Pipeline::FromFile(
        WriteTempFile(name, "table:\n  - name: s\n    source: true\n"));
    ASSERT_TRUE(p.ok()) << name << ": " << p.status();
    EXPECT_EQ((*p)->table_count(), 1);
  }
}

TEST(YamlSpecFileTest, ProblemsNameTheFileAndLine) {
  const std::string path =
      WriteTempFile("bad.yaml", "table:\n  - name: a\n    upstream: b\n");
  auto p = Pipeline::FromFile(path);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()),
              HasSubstr(path + ":2:5: table \"a\": unknown upstream \"b\""));
}

}  // namespace
}  // namespace landfall
