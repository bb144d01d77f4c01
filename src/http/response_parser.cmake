target_sources(httpkit PRIVATE ${CMAKE_CURRENT_LIST_DIR}/response_parser.cpp)
