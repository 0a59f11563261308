# layers.cmake - the architecture of server/, as the build enforces it.
#
# Each folder of server/ is one layer and one static library. A layer may
# use the layers listed before it, never those after: mimic_check_layering()
# fails the configure step on an #include "x.h" whose x.h lives in a later
# layer, naming the file and line, and each library's include path holds
# only its own folder and the folders below, so such an include would not
# compile either. main.c, above every layer, may include any of them.
#
#   util       log, memory, small helpers: needs nothing of ours
#   proto      SMTP vocabulary and pure parsers (commands, DATA, templates)
#   out        what leaves the process: spool (maildir), transcript
#   tls        TLS settings -> SSL_CTX; ClientHello capture
#   middlebox  the pure PIX/ASA rewrites
#   profile    profile files: YAML, schema, loading, rules, --check, listing
#   net        io: sockets, TLS filter, the middlebox chain as a filter
#   smtp       the session: state machine, commands, replies
#   daemon     listeners, workers, signals, session slots
#   api        the HTTP API (--http): session index, routes, metrics
#   cli        the command line: flags, then check / list / serve
set(MIMIC_LAYERS util proto out tls middlebox profile net smtp daemon api cli)

# mimic_check_layering(ROOT LAYERS) - FATAL_ERROR on an upward #include
function(mimic_check_layering root layers)
  set(owner_names "")
  set(index 0)
  foreach(layer ${layers})
    file(GLOB headers RELATIVE ${root}/${layer} ${root}/${layer}/*.h)
    foreach(h ${headers})
      set(owner_${h} ${index})
      set(owner_layer_${h} ${layer})
    endforeach()
    math(EXPR index "${index} + 1")
  endforeach()
  set(index 0)
  set(problems "")
  foreach(layer ${layers})
    file(GLOB sources ${root}/${layer}/*.c ${root}/${layer}/*.h)
    foreach(src ${sources})
      file(STRINGS ${src} lines REGEX "^[ \t]*#[ \t]*include[ \t]+\"")
      file(STRINGS ${src} all)
      foreach(inc ${lines})
        string(REGEX REPLACE ".*include[ \t]+\"([^\"]+)\".*" "\\1" h "${inc}")
        get_filename_component(h ${h} NAME)
        if(DEFINED owner_${h} AND owner_${h} GREATER index)
          list(FIND all "${inc}" lineno)
          math(EXPR lineno "${lineno} + 1")
          file(RELATIVE_PATH rel ${root} ${src})
          string(APPEND problems
            "  ${rel}:${lineno}: layer '${layer}' includes ${h} of the higher layer '${owner_layer_${h}}'\n")
        endif()
      endforeach()
    endforeach()
    math(EXPR index "${index} + 1")
  endforeach()
  if(problems)
    message(FATAL_ERROR "upward dependency between layers (see server/layers.cmake):\n${problems}"
      "Move the code down, or pass what it needs in from above (a callback or a struct).")
  endif()
endfunction()

# Run as a script: cmake -DROOT=dir -P layers.cmake (the layering test).
if(CMAKE_SCRIPT_MODE_FILE AND DEFINED ROOT)
  mimic_check_layering(${ROOT} "${MIMIC_LAYERS}")
endif()
