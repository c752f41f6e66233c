# Installs the build tree into a scratch prefix, then builds the host project
# in examples/consumer against it twice, through the CMake package and through
# pkg-config, and runs both builds on SPEC; then runs the installed landfall
# command, from the prefix and from a moved copy of it.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DSPEC=... -DBINDIR=bin
#         -P consumer_check.cmake
set(work ${BUILD_DIR}/consumer-check)
set(prefix ${work}/prefix)
file(REMOVE_RECURSE ${work})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

function(expect_summary)
  if(NOT run_output MATCHES "landfall [0-9.]+: recruit has [0-9]+ tables")
    message(FATAL_ERROR "unexpected consumer output: ${run_output}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The CMake package: find_package(landfall) + landfall::landfall.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/consumer -B ${work}/cmake
    -G Ninja -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${work}/cmake)
run(${work}/cmake/consumer ${SPEC})
expect_summary()

# The pkg-config file.
file(GLOB_RECURSE pc_file ${prefix}/*/landfall.pc)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
run(pkg-config --cflags --libs landfall)
string(STRIP "${run_output}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
get_filename_component(lib_dir "${pc_dir}" DIRECTORY)
run(c++ -std=c++17 ${SOURCE_DIR}/examples/consumer/main.cc -o
    ${work}/consumer-pkgconfig ${flags} -Wl,-rpath,${lib_dir})
run(${work}/consumer-pkgconfig ${SPEC})
expect_summary()

# The installed command starts, finding the installed library by its RPATH
# alone, and still does once the tree is moved.
function(expect_command_runs root)
  run(${root}/${BINDIR}/landfall --version)
  if(NOT run_output MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+")
    message(FATAL_ERROR "landfall --version printed: ${run_output}")
  endif()
  run(${root}/${BINDIR}/landfall validate ${SPEC})
  if(NOT run_output MATCHES "^recruit: [0-9]+ tables")
    message(FATAL_ERROR "landfall validate printed: ${run_output}")
  endif()
endfunction()

unset(ENV{LD_LIBRARY_PATH})
expect_command_runs(${prefix})
file(RENAME ${prefix} ${work}/moved)
expect_command_runs(${work}/moved)
