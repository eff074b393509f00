{
  # Built by scripts/build-native.mjs (node-gyp --nodedir=/usr). The CUDA addon is
  # built by the same script with nvcc, not here.
  "targets": [
    {
      "target_name": "tda_native_cpu",
      "sources": [
        "src/addon_cpu.cc",
        "src/kernels.cc",
        "src/prims_avx2.cc",
        "src/prims_scalar.cc",
        "src/thread_pool.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      # Baseline x86-64 for the whole addon (portable); prims_avx2.cc raises its
      # own target to AVX2+FMA and is only called after a cpuid check.
      # -ffp-contract=off: no compiler-invented FMAs, so the summation order and
      # roundings documented in prims.h are the ones that run.
      "cflags_cc": ["-O3", "-std=c++17", "-fexceptions", "-ffp-contract=off", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
