"""Repository rule that locates LibTorch on this machine.

By default LibTorch comes from the pinned PyPI `torch` wheel in the project's virtual
environment, ~/.cache/resnet-forge/venv (ci/setup.sh makes it and installs the wheel), or in the
environment of the interpreter named by `PYTHON=/path/to/python`. `LIBTORCH=/path/to/libtorch`
points at an unpacked official LibTorch archive instead. Nothing is downloaded.
"""

_BUILD = """
load("@rules_cc//cc:defs.bzl", "cc_library")

package(default_visibility = ["//visibility:public"])

# LibTorch headers and libraries, CUDA backend included: the CUDA libraries are linked even
# where no GPU exists (torch::cuda::is_available() is then false) so that one binary serves both.
cc_library(
    name = "torch",
    hdrs = glob(["include/**"]),
    includes = [
        "include",
        "include/torch/csrc/api/include",
    ],
    # c10 and glog both define LOG/CHECK; C10_USE_GLOG makes c10's headers use glog's macros.
    defines = ["C10_USE_GLOG"],
    linkopts = [
        "-L{lib}",
        "-Wl,-rpath,{lib}",
        "-Wl,--push-state,--no-as-needed",
        # libtorch.so exports a copy of std::filesystem whose remove_all crashes on a non-empty
        # directory; libstdc++ named first is searched first, so its definitions serve the process.
        "-lstdc++",
        "-ltorch",
        "-ltorch_cpu",
        "-ltorch_cuda",
        "-lc10_cuda",
        "-lc10",
        "-Wl,--pop-state",
    ],
    deps = ["@system//:glog"],
)

# The version string of the LibTorch in use, e.g. "2.11.0+cu130".
genrule(
    name = "version",
    outs = ["version.txt"],
    cmd = "echo {version} > $@",
)
"""

def _read_wheel_version(ctx, root):
    text = ctx.read(root + "/version.py")
    for line in text.splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("'\"")
    fail("cannot read the torch version from %s/version.py" % root)

def _torch_repository_impl(ctx):
    root = ctx.os.environ.get("LIBTORCH", "")
    if root:
        if not ctx.path(root + "/include/torch").exists:
            fail("LIBTORCH=%s does not look like an unpacked LibTorch archive (no include/torch)" % root)
        version_file = ctx.path(root + "/build-version")
        version = ctx.read(version_file).strip() if version_file.exists else "unknown"
    else:
        python = ctx.os.environ.get("PYTHON", "")
        if not python:
            python = ctx.os.environ.get("HOME", "") + "/" + ctx.attr.venv_python
        if not ctx.path(python).exists:
            fail("%s not found; run ci/setup.sh, or set PYTHON=/path/to/python or LIBTORCH=/path/to/libtorch" % python)
        result = ctx.execute([
            python,
            "-c",
            "import importlib.util as u, sys\n" +
            "s = u.find_spec('torch')\n" +
            "sys.stdout.write(s.submodule_search_locations[0] if s else '')",
        ])
        root = result.stdout.strip()
        if result.return_code != 0 or not root:
            fail("PyPI torch=={v} is not installed for {py}; run ci/setup.sh or set LIBTORCH=/path/to/libtorch".format(
                v = ctx.attr.version,
                py = python,
            ))
        version = _read_wheel_version(ctx, root)
        if version.split("+")[0] != ctx.attr.version:
            fail("found torch {found} at {root}, but this workspace is pinned to {want}; run ci/setup.sh".format(
                found = version,
                root = root,
                want = ctx.attr.version,
            ))
    # The wheel bundles protobuf's headers (include/google) for a protobuf other than Debian's;
    # leaving them out keeps Debian's headers, which match the libprotobuf we link.
    for entry in ctx.path(root + "/include").readdir():
        if entry.basename not in ctx.attr.exclude_headers:
            ctx.symlink(entry, "include/" + entry.basename)
    ctx.file("BUILD", _BUILD.replace("{lib}", str(ctx.path(root + "/lib"))).replace("{version}", version))

torch_repository = repository_rule(
    implementation = _torch_repository_impl,
    attrs = {
        "version": attr.string(mandatory = True, doc = "The pinned PyPI torch version."),
        "venv_python": attr.string(
            default = ".cache/resnet-forge/venv/bin/python3",
            doc = "The project's Python (made by ci/setup.sh), relative to $HOME; $PYTHON overrides.",
        ),
        "exclude_headers": attr.string_list(
            default = ["google", "pybind11"],
            doc = "Top-level entries of LibTorch's include/ that must not shadow system headers.",
        ),
    },
    environ = ["HOME", "LIBTORCH", "PYTHON"],
    local = True,
)
