# bench_advisor_quality: prices a logged workload under one index configuration (planner costs of
# the logged statements plus a write charge), for bench/advisor_quality.sh.
add_executable(bench_advisor_quality ${CMAKE_CURRENT_LIST_DIR}/bench_advisor_quality.cpp)
target_link_libraries(bench_advisor_quality PRIVATE pgopt_analyzer)
