"""One macro that compiles .proto files to a C++ library with Debian's protoc."""

load("@rules_cc//cc:defs.bzl", "cc_library")

def cc_proto(name, srcs, deps = [], visibility = None):
    """Generates `<name>`, a cc_library of the messages in `srcs`.

    Args:
      name: the cc_library's name.
      srcs: .proto files of this package, imported by others as "proto/<file>".
      deps: cc_proto targets whose .proto files `srcs` import.
      visibility: as usual.
    """
    stems = [src[:-len(".proto")] for src in srcs]
    native.filegroup(
        name = name + "_protos",
        srcs = srcs + [dep + "_protos" for dep in deps],
        visibility = visibility,
    )
    native.genrule(
        name = name + "_genproto",
        srcs = srcs + [dep + "_protos" for dep in deps],
        outs = [s + ".pb.h" for s in stems] + [s + ".pb.cc" for s in stems],
        cmd = "protoc --proto_path=. --cpp_out=$(GENDIR) " +
              " ".join(["$(location %s)" % src for src in srcs]),
    )
    cc_library(
        name = name,
        srcs = [s + ".pb.cc" for s in stems],
        hdrs = [s + ".pb.h" for s in stems],
        copts = ["-Wno-unused-parameter"],
        deps = deps + ["@system//:protobuf"],
        visibility = visibility,
    )
