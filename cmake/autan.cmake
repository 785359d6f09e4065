# autan_layer(NAME DEPS...): one static library per folder under src/, from
# every .cpp in it except *_test.cpp. Public headers are included as
# "<layer>/<file>.h" from src/.
function(autan_layer name)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  list(FILTER sources EXCLUDE REGEX "_test\\.cpp$")
  if(sources)
    add_library(autan_${name} STATIC ${sources})
    target_include_directories(autan_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(autan_${name} PUBLIC ${ARGN})
  else()  # header-only so far
    add_library(autan_${name} INTERFACE)
    target_include_directories(autan_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(autan_${name} INTERFACE ${ARGN})
  endif()
endfunction()

# autan_unit_tests(LAYER DEPS...): one GoogleTest binary per tests/<layer>/.
function(autan_unit_tests layer)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${layer}/*_test.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(${layer}_test ${sources})
  target_link_libraries(${layer}_test PRIVATE ${ARGN} GTest::gtest GTest::gtest_main)
  # The code under test is optimized in its libraries; the tests themselves
  # need not be, and -O1 compiles them in half the time of -O3.
  target_compile_options(${layer}_test PRIVATE $<$<CONFIG:Release>:-O1>)
  target_compile_definitions(${layer}_test PRIVATE
    AUTAN_TESTDATA="${AUTAN_TESTDATA}" AUTAN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${layer}_test PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()
