"""Repository rule for the CUDA toolkit's headers, which c10d's ProcessGroupNCCL needs.

The toolkit is looked for at $CUDA_HOME, else /usr/local/cuda. Nothing of it is linked: the
CUDA and NCCL code runs inside LibTorch's own libraries. Where no toolkit with nccl.h is found,
@cuda//:nccl_headers is an empty library without FORGE_HAS_NCCL, and the tools build without
NCCL (they then train on one GPU, or on CPUs with Open MPI).
"""

_BUILD = """
load("@rules_cc//cc:defs.bzl", "cc_library")

package(default_visibility = ["//visibility:public"])

cc_library(
    name = "nccl_headers",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp", "include/**/*.inl"]),
    includes = {includes},
    defines = {defines},
)
"""

def _cuda_headers_impl(ctx):
    home = ctx.os.environ.get("CUDA_HOME", "") or "/usr/local/cuda"
    if ctx.path(home + "/include/nccl.h").exists and ctx.path(home + "/include/cuda_runtime_api.h").exists:
        ctx.symlink(home + "/include", "include")
        build = _BUILD.format(includes = repr(["include"]), defines = repr(["FORGE_HAS_NCCL", "USE_C10D_NCCL"]))
    else:
        build = _BUILD.format(includes = "[]", defines = "[]")
    ctx.file("BUILD", build)

cuda_headers = repository_rule(
    implementation = _cuda_headers_impl,
    environ = ["CUDA_HOME"],
    local = True,
)
