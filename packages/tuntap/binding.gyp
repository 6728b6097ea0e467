{
  "targets": [
    {
      "target_name": "tuntap",
      "sources": ["tuntap.c"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
