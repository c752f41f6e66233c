# Runs the landfall command as a user would and checks its output and exit
# codes.  cmake -DLANDFALL=... -DSOURCE_DIR=... -DWORK_DIR=... -P cli_check.cmake
set(recruit ${SOURCE_DIR}/examples/recruit/pipeline.textproto)
set(here ${SOURCE_DIR}/tests/cli)
file(MAKE_DIRECTORY ${WORK_DIR})

# expect(<exit code> <regex on stdout+stderr> <args...>)
function(expect code pattern)
  execute_process(COMMAND ${LANDFALL} ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL code)
    message(FATAL_ERROR "landfall ${ARGN}: exit ${rc}, expected ${code}\n${out}${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${pattern}")
    message(FATAL_ERROR "landfall ${ARGN}: output does not match ${pattern}:\n${out}${err}")
  endif()
endfunction()

expect(0 "^recruit: 60 tables \\(19 sources, 41 derived\\), [0-9]+ edges, 3 classes, 3 pools, longest path [0-9]+\n$"
       validate ${recruit})
expect(1 "bad.textproto:5:1: duplicate table \"orders\" \\(first defined at line 1\\)"
       validate ${here}/bad.textproto)
expect(1 "bad.textproto:2:1: cycle: payments -> refunds -> payments"
       validate ${here}/bad.textproto)
expect(1 "bad.textproto:4:1: table \"mart\": unknown upstream \"order\" \\(did you mean \"orders\"\\?\\)"
       validate ${here}/bad.textproto)
expect(2 "No such file or directory" validate ${WORK_DIR}/missing.textproto)
expect(2 "" validate)
expect(0 "validate" --help)
expect(0 "" dot ${recruit} -o ${WORK_DIR}/recruit.dot)
file(READ ${WORK_DIR}/recruit.dot dot)
if(NOT dot MATCHES "^digraph \"recruit\" {")
  message(FATAL_ERROR "dot output is not a digraph")
endif()
expect(0 "{\"duplicate\":\"e1\"}\n.*\"table\":\"dwh.jalan_reservations\",\"partition\":\"2018-11-03\",\"attempt\":1,\"claimed_at\":\"2018-11-04T01:00:00Z\",\"finished_at\":\"2018-11-04T01:01:00Z\",\"outcome\":\"SUCCEEDED\".*{\"summary\":{\"attempts\":[0-9]+,\"succeeded\":[0-9]+,\"dead\":\\[\\],\"blocked\":\\[\\],\"makespan\":\"[0-9hms]+\"}}\n$"
       simulate ${recruit} --events ${here}/events.jsonl)
expect(2 "cannot read" simulate ${recruit} --events ${WORK_DIR}/missing.jsonl)
expect(1 "event e1: unknown table \"jalan.reservation\"" simulate ${recruit}
       --events ${here}/events-unknown-table.jsonl)
expect(1 "bad.textproto:1: " simulate ${recruit} --events ${here}/bad.textproto)
