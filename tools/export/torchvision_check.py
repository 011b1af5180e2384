"""Checks our safetensors files against torchvision, both ways (run by torchvision_check_test).

In --dir the C++ test has written, for each --arch, our export of a ResNet with --num_classes
classes, ours_<arch>.safetensors, and ours_<arch>_io.safetensors: tensors "input" (N x 3 x H x W,
already normalised) and "logits" (what our forward pass gives for them). This script:

1. loads ours_<arch>.safetensors into torchvision.models.<arch>(num_classes=...) with
   load_state_dict(strict=True) and compares its logits with ours;
2. runs the README's Python lines (the block with `load_state_dict(state, strict=True)`) on a copy
   of ours_resnet50.safetensors named model.safetensors, then loads the TorchScript file they
   write and compares its logits with ours; the README's ONNX line too when the onnx and
   onnxscript packages are installed (it says so when skipped);
3. writes theirs_<arch>.safetensors, a torchvision model's state dict saved as PyTorch users save
   it (safetensors.torch.save_file), and theirs_<arch>_io.safetensors with inputs and
   torchvision's logits, for the C++ test to load with LoadTrainedModel and compare.

Files are read and written with the PyPI safetensors package when installed, else with the small
reader and writer below (the README's lines then get them as `safetensors.torch`); with the
package, the two are checked against each other.

Tolerance, CPU float32: max |ours - torchvision| <= RTOL * max |torchvision| elementwise over the
logits (RTOL = 1e-5). The same ATen kernels run on both sides, so the logits are expected to agree
far more closely; the measured differences are printed.
"""

import argparse
import json
import os
import shutil
import sys
import types

import torch
import torchvision

RTOL = 1e-5

DTYPES = {
    "BOOL": torch.bool, "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16, "I32": torch.int32,
    "I64": torch.int64, "F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32,
    "F64": torch.float64,
}
NAMES = {dtype: name for name, dtype in DTYPES.items()}


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file: a plain reader of the format, no checks."""
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    buffer = data[8 + n:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = DTYPES[entry["dtype"]]
        if end > begin:
            tensor = torch.frombuffer(bytearray(buffer[begin:end]), dtype=dtype)
        else:
            tensor = torch.empty(0, dtype=dtype)
        tensors[name] = tensor.reshape(entry["shape"])
    return tensors, metadata


def write_safetensors(tensors, path, metadata=None):
    """A safetensors file of `tensors` (name -> tensor), laid out as the reference writer does."""
    header = {"__metadata__": metadata} if metadata else {}
    chunks, offset = [], 0
    names = sorted(tensors, key=lambda name: (-tensors[name].element_size(), name))
    for name in names:
        tensor = tensors[name].detach().cpu().contiguous()
        raw = tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
        header[name] = {"dtype": NAMES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(chunks))


try:
    import safetensors.torch as safetensors_torch
    from safetensors import safe_open
    HAVE_SAFETENSORS = True
except ImportError:
    HAVE_SAFETENSORS = False
    # The README's `from safetensors.torch import load_file` gets the reader above.
    package = types.ModuleType("safetensors")
    safetensors_torch = types.ModuleType("safetensors.torch")
    safetensors_torch.load_file = lambda path: read_safetensors(path)[0]
    safetensors_torch.save_file = lambda tensors, path, metadata=None: write_safetensors(tensors, path, metadata)
    package.torch = safetensors_torch
    sys.modules["safetensors"] = package
    sys.modules["safetensors.torch"] = safetensors_torch


def load(path):
    tensors = safetensors_torch.load_file(path)
    if HAVE_SAFETENSORS:
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
        ours, our_metadata = read_safetensors(path)
        assert our_metadata == metadata, path
        assert ours.keys() == tensors.keys() and all(torch.equal(ours[k], tensors[k]) for k in ours), path
    else:
        metadata = read_safetensors(path)[1]
    return tensors, metadata


def difference(a, b):
    """max |a - b| / max |b|: the relative difference the tolerance bounds."""
    return ((a - b).abs().max() / b.abs().max()).item()


def check(name, measured, failures):
    ok = measured <= RTOL
    print(f"{name}: max |diff| / max |logit| = {measured:.3g} ({'ok' if ok else 'FAILED'}, tolerance {RTOL:g})")
    if not ok:
        failures.append(name)


def readme_block(readme, needle):
    """The README's ```python block holding `needle`."""
    blocks = readme.split("```python\n")[1:]
    for block in blocks:
        code = block.split("```")[0]
        if needle in code:
            return code
    raise SystemExit(f"README.md has no ```python block with {needle!r}")


def check_ours(arch, num_classes, directory, failures):
    tensors, metadata = load(os.path.join(directory, f"ours_{arch}.safetensors"))
    io = load(os.path.join(directory, f"ours_{arch}_io.safetensors"))[0]
    assert metadata["architecture"] == arch and metadata["num_classes"] == str(num_classes), metadata
    assert len(json.loads(metadata["classes"])) == num_classes and metadata["blurpool"] == "false", metadata
    model = getattr(torchvision.models, arch)(num_classes=num_classes).eval()
    model.load_state_dict(tensors, strict=True)
    with torch.no_grad():
        logits = model(io["input"])
    check(f"ours -> torchvision {arch}", difference(io["logits"], logits), failures)
    return io


def check_readme(readme_path, directory, io, failures):
    readme = open(readme_path, encoding="utf-8").read()
    work = os.path.join(directory, "readme")
    os.makedirs(work, exist_ok=True)
    shutil.copy(os.path.join(directory, "ours_resnet50.safetensors"), os.path.join(work, "model.safetensors"))
    cwd = os.getcwd()
    os.chdir(work)
    try:
        scope = {}
        exec(readme_block(readme, "load_state_dict(state, strict=True)"), scope)  # the README's lines, as they are
        traced = torch.jit.load("model.pt")
        with torch.no_grad():
            check("README: TorchScript trace of ours (resnet50)", difference(io["logits"], traced(io["input"])),
                  failures)
        try:
            import onnx  # noqa: F401
            import onnxscript  # noqa: F401
        except ImportError:
            print("README: ONNX line not run (the onnx and onnxscript packages are not installed)")
        else:
            exec(readme_block(readme, "torch.onnx.export"), scope)
            assert os.path.getsize("model.onnx") > 0
            print("README: ONNX export ran")
    finally:
        os.chdir(cwd)


def write_theirs(arch, num_classes, directory, seed):
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)(num_classes=num_classes)
    with torch.no_grad():  # batch norm as after training, so that a mix-up of its tensors shows
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
                module.num_batches_tracked.fill_(11)
    model.eval()
    inputs = torch.randn(3, 3, 80, 80)
    with torch.no_grad():
        logits = model(inputs)
    path = os.path.join(directory, f"theirs_{arch}.safetensors")
    safetensors_torch.save_file(model.state_dict(), path)
    if HAVE_SAFETENSORS:  # our writer's file reads back the same through the package
        write_safetensors(model.state_dict(), path + ".ours")
        again = safetensors_torch.load_file(path + ".ours")
        assert all(torch.equal(again[k], v) for k, v in model.state_dict().items())
        os.remove(path + ".ours")
    safetensors_torch.save_file({"input": inputs, "logits": logits},
                                os.path.join(directory, f"theirs_{arch}_io.safetensors"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--readme", required=True)
    parser.add_argument("--arch", action="append", required=True)
    parser.add_argument("--num_classes", type=int, required=True)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, safetensors "
          f"{'package' if HAVE_SAFETENSORS else 'not installed: the reader and writer of this script'}")
    failures = []
    ios = {arch: check_ours(arch, args.num_classes, args.dir, failures) for arch in args.arch}
    if "resnet50" in ios:
        check_readme(args.readme, args.dir, ios["resnet50"], failures)
    for seed, arch in enumerate(args.arch):
        write_theirs(arch, args.num_classes, args.dir, seed)
    if failures:
        print("FAILED: " + ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
