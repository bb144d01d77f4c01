# Google Benchmark for the Router's lookup (included from bench/CMakeLists.txt).
find_package(benchmark REQUIRED)
add_executable(router_bench ${CMAKE_CURRENT_LIST_DIR}/router_bench.cpp)
target_include_directories(router_bench PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../src)
target_link_libraries(router_bench httpkit benchmark::benchmark)
