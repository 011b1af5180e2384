#!/usr/bin/env python3
"""The fault matrix of ci/faults.sh: disk full, kill -9, flipped bytes and two trainers on one run
directory, tried on the embedded tiny ImageNet with the built tools. Python 3 standard library only.

Every trial compares what the tools leave behind with an undisturbed run of the same command
(sha256 of every output file where the tool is deterministic; for train, the evaluation of its
weights with every image's prediction and the per-epoch numbers of its log). Prints one Markdown
table at the end; exits 1 if any trial lost or damaged an output or a tool misbehaved.
"""

import argparse
import hashlib
import os
import random
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


class Matrix:
    def __init__(self, args):
        self.args = args
        self.bin = args.bin
        self.repo = os.path.abspath(args.repo)
        self.rng = random.Random(args.seed)
        self.rows = []
        self.mounts = []
        self.use_tmpfs = not args.no_tmpfs
        self.failed = False
        self.recipe = os.path.join(self.repo, "tools/train/recipes/tiny_cpu.txtpb")

    # ---- processes -------------------------------------------------------------------------------

    def tool(self, name):
        return os.path.join(self.bin, "tools", name, name)

    def run(self, args, fsize=None, timeout=600):
        """Runs args in the scratch directory; returns (exit code, stdout + stderr)."""
        def limit():
            if fsize is not None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        result = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", timeout=timeout, preexec_fn=limit,
                                restore_signals=False)
        return result.returncode, result.stdout

    def must(self, args, **kwargs):
        code, out = self.run(args, **kwargs)
        if code != 0:
            sys.exit("faults: setup step failed (exit %d): %s\n%s" % (code, " ".join(args), out[-3000:]))
        return out

    def log(self, text):
        print("faults: " + text, file=sys.stderr, flush=True)

    # ---- mounts (or per-file size limits) --------------------------------------------------------

    def mount(self, path, size):
        """A tmpfs of `size` bytes at path (made empty); False when mounting is refused."""
        os.makedirs(path, exist_ok=True)
        if not self.use_tmpfs:
            return False
        code = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "tmpfs", path],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        if code != 0:
            self.log("mount -t tmpfs refused: falling back to ulimit -f (per-file size limits)")
            self.use_tmpfs = False
            return False
        self.mounts.append(os.path.abspath(path))
        return True

    def grow(self, path, size):
        subprocess.run(["mount", "-o", "remount,size=%d" % size, path], check=True)

    def release(self, root):
        """Unmounts the tmpfs mounts under root, then removes it."""
        root = os.path.abspath(root)
        for path in [p for p in reversed(self.mounts) if p == root or p.startswith(root + "/")]:
            subprocess.run(["umount", path], check=True)
            self.mounts.remove(path)
        fresh(root)

    def umount_all(self):
        for path in reversed(self.mounts):
            subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL)
        self.mounts = []

    def how_full(self):
        return "tmpfs" if self.use_tmpfs else "ulimit -f"

    # ---- results ---------------------------------------------------------------------------------

    def row(self, fault, target, trials, lost, problems, note=""):
        ok = lost == 0 and not problems
        if not ok:
            self.failed = True
        result = "pass" if ok else "FAIL: " + "; ".join(sorted(set(problems)))[:400]
        if note:
            result += " (" + note + ")"
        self.rows.append((fault, target, str(trials), str(lost), result))
        self.log("%s | %s | %s | %d | %s" % (fault, target, trials, lost, result))

    def table(self):
        lines = ["| fault | tool/file | trials | outputs lost | result |", "| --- | --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in self.rows]
        return "\n".join(lines)


# ---- files -----------------------------------------------------------------------------------------

def sha(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def tree(root, skip=()):
    """relative path -> sha256 of every file under root (names in `skip` left out)."""
    found = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if name in skip or rel in skip:
                continue
            found[rel] = sha(path)
    return found


def failed_naming_the_file(tool, code, out, root, problems):
    """Checks that `tool`, out of space writing under `root`, exited with 1 naming the file and
    left no temporary file; says what is wrong in `problems`."""
    if code != 1:
        problems.append("%s exited with %d on a full disk (expected 1)" % (tool, code))
    if not re.search(re.escape(root) + r"/\S+: (No space|File too large)", out):
        problems.append("the message does not name the file: " + out[-300:])
    if temporaries(root):
        problems.append("temporary files left: " + ",".join(temporaries(root)))


def same_tree(expected, root, problems):
    """Whether the tree under root is `expected`; if not, says how in `problems`."""
    diff = tree_diff(expected, tree(root))
    if diff:
        problems.append("after the rerun: " + diff)
    return not diff


def tree_diff(expected, actual):
    """Short description of how two trees differ ('' when equal)."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = sorted(k for k in set(expected) & set(actual) if expected[k] != actual[k])
    parts = []
    if missing:
        parts.append("missing " + ",".join(missing[:4]))
    if extra:
        parts.append("extra " + ",".join(extra[:4]))
    if changed:
        parts.append("changed " + ",".join(changed[:4]))
    return "; ".join(parts)


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def fresh(path):
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def copy_run(src, dst):
    """A run directory copy: checkpoints hard-linked (train replaces them, never writes into them),
    the rest copied."""
    fresh(dst)
    shutil.copytree(src, dst, copy_function=shutil.copy2, ignore=shutil.ignore_patterns("checkpoints"))
    os.makedirs(os.path.join(dst, "checkpoints"))
    for name in os.listdir(os.path.join(src, "checkpoints")):
        os.link(os.path.join(src, "checkpoints", name), os.path.join(dst, "checkpoints", name))


def unlink_copy(path):
    """Turns a hard link into a file of its own, so that flipping a byte damages this copy only."""
    tmp = path + ".copy"
    shutil.copyfile(path, tmp)
    os.replace(tmp, path)


def temporaries(root):
    return sorted(os.path.relpath(os.path.join(d, n), root)
                  for d, _, names in os.walk(root) for n in names if ".tmp." in n)


# ---- TensorBoard event files: which (step, tag) pairs they hold -----------------------------------

def varint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def fields(data):
    pos = 0
    while pos < len(data):
        key, pos = varint(data, pos)
        kind = key & 7
        if kind == 0:
            value, pos = varint(data, pos)
        elif kind == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif kind == 2:
            size, pos = varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        elif kind == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError("wire type %d" % kind)
        yield key >> 3, value


def event_keys(directory):
    """Sorted (step, tag) of every summary value in the event files of `directory`."""
    keys = []
    for name in sorted(os.listdir(directory)):
        if "tfevents" not in name:
            continue
        data = open(os.path.join(directory, name), "rb").read()
        pos = 0
        while pos + 12 <= len(data):
            (length,) = struct.unpack_from("<Q", data, pos)
            record = data[pos + 12:pos + 12 + length]
            pos += 12 + length + 4
            step = 0
            tags = []
            for number, value in fields(record):
                if number == 2:
                    step = value
                elif number == 5:
                    for n, v in fields(value):
                        if n == 1:
                            tags += [t.decode(errors="replace") for m, t in fields(v) if m == 1]
            keys += [(step, tag) for tag in tags]
    return sorted(keys)


# ---- the matrix ------------------------------------------------------------------------------------

class Faults(Matrix):
    EPOCHS = 3

    def setup(self):
        """The dataset and every tool's undisturbed outputs."""
        m = self.must
        m([os.path.join(self.bin, "testdata/make_tiny_imagenet"), "--out_dir=data_pristine"])
        shutil.copytree("data_pristine", "data")
        self.valprep_cmd = [self.tool("valprep"), "--val_dir=vp/val", "--labels=data/LOC_val_solution.csv",
                            "--synset_mapping=data/LOC_synset_mapping.txt"]
        shutil.copytree("data_pristine/val", "vp/val")
        self.valprep_seconds = self.timed(self.valprep_cmd)
        self.valprep_tree = tree("vp/val")
        m([self.tool("valprep"), "--val_dir=data/val", "--labels=data/LOC_val_solution.csv",
           "--synset_mapping=data/LOC_synset_mapping.txt", "--report=valprep.txtpb"])

        # shard: the trials write into sh/ (the same path each time, since the manifest records its
        # options); the pipeline's own shards are in shards/.
        self.shard_cmd = [self.tool("shard"), "--data=data/train", "--out_dir=sh", "--num_shards=4",
                          "--synset_mapping=data/LOC_synset_mapping.txt", "--threads=2"]
        self.shard_seconds = self.timed(self.shard_cmd)
        self.shard_tree = tree("sh")
        shutil.copytree("sh", "sh_ref")
        fresh("sh")
        m([self.tool("shard"), "--data=data/train", "--out_dir=shards", "--num_shards=4",
           "--synset_mapping=data/LOC_synset_mapping.txt"])
        m([self.tool("shard"), "--data=data/val", "--out_dir=shards", "--num_shards=1",
           "--classes_from=shards/train.manifest.txtpb"])
        m([self.tool("compute_stats"), "--data=shards/train.manifest.txtpb", "--out=stats.txtpb",
           "--resize_shorter=37", "--center_crop=32"])

        self.log("baseline training run (%d epochs)" % self.EPOCHS)
        m(self.train_cmd("run"))
        m(self.eval_cmd("run", "checkpoints/last.ckpt", "run_eval.txtpb"))
        self.run_eval = open("run_eval.txtpb").read()
        self.run_epochs = self.epoch_table("run")
        self.run_events = event_keys("run/tensorboard")
        m(self.eval_cmd("run", "checkpoints/best.ckpt", "eval.pb"))

        # report: the trials write rt/report and rt/README.md.
        shutil.copyfile(os.path.join(self.repo, "tools/report/testdata/golden/README.md")
                        if os.path.exists(os.path.join(self.repo, "tools/report/testdata/golden/README.md"))
                        else os.devnull, "readme_template.md")
        self.report_cmd = [self.tool("report"), "--run_dir=run", "--eval=eval.pb",
                           "--synset_mapping=data/LOC_synset_mapping.txt", "--out_dir=rt/report",
                           "--readme=rt/README.md"]
        self.report_plain_cmd = [c for c in self.report_cmd if not c.startswith("--eval")]
        os.makedirs("rt")
        shutil.copyfile("readme_template.md", "rt/README.md")
        self.must(self.report_plain_cmd)
        self.report_plain_tree = tree("rt")
        fresh("rt")
        os.makedirs("rt")
        shutil.copyfile("readme_template.md", "rt/README.md")
        self.report_seconds = self.timed(self.report_cmd)
        self.report_tree = tree("rt")
        fresh("rt")

    def timed(self, args):
        start = time.monotonic()
        self.must(args)
        return time.monotonic() - start

    def train_cmd(self, run_dir, extra=()):
        return [self.tool("train"), "--config=" + self.recipe, "--train=shards/train.manifest.txtpb",
                "--val=shards/val.manifest.txtpb", "--stats=stats.txtpb", "--run_dir=" + run_dir,
                "--device=cpu", "--threads=2", "--epochs=%d" % self.EPOCHS,
                "--set=data.image_size=32;data.eval_size=32;log_every_steps=1;"
                "checkpoint.every_epochs=1;checkpoint.keep=0"] + list(extra)

    def eval_cmd(self, run_dir, checkpoint, out, stats=None):
        # Run from inside the run directory so that the options recorded in the output are the same.
        cmd = ["env", "-C", run_dir, self.tool("eval"), "--checkpoint=" + checkpoint,
               "--data=" + os.path.abspath("shards/val.manifest.txtpb"), "--resize_shorter=37",
               "--center_crop=32", "--device=cpu", "--predictions", "--out=" + os.path.abspath(out)]
        if stats:
            cmd.append("--stats=" + stats)
        return cmd

    def epoch_table(self, run_dir):
        """epoch,phase,loss,top1,top5,lr of the run's log, as report writes them."""
        out = "epochs_%d" % self.rng.randrange(1 << 30)
        code, text = self.run([self.tool("report"), "--run_dir=" + run_dir, "--out_dir=" + out])
        if code != 0:
            return "report failed: " + text[-300:]
        rows = [",".join(line.split(",")[:6]) for line in open(out + "/train_log.csv").read().splitlines()]
        fresh(out)
        return "\n".join(rows)

    def rerun(self, cmd, problems, same):
        """Runs `cmd` again once space is back; returns its output and 1 if it ended with an output
        lost (`same()` false: it says what in `problems`), else 0."""
        code, out = self.run(cmd)
        if code != 0:
            problems.append("the rerun failed: " + out[-200:])
            return out, 0
        return out, 0 if same() else 1

    def same_run(self, run_dir, problems, what):
        """Whether run_dir ended as the baseline run: same predictions, same epochs in the log and
        the same (step, tag) events."""
        code, text = self.run(self.eval_cmd(run_dir, "checkpoints/last.ckpt", "check_eval.txtpb"))
        if code != 0:
            problems.append("%s: eval of the finished run failed: %s" % (what, text[-200:]))
            return False
        same = True
        if open("check_eval.txtpb").read() != self.run_eval:
            problems.append("%s: the final weights differ from an undisturbed run's" % what)
            same = False
        if self.epoch_table(run_dir) != self.run_epochs:
            problems.append("%s: train_log.pb differs from an undisturbed run's" % what)
            same = False
        if event_keys(os.path.join(run_dir, "tensorboard")) != self.run_events:
            problems.append("%s: the TensorBoard events differ from an undisturbed run's" % what)
            same = False
        return same

    @staticmethod
    def names(text, path):
        return os.path.basename(path) in text

    # ---- 1. disk full ------------------------------------------------------------------------------

    def disk_full_checkpoint(self):
        problems, lost = [], 0
        fresh("df_ckpt")
        ckpt_size = os.path.getsize("run/checkpoints/last.ckpt")
        os.makedirs("df_ckpt/checkpoints")
        # Room for epoch 1's last, epoch_0001 and best, not for epoch 2's last beside them.
        mounted = self.mount("df_ckpt/checkpoints", int(ckpt_size * 3.4))
        code, out = self.run(self.train_cmd("df_ckpt"), fsize=None if mounted else ckpt_size // 2)
        if code == 0:
            problems.append("train did not fail on a full disk")
        elif not re.search(r"checkpoints/\S*ckpt\S*: No space|File too large", out):
            problems.append("the message does not name the checkpoint: " + out[-200:])
        if temporaries("df_ckpt"):
            problems.append("temporary files left: " + ",".join(temporaries("df_ckpt")))
        if mounted:
            # The checkpoints of epoch 1 load and are those of an undisturbed run's epoch 1.
            for name in ("last.ckpt",):
                code, text = self.run(self.eval_cmd("df_ckpt", "checkpoints/" + name, "df_eval.txtpb"))
                if code != 0:
                    lost += 1
                    problems.append("%s no longer loads: %s" % (name, text[-200:]))
            self.must(self.eval_cmd("run", "checkpoints/epoch_0001.ckpt", "df_ref.txtpb"))
            self.run(self.eval_cmd("df_ckpt", "checkpoints/epoch_0001.ckpt", "df_eval.txtpb"))
            if open("df_eval.txtpb").read() != open("df_ref.txtpb").read():
                lost += 1
                problems.append("epoch_0001.ckpt differs from an undisturbed run's")
            self.grow("df_ckpt/checkpoints", ckpt_size * 8)
        out, rerun_lost = self.rerun(self.train_cmd("df_ckpt"), problems, lambda: self.same_run("df_ckpt", problems, "rerun"))
        lost += rerun_lost
        if temporaries("df_ckpt"):
            problems.append("temporary files left after the rerun: " + ",".join(temporaries("df_ckpt")))
        self.row("disk full (" + self.how_full() + ")", "train: checkpoint save", 1, lost, problems)
        self.release("df_ckpt")

    def disk_full_run_file(self, what, subdir):
        """train's log (subdir None: the run directory itself is small) or its event files."""
        problems, lost = [], 0
        root = "df_" + what
        fresh(root)
        if subdir is None:
            # config.txtpb, model_summary.txtpb, train.lock and one train_log.pb fit; the rewrite of
            # the log at the end of epoch 2 (old and new side by side) does not.
            pages = sum(-(-os.path.getsize(os.path.join("run", f)) // PAGE)
                        for f in ("config.txtpb", "model_summary.txtpb", "train.lock"))
            mounted = self.mount(root, (pages + 1) * PAGE)
            limit = os.path.getsize("run/train_log.pb") // 2
            if mounted:
                for big in ("checkpoints", "tensorboard"):
                    os.makedirs(os.path.join(root, big))
                    self.mount(os.path.join(root, big), 1 << 30)
            target = "train_log.pb"
        else:
            os.makedirs(os.path.join(root, subdir))
            mounted = self.mount(os.path.join(root, subdir), PAGE)
            limit = PAGE
            target = "tfevents"
        code, out = self.run(self.train_cmd(root), fsize=None if mounted else limit)
        if code == 0:
            problems.append("train did not fail on a full disk")
        elif not re.search((re.escape(target) if mounted else r"\S") + r"\S*: (No space|File too large)", out):
            # ulimit -f limits each file alike: the first file over the limit fails, whichever it is.
            problems.append("the message does not name %s: %s" % (target, out[-300:]))
        if code < 0 or code > 2:
            problems.append("train exited with %d" % code)
        if mounted:
            # What was written before still reads: every checkpoint loads.
            for name in ("last.ckpt",):
                c, text = self.run(self.eval_cmd(root, "checkpoints/" + name, "df_eval.txtpb"))
                if c != 0:
                    lost += 1
                    problems.append("%s no longer loads" % name)
            if subdir is None and os.path.exists(os.path.join(root, "train_log.pb")):
                c, text = self.run([self.tool("report"), "--run_dir=" + root, "--out_dir=df_report"])
                if c != 0:
                    lost += 1
                    problems.append("the earlier train_log.pb no longer reads: " + text[-200:])
                fresh("df_report")
            for path in self.mounts:
                if path.startswith(os.path.abspath(root)):
                    self.grow(path, 1 << 30)
        out, rerun_lost = self.rerun(self.train_cmd(root), problems, lambda: self.same_run(root, problems, "rerun"))
        lost += rerun_lost
        failed_on = re.search(r"(\S+): (No space|File too large)", out)
        note = "" if mounted or not failed_on else "failed on " + os.path.basename(failed_on.group(1))
        self.row("disk full (" + self.how_full() + ")", "train: " + target, 1, lost, problems, note)
        self.release(root)

    def disk_full_shard(self):
        problems, lost, note = [], 0, ""
        fresh("sh")
        total = sum(os.path.getsize(os.path.join("sh_ref", f)) for f in os.listdir("sh_ref"))
        mounted = self.mount("sh", total // 2)
        code, out = self.run(self.shard_cmd, fsize=None if mounted else 300000)
        failed_naming_the_file("shard", code, out, "sh", problems)
        # Every shard written before the disk filled is the undisturbed run's, and verifies.
        kept = [f for f in os.listdir("sh") if f.endswith(".rec") or f.endswith(".idx")]
        for name in kept:
            if sha(os.path.join("sh", name)) != self.shard_tree.get(name):
                lost += 1
                problems.append(name + " differs from an undisturbed run's")
        if mounted and not any(f.endswith(".rec") for f in kept):
            problems.append("no shard was finished before the disk filled: size the tmpfs again")
        if mounted:
            self.grow("sh", total * 4)
        out, rerun_lost = self.rerun(self.shard_cmd, problems, lambda: same_tree(self.shard_tree, "sh", problems))
        lost += rerun_lost
        reused = re.search(r"reused=(\d+)", out)
        note = "rerun reused %s of 4 shards" % (reused.group(1) if reused else "?")
        code, out = self.run([self.tool("shard"), "--verify=sh/train.manifest.txtpb"])
        if code != 0:
            problems.append("verify after the rerun: " + out[-200:])
        self.row("disk full (" + self.how_full() + ")", "shard: a shard being written", 1, lost, problems,
                 note)
        self.release("sh")

    def disk_full_report(self):
        problems, lost = [], 0
        fresh("rt")
        os.makedirs("rt")
        mounted = self.mount("rt", 64 << 20)
        shutil.copyfile("readme_template.md", "rt/README.md")
        # An earlier report (without --eval) is there; the new one (with --eval) runs out of space.
        self.must(self.report_plain_cmd)
        if mounted:
            free = os.statvfs("rt")
            room = free.f_bavail * free.f_frsize - 3 * PAGE
            with open("rt/filler", "wb") as f:
                f.truncate(0)
                chunk = b"\0" * (1 << 20)
                while room > 0:
                    f.write(chunk[:min(room, len(chunk))])
                    room -= len(chunk)
        code, out = self.run(self.report_cmd, fsize=None if mounted else 8192)
        failed_naming_the_file("report", code, out, "rt", problems)
        # Each file is the earlier report's or the new one's, whole; README and logs.md (written
        # last) still the earlier ones.
        now = tree("rt", skip=("filler",))
        for name, digest in now.items():
            if digest not in (self.report_plain_tree.get(name), self.report_tree.get(name)):
                lost += 1
                problems.append(name + " is neither the earlier nor the new report's")
        for name in ("README.md", "report/logs.md"):
            if now.get(name) != self.report_plain_tree.get(name):
                lost += 1
                problems.append(name + " is not the earlier report's any more")
        if mounted:
            os.unlink("rt/filler")
        lost += self.rerun(self.report_cmd, problems, lambda: same_tree(self.report_tree, "rt", problems))[1]
        self.row("disk full (" + self.how_full() + ")", "report: its outputs", 1, lost, problems)
        self.release("rt")

    # ---- 2. kill -9 ----------------------------------------------------------------------------------

    def kill_trials(self, name, command, seconds, prepare, check, trials):
        """Starts `command` `trials` times, kills it with SIGKILL at a seeded moment within the
        measured duration of an undisturbed run, reruns it to the end and checks the outputs."""
        problems, lost, killed = [], 0, 0
        rng = random.Random("%d-%s" % (self.args.seed, name))
        for trial in range(trials):
            prepare()
            delay = rng.uniform(0, seconds)
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            process.wait()
            code, out = self.run(command)
            if code != 0:
                problems.append("trial %d (kill at %.3fs): the rerun exited %d: %s" % (trial, delay, code, out[-200:]))
                continue
            diff = check()
            if diff:
                lost += 1
                problems.append("trial %d (kill at %.3fs): %s" % (trial, delay, diff))
        return problems, lost, killed

    def kill_shard(self, trials):
        def prepare():
            fresh("sh")
        def check():
            return tree_diff(self.shard_tree, tree("sh"))
        problems, lost, killed = self.kill_trials("shard", self.shard_cmd, self.shard_seconds, prepare, check, trials)
        self.row("kill -9", "shard (train split, 4 shards)", trials, lost, problems,
                 "%d killed mid-run, over %.0f ms" % (killed, self.shard_seconds * 1000))
        fresh("sh")

    def kill_valprep(self, trials):
        def prepare():
            fresh("vp/val")
            shutil.copytree("data_pristine/val", "vp/val")
        def check():
            now = tree("vp/val")
            diff = tree_diff(self.valprep_tree, now)
            # Every image exactly once, in its class folder.
            images = sorted(os.path.basename(p) for p in now)
            if len(images) != len(set(images)):
                diff += " duplicated images"
            if len(images) != len(self.valprep_tree):
                diff += " %d images for %d" % (len(images), len(self.valprep_tree))
            return diff
        problems, lost, killed = self.kill_trials("valprep", self.valprep_cmd, self.valprep_seconds, prepare,
                                                  check, trials)
        self.row("kill -9", "valprep (moves files)", trials, lost, problems,
                 "%d killed mid-run, over %.0f ms" % (killed, self.valprep_seconds * 1000))

    def kill_report(self, trials):
        def prepare():
            fresh("rt")
            os.makedirs("rt")
            shutil.copyfile("readme_template.md", "rt/README.md")
        def check():
            return tree_diff(self.report_tree, tree("rt"))
        problems, lost, killed = self.kill_trials("report", self.report_cmd, self.report_seconds, prepare, check,
                                                  trials)
        self.row("kill -9", "report (--eval --readme)", trials, lost, problems,
                 "%d killed mid-run, over %.0f ms" % (killed, self.report_seconds * 1000))
        fresh("rt")

    # ---- 3. flipped bytes ------------------------------------------------------------------------------

    def offsets(self, path, count, first=None):
        size = os.path.getsize(path)
        rng = random.Random("%d-%s" % (self.args.seed, os.path.basename(path)))
        picks = [rng.randrange(size) for _ in range(count)]
        if first is not None:
            picks[0] = min(first, size - 1)
        return picks

    def flipped(self, kind, reader, src, make_target, command, crc, count, first=None, after=None, note=None):
        """Flips one byte of a copy of `src` at `count` seeded offsets and runs `command` on it.
        With a CRC the reader must fail naming the file and the offset; without, it may refuse
        (naming the file) or go on."""
        problems, detected, tolerated = [], 0, 0
        for offset in self.offsets(src, count, first):
            target = make_target()
            flip(target, offset)
            code, out = self.run(command)
            where = "%s at byte %d" % (os.path.basename(target), offset)
            if code < 0 or code > 2:
                problems.append("%s: %s exited %d" % (where, reader, code))
            elif code != 0:
                detected += 1
                if not self.names(out, target):
                    problems.append("%s: the message does not name the file: %s" % (where, out[-200:]))
                elif crc and not re.search(r"offset \d+", out):
                    problems.append("%s: the message does not name the offset: %s" % (where, out[-200:]))
            else:
                tolerated += 1
                if crc:
                    problems.append("%s: %s accepted the damaged file" % (where, reader))
            if after:
                after(code, out, where, problems)
        note = note or "%d refused naming the file%s, %d tolerated" % (detected, " and offset" if crc else "",
                                                                       tolerated)
        self.row("flipped byte", "%s read by %s" % (kind, reader), count, 0, problems, note)

    def flip_shards(self, count):
        def target(name):
            def make():
                fresh("sh")
                shutil.copytree("sh_ref", "sh")
                return "sh/" + name
            return make
        verify = [self.tool("shard"), "--verify=sh/train.manifest.txtpb"]
        self.flipped("shard record file (.rec)", "shard --verify", "sh_ref/train-00001-of-00004.rec",
                     target("train-00001-of-00004.rec"), verify, True, count, first=3)
        self.flipped("shard index (.rec.idx)", "shard --verify", "sh_ref/train-00001-of-00004.rec.idx",
                     target("train-00001-of-00004.rec.idx"), verify, False, count)
        self.flipped("shard manifest (.txtpb)", "shard --verify", "sh_ref/train.manifest.txtpb",
                     target("train.manifest.txtpb"), verify, False, count)

        # A damaged shard is redone by a rerun of the same command: the result is the undisturbed one.
        def redone(code, out, where, problems):
            rc, text = self.run(self.shard_cmd)
            diff = tree_diff(self.shard_tree, tree("sh"))
            if rc != 0 or diff:
                problems.append("%s: the rerun of shard did not repair it: %s %s" % (where, diff, text[-200:]))
        self.flipped("shard record file (.rec)", "shard (rerun)", "sh_ref/train-00002-of-00004.rec",
                     target("train-00002-of-00004.rec"), self.shard_cmd, False, count, after=redone,
                     note="the damaged shard is redone: outputs are the undisturbed run's")
        fresh("sh")

    def flip_checkpoint(self, count):
        def make():
            fresh("fl_run")
            copy_run("run", "fl_run")
            unlink_copy("fl_run/checkpoints/last.ckpt")
            return "fl_run/checkpoints/last.ckpt"
        self.flipped("checkpoint", "eval", "run/checkpoints/last.ckpt", make,
                     self.eval_cmd("fl_run", "checkpoints/last.ckpt", "fl_eval.txtpb"), True, count, first=20)

    def flip_run_files(self, count):
        def copy_of(name):
            def make():
                fresh("fl_run")
                copy_run("run", "fl_run")
                return "fl_run/" + name
            return make
        report = [self.tool("report"), "--run_dir=fl_run", "--eval=fl_run/eval.pb", "--out_dir=fl_report"]
        shutil.copyfile("eval.pb", "run/eval.pb")
        self.flipped("train log (train_log.pb)", "report", "run/train_log.pb", copy_of("train_log.pb"), report,
                     False, count)
        self.flipped("model summary (.txtpb)", "report", "run/model_summary.txtpb", copy_of("model_summary.txtpb"),
                     report, False, count)
        self.flipped("eval result (eval.pb)", "report", "eval.pb", copy_of("eval.pb"), report, False, count)
        os.unlink("run/eval.pb")
        fresh("fl_report")

        def stats():
            shutil.copyfile("stats.txtpb", "fl_stats.txtpb")
            return "fl_stats.txtpb"
        self.flipped("stats (.txtpb)", "eval --stats", "stats.txtpb", stats,
                     self.eval_cmd("run", "checkpoints/last.ckpt", "fl_eval.txtpb",
                                   stats=os.path.abspath("fl_stats.txtpb")), False, count)

    # ---- resuming from damaged files ----------------------------------------------------------------

    def stopped_run(self):
        """A copy of the training run killed (-9) just after epoch 2's checkpoints: run2/."""
        fresh("run2")
        process = subprocess.Popen(self.train_cmd("run2"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while process.poll() is None:
            names = os.listdir("run2/checkpoints") if os.path.isdir("run2/checkpoints") else []
            if "epoch_0002.ckpt" in names:
                time.sleep(0.05)
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        process.wait()
        # What the kill left being written stays: the resumed runs must clean it up.
        self.stopped_temporaries = temporaries("run2")
        return sorted(n for n in os.listdir("run2/checkpoints") if ".tmp." not in n)

    def resume_trials(self, count):
        names = self.stopped_run()
        if "epoch_0002.ckpt" not in names or "epoch_0003.ckpt" in names:
            self.row("flipped byte", "train auto-resume", 0, 0, ["could not stop the run after epoch 2: " + str(names)])
            return
        # Which checkpoints hold epoch 2 (last.ckpt, epoch_0002.ckpt, maybe best.ckpt): compared by
        # what eval makes of them.
        self.must(self.eval_cmd("run2", "checkpoints/epoch_0002.ckpt", "r2_e2.txtpb"))
        newest = ["last.ckpt", "epoch_0002.ckpt"]
        if "best.ckpt" in names:
            self.must(self.eval_cmd("run2", "checkpoints/best.ckpt", "r2_best.txtpb"))
            if open("r2_best.txtpb").read().replace("best.ckpt", "") == \
                    open("r2_e2.txtpb").read().replace("epoch_0002.ckpt", ""):
                newest.append("best.ckpt")
        cases = [(["last.ckpt"], "epoch 2", None), (["last.ckpt"], "epoch 2", 20),
                 (newest, "epoch 1", None)]
        if count < 3:
            cases = [cases[0], cases[2]]
        problems, lost = [], 0
        rng = random.Random("%d-resume" % self.args.seed)
        for damaged, expect, at in cases:
            copy_run("run2", "rs_run")
            for name in damaged:
                path = "rs_run/checkpoints/" + name
                unlink_copy(path)
                flip(path, at if at is not None else rng.randrange(os.path.getsize(path)))
            code, out = self.run(self.train_cmd("rs_run"))
            what = "damaged %s" % "+".join(damaged)
            if code != 0:
                problems.append("%s: the resumed run failed: %s" % (what, out[-300:]))
                continue
            if temporaries("rs_run"):
                problems.append("%s: temporary files left: %s" % (what, ",".join(temporaries("rs_run"))))
            skipped = re.findall(r"skipping a damaged checkpoint: (.*)", out)
            for name in damaged:
                if not any(name in line for line in skipped):
                    problems.append("%s: %s was not named as damaged" % (what, name))
            resumed = re.search(r"resuming \S+: (\d+) epochs", out)
            if not resumed or "epoch " + resumed.group(1) != expect:
                problems.append("%s: resumed from %s, not %s" % (what, resumed.group(0) if resumed else "nothing",
                                                                 expect))
            if not self.same_run("rs_run", problems, what):
                lost += 1
        # All checkpoints damaged: refused, naming them.
        copy_run("run2", "rs_run")
        for name in os.listdir("rs_run/checkpoints"):
            unlink_copy("rs_run/checkpoints/" + name)
            flip("rs_run/checkpoints/" + name, 20)
        code, out = self.run(self.train_cmd("rs_run"))
        if code not in (1, 2) or "can be read" not in out and "can be loaded" not in out:
            problems.append("every checkpoint damaged: train exited %d: %s" % (code, out[-300:]))
        self.row("flipped byte", "checkpoints read by train's auto-resume", len(cases) + 1, lost, problems,
                 "newest damaged: resumed from the newest good one; all damaged: refused; the kill left "
                 "%d temporary file(s)" % len(self.stopped_temporaries))
        fresh("rs_run")

    def flip_events(self, count):
        problems, lost = [], 0
        rng = random.Random("%d-events" % self.args.seed)
        tfevents = [n for n in os.listdir("run2/tensorboard") if "tfevents" in n]
        src = os.path.join("run2/tensorboard", tfevents[0])
        size = os.path.getsize(src)
        for trial in range(count):
            copy_run("run2", "rs_run")
            path = os.path.join("rs_run/tensorboard", tfevents[0])
            offset = rng.randrange(size)
            flip(path, offset)
            code, out = self.run(self.train_cmd("rs_run"))
            where = "byte %d" % offset
            if code != 0:
                problems.append("%s: the resumed run failed: %s" % (where, out[-300:]))
                continue
            if not re.search(re.escape(tfevents[0]) + r".*offset \d+", out):
                problems.append("%s: the damaged event file was not named with an offset" % where)
            # The damaged record and those after it are gone; nothing is repeated.
            keys = event_keys("rs_run/tensorboard")
            if len(keys) != len(set(keys)):
                problems.append("%s: repeated events" % where)
        self.row("flipped byte", "TensorBoard events read by train's auto-resume", count, lost, problems,
                 "tolerated: the events from the damaged record on are dropped, the file and offset logged")
        fresh("rs_run")

    def flip_config(self, count):
        problems, lost = [], 0
        rng = random.Random("%d-config" % self.args.seed)
        detected = tolerated = 0
        for trial in range(count):
            copy_run("run2", "rs_run")
            offset = rng.randrange(os.path.getsize("rs_run/config.txtpb"))
            flip("rs_run/config.txtpb", offset)
            code, out = self.run(self.train_cmd("rs_run"))
            if code == 0:
                tolerated += 1
                if not self.same_run("rs_run", problems, "config.txtpb at byte %d" % offset):
                    lost += 1
            elif code in (1, 2) and "config.txtpb" in out:
                detected += 1
            else:
                problems.append("config.txtpb at byte %d: train exited %d: %s" % (offset, code, out[-200:]))
        self.row("flipped byte", "config.txtpb read by train's auto-resume", count, lost, problems,
                 "%d refused naming the file, %d tolerated (rewritten from the checkpoint; the run ends "
                 "as an undisturbed one)" % (detected, tolerated))
        fresh("rs_run")

    # ---- 4. two trainers ------------------------------------------------------------------------------

    def two_trainers(self):
        problems, lost = [], 0
        fresh("tt_run")
        first = subprocess.Popen(self.train_cmd("tt_run"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and first.poll() is None:
            if os.path.exists("tt_run/model_summary.txtpb"):
                break
            time.sleep(0.01)
        code, out = self.run(self.train_cmd("tt_run"))
        if code != 2:
            problems.append("the second train exited %d (expected 2)" % code)
        if "train.lock is locked by process %d" % first.pid not in out:
            problems.append("the message does not name the lock and its holder: " + out[-300:])
        if first.wait() != 0:
            problems.append("the first train failed")
        elif not self.same_run("tt_run", problems, "the first train"):
            lost += 1
        self.row("two trains on one run directory", "train", 1, lost, problems)
        fresh("tt_run")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", required=True, help="bazel-bin")
    parser.add_argument("--repo", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kills", type=int, default=0, help="kill -9 trials per tool (default 20, --quick 5)")
    parser.add_argument("--flips", type=int, default=0, help="offsets per file kind (default 3, --quick 1)")
    parser.add_argument("--no_tmpfs", action="store_true", help="use ulimit -f instead of tmpfs mounts")
    parser.add_argument("--only", default="", help="comma-separated groups: kill,flip,resume,full,lock")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    kills = args.kills or (5 if args.quick else 20)
    flips = args.flips or (1 if args.quick else 3)

    scratch = tempfile.mkdtemp(prefix="forge-faults.")
    faults = Faults(args)
    start = time.monotonic()
    try:
        os.chdir(scratch)
        faults.log("scratch directory " + scratch + ", seed %d" % args.seed)
        faults.setup()
        groups = {
            "kill": lambda: (faults.kill_shard(kills), faults.kill_valprep(kills), faults.kill_report(kills)),
            "flip": lambda: (faults.flip_shards(flips), faults.flip_checkpoint(flips), faults.flip_run_files(flips)),
            "resume": lambda: (faults.resume_trials(flips), faults.flip_events(flips), faults.flip_config(flips)),
            "full": lambda: (faults.disk_full_shard(), faults.disk_full_report(), faults.disk_full_checkpoint(),
                             faults.disk_full_run_file("log", None),
                             faults.disk_full_run_file("events", "tensorboard")),
            "lock": faults.two_trainers,
        }
        for name in (args.only.split(",") if args.only else groups):
            groups[name]()
    finally:
        os.chdir("/")
        faults.umount_all()
        if args.keep:
            faults.log("kept " + scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(faults.table())
    print("\n%d rows, %s, %.0f s (seed %d)" % (len(faults.rows), "FAILED" if faults.failed else "all passed",
                                                time.monotonic() - start, args.seed))
    return 1 if faults.failed else 0


if __name__ == "__main__":
    sys.exit(main())
