# ROS 2 wheels from the Python package registry export CMake targets whose include folders name
# their build machine (/opt/python/...); CMake refuses to generate with a missing include folder.
# Drop folders that do not exist here; on a normal ROS install every folder exists and nothing changes.
function(reasmory_drop_missing_includes)
  get_property(targets DIRECTORY PROPERTY IMPORTED_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
    if(dirs)
      set(existing "")
      foreach(dir IN LISTS dirs)
        if(dir MATCHES "^\\$<" OR EXISTS "${dir}")
          list(APPEND existing "${dir}")
        endif()
      endforeach()
      set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${existing}")
    endif()
  endforeach()
endfunction()
