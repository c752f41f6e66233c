# Runs the landfall command as a user would and checks its output and exit
# codes.  cmake -DLANDFALL=... -DSOURCE_DIR=... -DWORK_DIR=... -P cli_check.cmake
set(recruit ${SOURCE_DIR}/examples/recruit/pipeline.textproto)
set(here ${SOURCE_DIR}/tests/cli)
file(MAKE_DIRECTORY ${WORK_DIR})

# expect(<exit code> <regex on stdout+stderr> <args...>); a command that
# runs past a minute fails (`run` runs until stopped).
function(expect code pattern)
  execute_process(COMMAND ${LANDFALL} ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
  if(NOT rc EQUAL code)
    message(FATAL_ERROR "landfall ${ARGN}: exit ${rc}, expected ${code}\n${out}${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${pattern}")
    message(FATAL_ERROR "landfall ${ARGN}: output does not match ${pattern}:\n${out}${err}")
  endif()
  set(expect_output "${out}${err}" PARENT_SCOPE)
endfunction()

# expect_no(<regex> <args...>): exit 0, and nothing matches the regex.
function(expect_no pattern)
  execute_process(COMMAND ${LANDFALL} ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR "${out}${err}" MATCHES "${pattern}")
    message(FATAL_ERROR "landfall ${ARGN}: exit ${rc}, or output matches ${pattern}:\n${out}${err}")
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
# A string that is not UTF-8 could never be deployed, and a name with a
# control character never addressed: both are refused where written.
file(WRITE ${WORK_DIR}/nonutf8.textproto "table { name: \"a\" source: true }
table { name: \"b\\377\" upstream: \"a\" }
table { name: \"sr\\000c\" source: true }
")
expect(1 "nonutf8.textproto:2:9: name \"b.377\" is not UTF-8 text\n$"
       validate ${WORK_DIR}/nonutf8.textproto)
expect(1 "^[^\n]*nonutf8.textproto:2:9: name \"b.377\" is not UTF-8 text\n$"
       init --state ${WORK_DIR}/nonutf8.db ${WORK_DIR}/nonutf8.textproto)
file(WRITE ${WORK_DIR}/control.textproto "table { name: \"a\" source: true }
table { name: \"sr\\000c\" upstream: \"a\" }
")
expect(1 "control.textproto:2:9: table name \"sr.000c\" holds a control character"
       dot ${WORK_DIR}/control.textproto)
# Usage errors exit 2 and say what is wrong in readable terms.
expect(2 "^landfall: unknown subcommand \"bogus\"\n" bogus)
expect(2 "unknown subcommand \"simulat\" \\(did you mean \"simulate\"\\?\\)" simulat)
expect(2 "--max: must be a whole number from 1 to 2147483647 \\(got \"0\"\\)"
       claim --state ${WORK_DIR}/usage.db --worker w --max 0)
expect(2 "--attempt: must be a whole number from 1 to 9223372036854775807 \\(got \"99999999999999999999\"\\)"
       heartbeat --state ${WORK_DIR}/usage.db --table t --attempt 99999999999999999999)
expect(2 "--workers: must be a whole number from 0 to 2147483647" simulate ${recruit}
       --events ${here}/events.jsonl --workers 4294967296)
expect(2 "--until: invalid time \"tomorrow\"" simulate ${recruit}
       --events ${here}/events.jsonl --until tomorrow)
expect(2 "--at: invalid time \"noon\"" ingest --state ${WORK_DIR}/usage.db
       --table t --event-id e1 --at noon)
expect(2 "--since: invalid time \"later\"" history --state ${WORK_DIR}/usage.db --since later)
# A warning does not stop a spec: it is said on stderr, with its place.
file(WRITE ${WORK_DIR}/warned.textproto "name: \"w\"
pool { name: \"wh\" slots: 2 }
table { name: \"src\" source: true }
table { name: \"load\" upstream: \"src\" pool: \"wh\" retry { initial_backoff: \"1h\" } }
")
expect(0 "^w: 2 tables \\(1 source, 1 derived\\), 1 edge, 1 class, 1 pool, longest path 1\n[^\n]*/warned.textproto:4:57: warning: table \"load\": retry.initial_backoff \\(1h\\) exceeds retry.max_backoff \\(15m\\): every retry waits 15m\n$"
       validate ${WORK_DIR}/warned.textproto)
file(REMOVE ${WORK_DIR}/warned.db)
expect(0 "^[^\n]*warned.db: pipeline \"w\", 2 tables, history at #0\n[^\n]*/warned.textproto:4:57: warning: "
       init ${WORK_DIR}/warned.textproto --state ${WORK_DIR}/warned.db)
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
# A directory is not an empty file, and a device is not a spec.
expect(2 "cannot read file ${WORK_DIR}: it is a directory" simulate ${recruit} --events ${WORK_DIR})
expect(2 "cannot read file ${WORK_DIR}: it is a directory" simulate ${recruit}
       --events ${here}/events.jsonl --script ${WORK_DIR})
expect(2 "cannot read spec file /dev/zero: it is not a regular file" validate /dev/zero)
expect(1 "event e1: unknown table \"jalan.reservation\" \\(did you mean \"jalan.reservations\"\\?\\)" simulate ${recruit}
       --events ${here}/events-unknown-table.jsonl)
expect(1 "bad.textproto:1: " simulate ${recruit} --events ${here}/bad.textproto)
# A bad line anywhere is refused before anything runs: nothing printed, no
# state file made.
file(READ ${here}/events.jsonl good_events)
file(WRITE ${WORK_DIR}/late-bad.jsonl "${good_events}{\"event_id\":\"e9\",\"table\":\"jalan.reservations\",\"at\":\"2018-11-05T01:00:00Z\"}\n")
execute_process(COMMAND ${LANDFALL} simulate ${recruit} --events ${WORK_DIR}/late-bad.jsonl
                --state ${WORK_DIR}/late-bad.db
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT out STREQUAL "" OR EXISTS ${WORK_DIR}/late-bad.db
   OR NOT err MATCHES "late-bad.jsonl:[0-9]+: event e9: table \"jalan.reservations\" is partitioned")
  message(FATAL_ERROR "simulate with a bad last line: exit ${rc}\n${out}${err}")
endif()

# --- A state file driven as a shell-script host and an operator would. ---
set(db ${WORK_DIR}/state.db)
file(REMOVE ${db} ${db}-wal ${db}-shm ${db}-queue)
set(task --table dwh.jalan_reservations --partition 2018-11-03)
expect(2 "no state store at [^\n]*state.db; create one with `landfall init SPEC --state " status --state ${db})
expect(0 "state.db: pipeline \"recruit\", 60 tables, history at #0\n$"
       init ${recruit} --state ${db})
expect(0 "e1: made ready .*dwh.jalan_reservations/2018-11-03.*\ne1: duplicate\n"
       ingest --state ${db} --events ${here}/events.jsonl)
expect(0 "^e1: duplicate\n$" ingest --state sqlite:${db} --table jalan.reservations
       --partition 2018-11-03 --event-id e1)
expect(2 "cannot read file ${WORK_DIR}: it is a directory" ingest --state ${db} --events ${WORK_DIR})
# A bad line anywhere in the file: refused, naming it, before any is recorded.
file(WRITE ${WORK_DIR}/events-bad-line.jsonl
  "{\"event_id\":\"e7\",\"table\":\"jalan.reservations\",\"partition\":\"2018-11-07\"}\n\n"
  "{\"event_id\":\"e8\",\"table\":\"jalan.reservation\",\"partition\":\"2018-11-07\"}\n")
set(bad_line_db ${WORK_DIR}/bad-line.db)
file(REMOVE ${bad_line_db} ${bad_line_db}-wal ${bad_line_db}-shm)
expect(1 "events-bad-line.jsonl:3: event e8: unknown table \"jalan.reservation\""
       ingest --spec ${recruit} --state ${bad_line_db}
       --events ${WORK_DIR}/events-bad-line.jsonl)
expect(0 "^e7: made ready " ingest --state ${bad_line_db}
       --table jalan.reservations --partition 2018-11-07 --event-id e7)
expect(1 "unknown table \"jalan.reservation\" \\(did you mean \"jalan.reservations\"\\?\\)" ingest --state ${db}
       --table jalan.reservation --partition 2018-11-03 --event-id e9)
# Each input lists the objects landed since the task last consumed it.
expect(0 "^{\"table\":\"dwh.jalan_reservations\",\"partition\":\"2018-11-03\",\"attempt\":1,\"lease_deadline\":\"[-0-9T:.]+Z\",\"pool\":\"redshift\",\"class\":\"etl\",\"sink\":\"redshift_copy\",\"inputs\":\\[{\"table\":\"jalan.reservations\",\"partition\":\"2018-11-03\",\"version\":1,\"origins\":\\[\"s3://lake/jalan/reservations/2018-11-03\"\\],\"origins_complete\":true}\\]}\n$"
       claim --state ${db} --worker w1 --pool redshift)
expect(0 "^$" claim --state ${db} --worker w1 --pool redshift)
expect(0 "attempt 1: lease extended; now RUNNING" heartbeat --state ${db} ${task}
       --attempt 1)
expect(1 "stale" heartbeat --state ${db} ${task} --attempt 2)
expect(0 "attempt 1: FATAL; now DEAD" complete --state ${db} ${task} --attempt 1
       --outcome fatal --message "no such schema")
expect(0 "^dwh.jalan_reservations/2018-11-03 attempt 1: no such schema\n$"
       dlq --state ${db} list)
expect(0 "DEAD: dead after 1 attempt;" explain --state ${db}
       dwh.jalan_reservations 2018-11-03)
expect(0 "redriven" dlq --state ${db} redrive dwh.jalan_reservations 2018-11-03)
expect(0 "^the dead letter is empty\n$" dlq --state ${db} list)
expect(0 "^$" dlq --state ${db} list --json)
expect(1 "unknown table \"nope\"" explain --state ${db} nope 2018-11-03)
expect(0 "paused class etl" pause --state ${db} --class etl)
expect(0 "dwh.jalan_reservations/2018-11-03 +PAUSED.*\n1 task: 1 PAUSED\n$"
       status --state ${db} --table dwh.jalan_reservations)
expect(0 "resumed class etl" resume --state ${db} --class etl)
expect(2 "give --table or --class" pause --state ${db})
# A source has no tasks: pausing it would do nothing, so it is refused.
expect(1 "table \"jalan.reservations\" is a source table" pause --state ${db}
       --table jalan.reservations)
expect_no("paused" history --state ${db} --table jalan.reservations)
expect(0 "\"state\":\"READY\"" status --state ${db} --state-filter ready --json)
expect(2 "" status --state ${db} --state-filter sleepy)
# Marts with a max_lag never built are stale: exit 3, for a monitor.
expect(3 "{\"table\":\"jalan.reservations\",\"latest_partition\":\"2018-11-03\",\"last_update\":\"2018-11-04T01:00:00Z\".*\"table\":\"mart.jalan_daily_bookings\",[^\n]*\"stale\":true}"
       freshness --state ${db} --json)
expect(0 "jalan.reservations +2018-11-03 +2018-11-04T01:00:00Z +[0-9hm]+ +- +- +- +-\n$"
       freshness --state ${db} --table jalan.reservations)
expect(0 "claimed dwh.jalan_reservations/2018-11-03 attempt 1 by w1.*dead dwh.jalan_reservations/2018-11-03 attempt 1 by w1: no such schema"
       history --state ${db} --table dwh.jalan_reservations)
expect(0 "{\"seq\":1,\"at\":\"[-0-9T:.]+Z\",\"kind\":\"arrival\",\"table\":\"jalan.reservations\",.*\"landed_at\":\"2018-11-04T01:00:00Z\"}"
       history --state ${db} --json)
execute_process(COMMAND ${LANDFALL} history --state ${db} --follow TIMEOUT 2
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT out MATCHES "#1 [-0-9T:.]+Z arrival jalan.reservations/2018-11-03")
  message(FATAL_ERROR "history --follow printed:\n${out}${err}")
endif()
# A compatible change of spec deploys; an incompatible one changes nothing.
file(READ ${recruit} spec)
file(WRITE ${WORK_DIR}/added.textproto "${spec}\ntable { name: \"dwh.new\" upstream: \"jalan.users\" }\n")
expect(0 "60 tables" init ${recruit} --state ${db})
expect(0 "61 tables" init ${WORK_DIR}/added.textproto --state ${db})
expect(0 "pipeline_updated: 1 table added \\(dwh.new\\)" history --state ${db})
string(REPLACE "upstream: \"jalan.reservations\" sink: \"redshift_copy\""
       "upstream: \"jalan.users\" sink: \"redshift_copy\"" moved "${spec}")
file(WRITE ${WORK_DIR}/moved.textproto "${moved}")
expect(1 "table \"dwh.jalan_reservations\" has task states, and its upstreams change"
       init ${WORK_DIR}/moved.textproto --state ${db})
expect(0 "61 tables" init ${WORK_DIR}/added.textproto --state ${db})
# deploy: a changed join adopted or rebuilt, removals forced, dry runs.
set(ddb ${WORK_DIR}/deploy.db)
file(REMOVE ${ddb} ${ddb}-wal ${ddb}-shm ${ddb}-queue)
set(base "name: \"d\"\ntable { name: \"a\" source: true }\ntable { name: \"b\" source: true }\n")
file(WRITE ${WORK_DIR}/d1.textproto "${base}table { name: \"m\" upstream: \"a\" }\ntable { name: \"n\" upstream: \"m\" }\n")
file(WRITE ${WORK_DIR}/d2.textproto "${base}table { name: \"m\" upstream: [\"a\", \"b\"] }\ntable { name: \"n\" upstream: \"m\" }\n")
file(WRITE ${WORK_DIR}/d3.textproto "${base}table { name: \"m\" upstream: [\"a\", \"b\"] }\n")
expect(0 "" init ${WORK_DIR}/d1.textproto --state ${ddb})
expect(0 "" ingest --state ${ddb} --table a --partition p1 --event-id e1)
expect(0 "" ingest --state ${ddb} --table b --partition p1 --event-id e2)
expect(0 "" claim --state ${ddb} --worker w)
expect(0 "" complete --state ${ddb} --table m --partition p1 --attempt 1)
expect(0 "" complete --state ${ddb} --table m --partition p1 --attempt 1)
expect(1 "already ended: it succeeded" complete --state ${ddb} --table m
       --partition p1 --attempt 1 --outcome FATAL)
expect(1 "table \"m\" has task states, and its upstreams change from \\[a\\] to \\[a, b\\]: adopt it .*choose with: landfall deploy"
       init ${WORK_DIR}/d2.textproto --state ${ddb})
expect(0 "^would deploy pipeline \"d\": 1 table changed \\(m\\)\n  table m changed: its upstreams change from \\[a\\] to \\[a, b\\] \\(rebuilt: every partition is due\\)\nwould make 1 task ready:\n  m/p1\n$"
       deploy ${WORK_DIR}/d2.textproto --state ${ddb} --rebuild m --dry-run)
expect(0 "READY" status --state ${ddb} --table n)
expect(0 "\"dry_run\":false,\"changed\":true,.*\"made_ready\":\\[\\]"
       deploy ${WORK_DIR}/d2.textproto --state ${ddb} --adopt m --json)
expect(0 "pipeline_updated: 1 table changed \\(m\\); adopted m" history --state ${ddb})
expect(0 "m/p1 +SUCCEEDED" status --state ${ddb} --table m)
expect(1 "table \"n\" is removed and has task states: force the removal"
       deploy ${WORK_DIR}/d3.textproto --state ${ddb})
expect(0 "table n removed" deploy ${WORK_DIR}/d3.textproto --state ${ddb} --force)
expect(1 "cannot adopt table \"zz\": the pipeline has no such table"
       deploy ${WORK_DIR}/d3.textproto --state ${ddb} --adopt zz)
# Every command that takes a spec reads YAML (.yaml, .yml) too.
set(ydb ${WORK_DIR}/yaml.db)
file(REMOVE ${ydb} ${ydb}-wal ${ydb}-shm ${ydb}-queue)
file(WRITE ${WORK_DIR}/y1.yaml "name: y\ntable:\n  - {name: a, source: true}\n  - name: m\n    upstream: a\n")
file(WRITE ${WORK_DIR}/y2.yml "name: y\ntable:\n  - {name: a, source: true}\n  - {name: b, source: true}\n  - name: m\n    upstream: [a, b]\n    trigger: ANY\n")
file(WRITE ${WORK_DIR}/ybad.yaml "table:\n  - name: a\n    sorce: true\n")
expect(0 "^y: 2 tables \\(1 source, 1 derived\\)" validate ${WORK_DIR}/y1.yaml)
expect(1 "ybad.yaml:3:5: unknown key \"sorce\" in table\\[0\\] \\(did you mean \"source\"\\?\\)"
       validate ${WORK_DIR}/ybad.yaml)
expect(0 "" dot ${WORK_DIR}/y2.yml -o ${WORK_DIR}/y2.dot)
file(WRITE ${WORK_DIR}/y.jsonl "{\"event_id\":\"e1\",\"table\":\"a\",\"partition\":\"p1\",\"at\":\"2018-11-04T01:00:00Z\"}\n")
expect(0 "\"table\":\"m\",\"partition\":\"p1\".*\"summary\"" simulate ${WORK_DIR}/y1.yaml --events ${WORK_DIR}/y.jsonl)
expect(0 "pipeline \"y\", 2 tables" init ${WORK_DIR}/y1.yaml --state ${ydb})
expect(0 "" ingest --state ${ydb} --table a --partition p1 --event-id e1)
expect(0 "table m changed" deploy ${WORK_DIR}/y2.yml --state ${ydb} --adopt m)
# Another pipeline (another name, no table in common) is not a change of
# this one: init and deploy refuse it unless forced.
file(WRITE ${WORK_DIR}/other.textproto "name: \"other\"\ntable { name: \"x\" source: true }\n")
expect(1 "pipeline \"other\" is not a change of the running pipeline \"d\""
       init ${WORK_DIR}/other.textproto --state ${ddb})
expect(1 "pipeline \"other\" is not a change"
       deploy ${WORK_DIR}/other.textproto --state ${ddb})
expect(0 "m/p1" status --state ${ddb} --table m)
expect(0 "pipeline \"other\", 1 table"
       init ${WORK_DIR}/other.textproto --state ${ddb} --force)
# Only init (and run) deploy; another command given another spec is refused.
expect(1 "runs another spec of pipeline \"recruit\"; deploy .* with: [^ ]*landfall init"
       status --state ${db} --spec ${recruit})
expect(0 "tasks" status --state ${db} --spec ${WORK_DIR}/added.textproto)
expect(1 "unknown pool \"redshfit\" \\(did you mean \"redshift\"\\?\\)" claim --state ${db} --worker w1 --pool redshfit)
expect(1 "unknown table \"nope\"" history --state ${db} --table nope)
expect(0 "pruned [1-9][0-9]* entries" history prune --state ${db}
       --before 2100-01-01T00:00:00Z)
expect(0 "^$" history --state ${db})
file(WRITE ${WORK_DIR}/not-a-state.db "hello")
expect(2 "not-a-state.db" status --state ${WORK_DIR}/not-a-state.db)
# A simulation kept in a state file.
file(REMOVE ${WORK_DIR}/sim.db ${WORK_DIR}/sim.db-wal ${WORK_DIR}/sim.db-shm ${WORK_DIR}/sim.db-queue)
expect(0 "{\"summary\"" simulate ${recruit} --events ${here}/events.jsonl
       --state sqlite:${WORK_DIR}/sim.db)
expect(0 "dwh.jalan_reservations/2018-11-03 +SUCCEEDED +1 +1 +2018-11-04T01:01:00Z"
       status --state ${WORK_DIR}/sim.db --table dwh.jalan_reservations)
expect(1 "already holds history" simulate ${recruit} --events ${here}/events.jsonl
       --state sqlite:${WORK_DIR}/sim.db)
# A replay kept in a store with history: the error names that store.
configure_file(${WORK_DIR}/sim.db ${WORK_DIR}/kept.db COPYONLY)
expect(1 "kept.db: the store already holds history" simulate ${recruit}
       --replay-state ${WORK_DIR}/sim.db --state ${WORK_DIR}/kept.db)
# The simulated day replayed: through the same spec it goes as recorded.
expect(0 "\"table\":\"dwh.jalan_reservations\",\"recorded\":{\"partition\":\"2018-11-03\",\"built_at\":\"2018-11-04T01:01:00Z\",\"after\":\"1m\"},\"replayed\":{[^\n]*\"change\":\"0\"}\n.*\"makespan_change\":\"0\"}}\n$"
       simulate ${recruit} --replay-state ${WORK_DIR}/sim.db)
expect(2 "no state store at ${WORK_DIR}/missing.db"
       simulate ${recruit} --replay-state ${WORK_DIR}/missing.db)
expect(2 "excludes" simulate ${recruit} --replay-state ${WORK_DIR}/sim.db
       --events ${here}/events.jsonl)
expect(1 "sim.db: no arrival in the window \\[2018-11-05T00:00:00Z, end\\)"
       simulate ${recruit} --replay-state ${WORK_DIR}/sim.db
       --since 2018-11-05T00:00:00Z)
file(REMOVE ${WORK_DIR}/replay-empty.db)
expect(0 "" init ${recruit} --state ${WORK_DIR}/replay-empty.db)
expect(1 "replay-empty.db: the history is empty"
       simulate ${recruit} --replay-state ${WORK_DIR}/replay-empty.db)

# Partition windows: the daily mart runs once its 24 hours are in, the day
# short of an hour waits, and a key off the table's format is refused.
expect(0 "\"mart.daily_clicks\",\"partition\":\"2018-11-02\",\"attempt\":1,[^\n]*SUCCEEDED[^\n]*\n{\"summary\":{\"attempts\":1,"
       simulate ${here}/windows.textproto --events ${here}/windows-events.jsonl)
file(WRITE ${WORK_DIR}/windows-bad.jsonl "{\"event_id\":\"b1\",\"table\":\"lake.clicks\",\"partition\":\"2018-11-3T01\",\"at\":\"2018-11-03T01:00:00Z\"}\n")
expect(1 "windows-bad.jsonl:1: event b1: partition \"2018-11-3T01\" of table \"lake.clicks\" does not match its partition_format \"%Y-%m-%dT%H\""
       simulate ${here}/windows.textproto --events ${WORK_DIR}/windows-bad.jsonl)

# --dedup-retention: how long an event id is a duplicate, on every command
# that opens a scheduler.
set(dedup ${WORK_DIR}/dedup.db)
file(REMOVE ${dedup} ${dedup}-wal ${dedup}-shm ${dedup}-queue)
set(arrival --table jalan.reservations --partition 2018-11-03 --event-id e1)
expect(0 "^e1: made ready" ingest --spec ${recruit} --state ${dedup} ${arrival})
execute_process(COMMAND ${CMAKE_COMMAND} -E sleep 1.5)
expect(0 "^e1: duplicate\n$" ingest --state ${dedup} ${arrival})
expect(0 "^e1: (made ready|recorded)" ingest --state ${dedup} ${arrival}
       --dedup-retention 1s)
expect(1 "--dedup-retention: invalid duration \"7d\" \\(a positive duration"
       ingest --state ${dedup} ${arrival} --dedup-retention 7d)
expect(1 "--dedup-retention: invalid duration \"0s\"" status --state ${dedup}
       --dedup-retention 0s)
expect(1 "--dedup-retention: invalid duration" run ${recruit} --state ${dedup}
       --landing ${WORK_DIR} --exec true --dedup-retention soon)
expect(0 "--dedup-retention" run --help)
# run refuses, before it writes any state, executors that leave a table
# that runs without one or name no table or sink of the pipeline (the 19
# warehouse loads have the spec's postgres sink's).
set(noexec ${WORK_DIR}/noexec.db)
file(REMOVE ${noexec})
set(run_recruit run ${recruit} --state ${noexec} --landing ${WORK_DIR})
expect(2 "^no executor for 22 tables \\(of 41 that run\\): \"[^\n]+\" and 17 more \\(set --exec for every table, or --exec-table or --exec-sink for these\\)\n$"
       ${run_recruit})
expect(2 "--exec: the command is empty" ${run_recruit} --exec " ")
expect(2 "--exec-table: expected NAME=COMMAND with a command, got \"dwh.jalan_users= \""
       ${run_recruit} --exec true --exec-table "dwh.jalan_users= ")
expect(2 "^--exec-table: unknown table \"dwh.jalan_user\" \\(did you mean \"dwh.jalan_users\"\\?\\)\n--exec-sink: unknown sink \"redshift_cpy\" \\(did you mean \"redshift_copy\"\\?\\)\n$"
       ${run_recruit} --exec true --exec-table dwh.jalan_user=true
       --exec-sink redshift_cpy=true)
expect(2 "--exec-table: table \"jalan.users\" is a source table: it runs nothing"
       ${run_recruit} --exec true --exec-table jalan.users=true)
if(EXISTS ${noexec})
  message(FATAL_ERROR "run with executors refused wrote ${noexec}")
endif()
# Arrivals 5 s apart are no duplicates with a 2 s window.
expect(0 "^{\"table\":" simulate ${recruit} --events ${here}/events.jsonl
       --dedup-retention 2s)
expect(1 "--dedup-retention: invalid duration" simulate ${recruit}
       --events ${here}/events.jsonl --dedup-retention -1s)

# The demo: a day of loads in seconds, ending with freshness and a graph.
file(REMOVE_RECURSE ${WORK_DIR}/demo)
# The load that failed once and was retried counts as built (exit 0), its
# attempts as one retryable and one succeeded.
expect(0 "ran [0-9]+ attempts: [0-9]+ succeeded, 1 retryable, 0 fatal, 0 left to lease expiry\n41 tasks: .*\ndwh.jalan_reservations +2018-11-03 +[-0-9T:]+Z +2\n.*adhoc.kpi_anomalies +2018-11-03 +[-0-9T:]+Z +1\n.*final-state.dot"
       demo --dir ${WORK_DIR}/demo)
file(READ ${WORK_DIR}/demo/final-state.dot dot)
# Its closing hints work as printed (landfall is not on PATH here).
if(NOT expect_output MATCHES "render it with: ([^)]*)\\)\nLook around: ([^\n]*)")
  message(FATAL_ERROR "the demo closes without its hints:\n${expect_output}")
endif()
set(hints "${CMAKE_MATCH_2}")
find_program(graphviz_dot dot)
if(graphviz_dot)
  list(APPEND hints "${CMAKE_MATCH_1}")
endif()
foreach(hint IN LISTS hints)
  execute_process(COMMAND sh -c "${hint}" RESULT_VARIABLE rc
                  OUTPUT_VARIABLE hint_out ERROR_VARIABLE hint_err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the demo's hint `${hint}` failed (${rc}):\n${hint_out}${hint_err}")
  endif()
endforeach()
if(NOT dot MATCHES "\"dwh.jalan_reservations\" -> \"mart.jalan_daily_bookings\"")
  message(FATAL_ERROR "the demo's final state graph lacks its edges:\n${dot}")
endif()
# The state graph of a store, whole or around one table, with its legend.
expect(0 "^digraph \"recruit\" {.*\"dwh.jalan_reservations\" \\[label=\"dwh.jalan_reservations\\\\nsucceeded\", shape=box.*subgraph cluster_legend"
       dot --state ${WORK_DIR}/demo/state.db)
expect(0 "label=\"within 1 edge of dwh.jalan_reservations\"" dot --state
       ${WORK_DIR}/demo/state.db --table dwh.jalan_reservations --depth 1)
expect(1 "unknown table \"dwh.jalan_reservation\" \\(did you mean" dot --state
       ${WORK_DIR}/demo/state.db --table dwh.jalan_reservation)
expect(2 "dot: give SPEC, --state URI, or both" dot)
expect(2 "--listen: expected HOST:PORT \\(for example 127.0.0.1:8080" serve
       --state ${WORK_DIR}/demo/state.db --listen 8080)
expect(2 "no state store at ${WORK_DIR}/missing.db" serve
       --state ${WORK_DIR}/missing.db)

# --- Operators acting in bulk, and "-" for an unpartitioned table. ---
set(ops ${WORK_DIR}/ops.db)
file(REMOVE ${ops} ${ops}-wal ${ops}-shm ${ops}-queue)
file(WRITE ${WORK_DIR}/ops.jsonl
  "{\"event_id\":\"o1\",\"table\":\"jalan.reservations\",\"partition\":\"2018-11-03\",\"at\":\"2018-11-04T01:00:00Z\"}\n"
  "{\"event_id\":\"o2\",\"table\":\"jalan.reservations\",\"partition\":\"2018-11-04\",\"at\":\"2018-11-05T01:00:00Z\"}\n"
  "{\"event_id\":\"o3\",\"table\":\"jalan.reservations\",\"partition\":\"2018-11-05\",\"at\":\"2018-11-06T01:00:00Z\"}\n"
  "{\"event_id\":\"o4\",\"table\":\"master.prefectures\",\"at\":\"2018-11-06T01:00:00Z\"}\n")
set(jr dwh.jalan_reservations)
expect(0 "" init ${recruit} --state ${ops})
expect(0 "o4: made ready dwh.dim_prefecture\n$" ingest --state ${ops}
       --events ${WORK_DIR}/ops.jsonl)
expect(0 "" claim --state ${ops} --worker w --pool redshift --max 4)
foreach(p 2018-11-03 2018-11-04)
  expect(0 "FATAL; now DEAD" complete --state ${ops} --table ${jr}
         --partition ${p} --attempt 1 --outcome fatal --message boom)
endforeach()
expect(0 "SUCCEEDED; now SUCCEEDED" complete --state ${ops} --table ${jr}
       --partition 2018-11-05 --attempt 1)
# "-", as freshness prints it, names an unpartitioned table's partition.
expect(0 "master.prefectures +- +2018-11-06T01:00:00Z" freshness
       --state ${ops} --table master.prefectures)
expect(0 "^dwh.dim_prefecture attempt 1: lease extended" heartbeat
       --state ${ops} --table dwh.dim_prefecture --partition - --attempt 1)
expect(0 "^dwh.dim_prefecture attempt 1: SUCCEEDED; now SUCCEEDED" complete
       --state ${ops} --table dwh.dim_prefecture --partition - --attempt 1)
expect(0 "^dwh.dim_prefecture SUCCEEDED" explain --state ${ops}
       dwh.dim_prefecture -)
expect(0 "^o5: made ready dwh.dim_prefecture\n$" ingest --state ${ops}
       --table master.prefectures --partition - --event-id o5)
# A partitioned table's partition "-" is a partition like any other.
expect(1 "no task ${jr}/- yet" dlq --state ${ops} redrive ${jr} -)
# Rerun: one task, or a range of the table's partitions, all or none.
expect(1 "--from 2018-11-05 comes after --to 2018-11-03" rerun --state ${ops}
       ${jr} --from 2018-11-05 --to 2018-11-03)
expect(1 "table \"${jr}\" has no task with a partition from 2018-12-01 to 2018-12-31"
       rerun --state ${ops} ${jr} --from 2018-12-01 --to 2018-12-31)
expect(1 "table \"dwh.dim_prefecture\" is unpartitioned" rerun --state ${ops}
       dwh.dim_prefecture --from a --to b)
expect(2 "PARTITION excludes --from" rerun --state ${ops} ${jr} 2018-11-05
       --from 2018-11-05 --to 2018-11-05)
expect(1 "${jr}/2018-11-04 is dead: redrive it instead" rerun --state ${ops}
       ${jr} --from 2018-11-04 --to 2018-11-05)
expect_no("rerun_requested" history --state ${ops} --table ${jr})
expect(0 "^rerun requested ${jr}/2018-11-05\n(rerun requested [^\n]+/2018-11-05 \\(descendant\\)\n)+$"
       rerun --state ${ops} ${jr} 2018-11-05 --with-descendants)
# A partition nothing has landed for has no task to rerun.
expect(1 "no task ${jr}/2099-01-01 yet" rerun --state ${ops} ${jr} 2099-01-01)
expect_no("2099-01-01" history --state ${ops} --table ${jr})
expect(0 "^{\"done\":\"rerun_requested\",\"table\":\"dwh.dim_prefecture\",\"partition\":\"\",\"descendant\":false}\n({\"done\":\"rerun_requested\",\"table\":\"[^\"]+\",\"partition\":\"[^\"]*\",\"descendant\":true}\n)+$"
       rerun --state ${ops} dwh.dim_prefecture - --with-descendants --json)
# The dead letter: redriven by table, or all at once.
expect(2 "give TABLE \\[PARTITION\\], --table TABLE or --all" dlq --state ${ops}
       redrive)
expect(1 "unknown table \"nope\"" dlq --state ${ops} redrive --table nope)
expect(0 "^no dead task of table dwh.jalan_users to redrive\n$" dlq
       --state ${ops} redrive --table dwh.jalan_users)
expect(0 "^redriven ${jr}/2018-11-03\nredriven ${jr}/2018-11-04\n$" dlq
       --state ${ops} redrive --table ${jr})
expect(0 "^no dead task to redrive\n$" dlq --state ${ops} redrive --all)
expect(0 "" claim --state ${ops} --worker w --pool redshift --max 4)
foreach(p 2018-11-03 2018-11-04)
  expect(0 "FATAL; now DEAD" complete --state ${ops} --table ${jr}
         --partition ${p} --attempt 2 --outcome fatal --message boom)
endforeach()
expect(0 "^{\"done\":\"redriven\",\"table\":\"${jr}\",\"partition\":\"2018-11-03\"}\n{\"done\":\"redriven\",\"table\":\"${jr}\",\"partition\":\"2018-11-04\"}\n$"
       dlq --state ${ops} redrive --all --json)
expect(0 "^rerun requested ${jr}/2018-11-04\nrerun requested ${jr}/2018-11-05\n$"
       rerun --state ${ops} ${jr} --from 2018-11-04 --to 2018-11-05)
expect(0 "^marked succeeded ${jr}/2018-11-03\n$" mark-succeeded --state ${ops}
       ${jr} 2018-11-03)
expect(1 "unknown table \"nope\"" mark-succeeded
       --state ${ops} nope x)
# Pools and classes change without a restart.
expect(0 "^resized pool redshift to 10 slots\n$" resize-pool --state ${ops}
       redshift 10)
expect(1 "pool \"redshift\": slots must be at least 1 \\(got 0\\)" resize-pool
       --state ${ops} redshift 0)
expect(1 "unknown pool \"nope\"" resize-pool --state ${ops} nope 3)
expect(0 "^moved table dwh.dim_prefecture to class adhoc\n$" set-class
       --state ${ops} dwh.dim_prefecture adhoc)
expect(1 "unknown priority class \"nope\"" set-class --state ${ops}
       dwh.dim_prefecture nope)
# History: arrivals say when they landed; --since takes a duration.
expect(0 "pool_resized pool redshift slots 10\n.*class_changed dwh.dim_prefecture class adhoc\n$"
       history --state ${ops} --since 1h)
expect(0 "arrival jalan.reservations/2018-11-03 event o1 landed 2018-11-04T01:00:00Z\n"
       history --state ${ops} --since 2h)
expect(0 "^$" history --state ${ops} --since 0s)
expect(2 "--since: invalid time \"5 minutes\" \\(expected RFC 3339, or a duration such as 5m or 2h"
       history --state ${ops} --since "5 minutes")

# --- Freshness deadlines: a day not built by its deadline is breached. ---
set(dl ${WORK_DIR}/deadline.db)
file(REMOVE ${dl} ${dl}-wal ${dl}-shm ${dl}-queue)
file(WRITE ${WORK_DIR}/deadline.textproto "
table { name: \"raw\" source: true freshness { deadline: \"06:00 Asia/Tokyo\" } }
table { name: \"kept\" source: true }
")
file(WRITE ${WORK_DIR}/deadline.jsonl
  "{\"event_id\":\"d1\",\"table\":\"raw\",\"partition\":\"2018-11-03\",\"at\":\"2018-11-04T01:00:00Z\"}\n")
expect(0 "" init ${WORK_DIR}/deadline.textproto --state ${dl})
expect(0 "" ingest --state ${dl} --events ${WORK_DIR}/deadline.jsonl)
# Every day since 2018-11-03 is due by now; those of the last week count.
expect(3 "^TABLE +LATEST PARTITION +LAST UPDATE +LAG +MAX LAG +STALE +DEADLINE +BREACHED\nraw +2018-11-03 +2018-11-04T01:00:00Z +[0-9hm]+ +- +- +06:00 Asia/Tokyo, day \\+1 +[-0-9]+,[-0-9]+,[-0-9]+ and [0-9]+ more\nkept +never +- +- +- +- +-\n$"
       freshness --state ${dl})
expect(3 "^{\"table\":\"raw\",\"latest_partition\":\"2018-11-03\",\"last_update\":\"2018-11-04T01:00:00Z\",\"lag\":\"[0-9hm]+\",\"max_lag\":\"-\",\"deadline\":\"06:00 Asia/Tokyo, day \\+1\",\"deadlines\":\\[{\"partition\":\"[-0-9]+\",\"due\":\"[-0-9]+T21:00:00Z\",\"breached\":true}[^\n]*\"breached\":\\[\"[-0-9]+\"[^\n]*\"stale\":false}\n"
       freshness --state ${dl} --json)
expect(0 "^TABLE.*\nkept +never +- +- +- +- +-\n$" freshness --state ${dl} --table kept)
file(WRITE ${WORK_DIR}/deadline.bad.textproto "table { name: \"raw\" source: true freshness { deadline: \"25:00 UTC\" } }\n")
expect(1 "deadline.bad.textproto:1:[0-9]+: table \"raw\": freshness.deadline: \"25:00 UTC\" is not a deadline"
       validate ${WORK_DIR}/deadline.bad.textproto)
