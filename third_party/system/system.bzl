"""Repository rule wrapping Debian's -dev libraries as cc_library targets.

Each target's link flags come from pkg-config, so the set of libraries (Abseil's especially)
follows the installed packages. Most headers live in /usr/include, which the compiler searches
anyway; a library whose headers live elsewhere (Open MPI's) gets its include directories linked
into this repository, since Bazel refuses absolute include paths outside the system's. A
library named in `with_defines` also gets pkg-config's -D flags as its `defines`, for headers whose
declarations change with them (cpp-httplib's classes follow the CPPHTTPLIB_*_SUPPORT macros its
shared library was built with); the others keep only their include paths and link flags.
"""

def _system_libraries_impl(ctx):
    pkg_config = ctx.which("pkg-config")
    if not pkg_config:
        fail("pkg-config not found; run ci/setup.sh")
    rules = ['load("@rules_cc//cc:defs.bzl", "cc_library")', 'package(default_visibility = ["//visibility:public"])']
    for name, modules in ctx.attr.libraries.items():
        result = ctx.execute([pkg_config, "--libs"] + modules)
        if result.return_code != 0:
            fail("pkg-config cannot find {m} for @system//:{n}: {e}\nRun ci/setup.sh to install the Debian packages.".format(
                m = " ".join(modules),
                n = name,
                e = result.stderr.strip(),
            ))
        flags = result.stdout.strip().split(" ")
        includes = []
        cflags = ctx.execute([pkg_config, "--cflags-only-I"] + modules).stdout.strip().split(" ")
        for flag in cflags:
            directory = flag[len("-I"):]
            if not flag.startswith("-I") or directory.startswith("/usr/include"):
                continue
            local = "include/%s/%d" % (name, len(includes))
            ctx.symlink(directory, local)
            includes.append(local)
        defines = ""
        if name in ctx.attr.with_defines:
            other = ctx.execute([pkg_config, "--cflags-only-other"] + modules).stdout.strip().split(" ")
            defines = ", defines = %r" % [f[len("-D"):] for f in other if f.startswith("-D")]
        rules.append("cc_library(name = %r, linkopts = %r, hdrs = glob(%r), includes = %r%s)" % (
            name,
            [f for f in flags if f],
            [d + "/**/*.h" for d in includes],
            includes,
            defines,
        ))
    ctx.file("BUILD", "\n\n".join(rules) + "\n")

system_libraries = repository_rule(
    implementation = _system_libraries_impl,
    attrs = {
        "libraries": attr.string_list_dict(doc = "target name -> pkg-config modules"),
        "with_defines": attr.string_list(doc = "targets whose pkg-config -D flags become defines"),
    },
    environ = ["PKG_CONFIG_PATH"],
    local = True,
)
