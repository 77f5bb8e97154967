# bench_router: Google Benchmark of the read/write router (pooler/routing, Router::decide()), issue 5.
# Included from bench/CMakeLists.txt; built only when libbenchmark-dev is installed.
find_package(benchmark QUIET)
if(benchmark_FOUND)
  add_executable(bench_router ${CMAKE_CURRENT_LIST_DIR}/router_bench.cpp)
  target_link_libraries(bench_router PRIVATE pgopt_routing benchmark::benchmark)
else()
  message(STATUS "Google Benchmark not found: bench_router is not built")
endif()
