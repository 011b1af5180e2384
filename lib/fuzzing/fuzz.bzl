"""cc_fuzz_test: a libFuzzer target and the test that replays its corpus.

    cc_fuzz_test(
        name = "record_reader_fuzz_test",
        srcs = ["record_reader_fuzz_test.cc"],  # defines LLVMFuzzerTestOneInput
        deps = [":record_reader"],
        corpus = [":testdata"],                 # seed files, optional
    )

(deps need not name //lib/fuzzing:fuzz_target: both targets get it)

makes two targets:
  - `name`: a cc_test (any compiler, part of `bazel test //...`) that runs LLVMFuzzerTestOneInput
    on every corpus file, every seed the source generates (ForgeFuzzSeeds, see fuzz_target.h)
    and every file under testdata/fuzz/<name>/, the inputs that once crashed it (regressions).
    `bazel run :name -- --write_seeds=DIR` writes those inputs to DIR instead: the fuzzer's seeds.
  - `name + "_fuzzer"`: the libFuzzer binary, tagged manual and fuzzer; it links only with clang
    under --config=fuzz (ci/fuzz.sh builds and runs every target tagged fuzzer).
A dictionary for the format's keywords, if any, lives at testdata/fuzz/<name>.dict.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def cc_fuzz_test(name, srcs, deps = [], corpus = [], **kwargs):
    regressions = native.glob(["testdata/fuzz/%s/*" % name])
    data = corpus + regressions
    cc_test(
        name = name,
        srcs = srcs,
        deps = deps + ["//lib/fuzzing:fuzz_target", "//lib/fuzzing:replay_main"],
        data = data,
        args = ["$(rootpaths %s)" % label for label in data],
        size = kwargs.pop("size", "small"),
        **kwargs
    )
    cc_binary(
        name = name + "_fuzzer",
        srcs = srcs,
        deps = deps + ["//lib/fuzzing:fuzz_target"],
        linkopts = ["-fsanitize=fuzzer"],
        testonly = True,
        tags = ["manual", "fuzzer"],
    )
