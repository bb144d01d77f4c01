# Google Benchmark for the request-head parser and the chunked decoder
# (included from bench/CMakeLists.txt).
find_package(benchmark REQUIRED)
add_executable(parser_bench ${CMAKE_CURRENT_LIST_DIR}/parser_bench.cpp)
target_include_directories(parser_bench PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../src)
target_link_libraries(parser_bench httpkit benchmark::benchmark)
