# Installs triage into WORK_DIR/prefix, then configures and builds the
# consumer project (and the README's example) through find_package(triage)
# against the install, its `consumer` through add_subdirectory() of the
# source tree; then once more against
# an install of triage::compiled (separate compilation). Fails on any error.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/triage-build -G ${GENERATOR}
    -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix -DTRIAGE_BUILD_TESTS=OFF -DTRIAGE_BUILD_EXAMPLES=OFF
    -DTRIAGE_BUILD_BENCHMARKS=OFF -DTRIAGE_INSTALL=ON)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/triage-build)

# The README's opening example must compile as a user would write it.
file(READ ${SOURCE_DIR}/README.md readme)
string(REGEX MATCH "```cpp\n([^`]*)```" _ "${readme}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "README.md has no ```cpp example")
endif()
file(WRITE ${WORK_DIR}/readme_example.cpp "${CMAKE_MATCH_1}")

foreach(mode find_package add_subdirectory)
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package/consumer -B ${WORK_DIR}/consumer-${mode} -G ${GENERATOR}
      -DCONSUMER_MODE=${mode} -DTRIAGE_SOURCE_DIR=${SOURCE_DIR}
      -DREADME_EXAMPLE=${WORK_DIR}/readme_example.cpp -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
  if(mode STREQUAL "find_package")
    run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-${mode})
    run(${WORK_DIR}/consumer-${mode}/report_consumer)
  else()
    # The targets resolve from a source tree: one program shows it (each is 15-20 s of compiling).
    run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-${mode} --target consumer)
  endif()
  run(${WORK_DIR}/consumer-${mode}/consumer)
  message(STATUS "consumer via ${mode}: built and ran")
endforeach()

# Separate compilation: triage::compiled installed as a static library, and
# the same consumer linked against it. COMPILED_BUILD_DIR: a build tree that
# has built it already (the test's own), installed as it is.
if(COMPILED_BUILD_DIR)
  run(${CMAKE_COMMAND} --install ${COMPILED_BUILD_DIR} --prefix ${WORK_DIR}/prefix-compiled)
else()
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/compiled-build -G ${GENERATOR}
      -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix-compiled -DTRIAGE_BUILD_TESTS=OFF -DTRIAGE_BUILD_EXAMPLES=OFF
      -DTRIAGE_BUILD_BENCHMARKS=OFF -DTRIAGE_INSTALL=ON -DTRIAGE_SEPARATE_COMPILATION=ON)
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/compiled-build)
  run(${CMAKE_COMMAND} --install ${WORK_DIR}/compiled-build)
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package/consumer -B ${WORK_DIR}/consumer-compiled -G ${GENERATOR}
    -DCONSUMER_MODE=find_package -DCONSUMER_COMPILED=ON -DREADME_EXAMPLE=${WORK_DIR}/readme_example.cpp
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix-compiled)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-compiled)
foreach(program consumer report_consumer)
  run(${WORK_DIR}/consumer-compiled/${program})
endforeach()
message(STATUS "consumer via triage::compiled: built and ran")
