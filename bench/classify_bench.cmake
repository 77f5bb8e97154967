# bench_classify: Google Benchmark of the pooler's SQL hot path (sql/classify, sql/session_effects).
# Included from bench/CMakeLists.txt; built only when libbenchmark-dev is installed.
find_package(benchmark QUIET)
if(benchmark_FOUND)
  add_executable(bench_classify ${CMAKE_CURRENT_LIST_DIR}/classify_bench.cpp)
  target_link_libraries(bench_classify PRIVATE pgopt_sql benchmark::benchmark)
else()
  message(STATUS "Google Benchmark not found: bench_classify is not built")
endif()
