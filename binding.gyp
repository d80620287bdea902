{
  "targets": [
    {
      "target_name": "vap_dtls",
      "sources": [
        "agent/capwap/dtls/native/addon.c",
        "agent/capwap/dtls/native/context.c",
        "agent/capwap/dtls/native/session.c",
        "agent/capwap/dtls/native/x509.c"
      ],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["OPENSSL_API_COMPAT=30000", "OPENSSL_NO_DEPRECATED"]
    },
    {
      "target_name": "vap_tun",
      "sources": ["lab/wan/native/tun.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    },
    {
      "target_name": "vap_udp",
      "sources": ["agent/net/native/udp.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
