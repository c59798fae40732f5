# Writes every migrations/NNN_name.sql into a C array of {version, name, sql}.
file(GLOB files ${DIR}/*.sql)
list(SORT files)
set(body "")
set(table "")
set(i 0)
foreach(f ${files})
  get_filename_component(name ${f} NAME_WE)
  string(REGEX MATCH "^[0-9]+" version ${name})
  if(NOT version)
    message(FATAL_ERROR "migration ${name} does not start with its number")
  endif()
  math(EXPR version "${version} + 0")
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(APPEND body "static const char sql_${i}[] = {${hex} 0};\n")
  string(APPEND table "  { ${version}, \"${name}\", sql_${i} },\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE ${OUT} "/* Generated from server/migrations by embed_migrations.cmake. */\n"
  "#include \"store/migrations.h\"\n${body}\n"
  "const migration MIGRATIONS[] = {\n${table}};\n"
  "const int MIGRATION_COUNT = ${i};\n")
