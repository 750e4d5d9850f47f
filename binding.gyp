{
  "targets": [
    {
      "target_name": "tsbuild_native",
      "sources": ["native/tsbuild-native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
