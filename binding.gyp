{
  "targets": [
    {
      "target_name": "peercred",
      "sources": ["native/peercred.c"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "spawn",
      "sources": ["native/spawn.c"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
