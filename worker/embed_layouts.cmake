# Writes every layouts/<name>.json into a C array of {name, json}, in name order.
file(GLOB files ${DIR}/*.json)
list(SORT files)
set(body "")
set(table "")
set(i 0)
foreach(f ${files})
  get_filename_component(name ${f} NAME_WE)
  if(NOT name MATCHES "^[a-z0-9-]+$")
    message(FATAL_ERROR "layout file ${name}.json: the name must be lower-case letters, digits and '-'")
  endif()
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const char json_${i}[] = {${hex} 0};\n")
  string(APPEND table "  { \"${name}\", json_${i} },\n")
  math(EXPR i "${i} + 1")
endforeach()
if(i EQUAL 0)
  message(FATAL_ERROR "no layouts in ${DIR}")
endif()
file(WRITE ${OUT} "/* Generated from worker/layouts by embed_layouts.cmake. */\n"
  "#include \"layouts_embedded.h\"\n${body}\n"
  "const embedded_layout EMBEDDED_LAYOUTS[] = {\n${table}};\n"
  "const int EMBEDDED_LAYOUT_COUNT = ${i};\n")
